// Words of the tool loop: what the user reads (plain, friendly Chinese, like replies.ts) and what the
// model reads when a tool fails (what went wrong and what it can do next).
import type { SourceLink, ToolErrorKind } from "./types.js";

export const toolGuidance = (names: readonly string[]): string =>
  `你可以调用这些工具获取信息：${names.join("、")}。需要实时信息、公司通讯录或网页内容时先调用工具，不要编造；` +
  "用到网页搜索或网页内容时，在回答末尾列出所用来源的链接。";

export const iterationLimitNote = (): string => "（查询步骤已达上限，以上是根据目前查到的信息给出的回答。）";

export const budgetNote = (): string => "（查询用时较长，以上是根据目前查到的信息给出的回答。）";

export const nothingFound = (): string => "抱歉，我查了几次还没有得到完整的答案，请换个问法或稍后再试。";

export const sourcesFooter = (links: readonly SourceLink[]): string =>
  `\n\n来源：\n${links.map((l, i) => `${i + 1}. [${l.title.replace(/[[\]]/g, "") || l.url}](${l.url})`).join("\n")}`;

/** The status line while tools run: the first call's own line, plus how many more. */
export const statusLine = (lines: readonly string[]): string =>
  lines.length <= 1 ? (lines[0] ?? "正在查询…") : `${lines[0]}（另有 ${lines.length - 1} 项）`;

export const defaultStatus = (name: string): string => `正在调用工具：${name}`;

const KIND_HINT: Record<ToolErrorKind, string> = {
  bad_args: "参数有误",
  permission: "没有权限",
  not_found: "没有找到",
  http: "服务返回错误",
  timeout: "超时",
  unavailable: "暂时不可用",
  limit: "超出限制",
};

/** The tool result the model reads when a call failed. */
export const toolFailed = (name: string, kind: ToolErrorKind, message: string): string =>
  `工具 ${name} 调用失败（${KIND_HINT[kind]}）：${message}`;

export const unknownTool = (name: string, names: readonly string[]): string =>
  `没有名为 ${name} 的工具。可用的工具：${names.join("、") || "无"}。`;

export const badJson = (detail: string): string => `参数不是合法的 JSON（${detail}）。请用 JSON 对象重新调用。`;

export const tooManyCalls = (max: number): string => `一次最多并行调用 ${max} 个工具，这个调用没有执行，请分步调用。`;

export const repeatedCall = (): string => "（与本轮之前一次相同的调用，结果相同）\n";

export const startedBefore = (): string =>
  "这个操作在上一次尝试中已经开始执行，结果未知；为避免重复，这次没有再执行。请告诉用户可能已经完成，需要时请他确认。";

export const budgetExhausted = (): string => "本轮对话的查询时间已用完，这个调用没有执行。请根据已有信息回答。";
