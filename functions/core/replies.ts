// What the bot says in its own words: help, command answers, refusals and plain-Chinese failure
// notes, plus the default system prompt. No stack traces, no secrets, no internal codes.
import type { ModelEndpoint } from "./config.js";
import type { InboundMessage } from "./dingtalk/inbound.js";
import { formatTokens } from "./cost.js";
import type { LimitName } from "./limits.js";
import type { LlmErrorKind } from "./llm/index.js";
import { displayTime, offsetAt, wallClock } from "./proactive/time.js";
import { CARD_BUDGET_SHARE } from "./quota.js";

export const DEFAULT_SYSTEM_PROMPT =
  "你是企业钉钉里的 AI 助手，回答准确、简洁、友好，默认使用中文。" +
  "回复会显示在钉钉里：可以使用标题、列表、加粗、引用和链接；不要使用表格和 HTML。";

/** Where the answer goes: the chat and who asked. */
export interface PromptScene {
  conversation: Pick<InboundMessage["conversation"], "type" | "title">;
  sender: Pick<InboundMessage["sender"], "nick">;
}

export function systemPrompt(custom: string | undefined, msg: PromptScene, now: number, timeZone = "Asia/Shanghai"): string {
  const where =
    msg.conversation.type === "group"
      ? `你在钉钉群「${msg.conversation.title ?? "群聊"}」中，用户消息以“昵称: ”开头。`
      : `你正在和 ${msg.sender.nick || "用户"} 单聊。`;
  const zone = timeZone === "Asia/Shanghai" ? "北京时间" : `${timeZone} 时间`;
  return `${custom ?? DEFAULT_SYSTEM_PROMPT}\n${where}\n当前${zone}：${displayTime(now, timeZone)}，UTC 偏移 ${offsetAt(now, timeZone)}。`;
}

export function help(group: boolean): string {
  return [
    `**我是 AI 助手**，${group ? "在群里 @我 加上你的问题" : "直接发消息"}即可对话，我会记住本次对话的上下文。`,
    "",
    "- `/new` 开始新对话（清空上下文，也可用 `/reset`）",
    "- `/model` 查看当前模型，`/model 名称` 切换模型",
    "- `/usage` 查看你今天和本月的 token 用量、费用和上限",
    "- `/reminders` 查看本对话的提醒，`/reminders cancel 编号` 取消",
    "- `/forget` 删除我保存的关于你的数据（会先请你确认）",
    "- `/help` 显示本帮助",
  ].join("\n");
}

/** `/help` as an ActionCard: the help text with buttons that send the commands (dtmd links). */
export function helpCard(): { title: string; text: string; buttons: { title: string; url: string }[] } {
  const command = (c: string) => `dtmd://dingtalkclient/sendMessage?content=${encodeURIComponent(c)}`;
  return {
    title: "我是 AI 助手",
    text: `${help(false)}\n\n点下面的按钮直接发送命令：`,
    buttons: [
      { title: "开始新对话", url: command("/new") },
      { title: "查看模型", url: command("/model") },
      { title: "查看用量", url: command("/usage") },
    ],
  };
}

export const emptyAnswer = (): string => "（模型这次没有给出可显示的回答，请换个说法再试。）";
export const emptyMention = (): string => "在呢～请在 @我 后面写上你的问题，发送 `/help` 查看可用命令。";
export const notAllowed = (): string => "抱歉，你暂时没有使用这个助手的权限，请联系管理员开通。";
export const reset = (): string => "好的，已开始新对话，之前的上下文已清空。";
export const modelSwitched = (name: string): string => `已切换到模型 **${name}**，仅对本对话生效。`;
export const unknownCommand = (word: string): string => `没有 \`/${word}\` 这个命令。\n\n${help(false)}`;

export function currentModel(current: string | undefined, names: string[], models: ModelEndpoint[]): string {
  if (!current || names.length === 0) return noModel();
  const endpoint = models.find((m) => m.name === current);
  const detail = endpoint ? `（${endpoint.provider}/${endpoint.model}）` : "";
  return `当前模型：**${current}**${detail}\n\n可选模型：${names.map((n) => `\`${n}\``).join("、")}\n\n发送 \`/model 名称\` 切换。`;
}

export function unknownModel(wanted: string, names: string[]): string {
  if (names.length === 0) return noModel();
  return `没有名为 \`${wanted}\` 的模型。可选模型：${names.map((n) => `\`${n}\``).join("、")}`;
}

export interface ApiQuotaView {
  calls: number;
  budget: number;
  /** When AI cards are paused (ms), if they are. */
  cardsPausedUntil?: number;
}

export function usage(u: { promptTokens: number; completionTokens: number }, turns: number, api?: ApiQuotaView): string {
  const lines = [`本对话用量：输入 ${u.promptTokens} tokens，输出 ${u.completionTokens} tokens，当前上下文 ${turns} 条消息。`];
  if (api) {
    lines.push("", `本月钉钉接口调用：${api.calls} / ${api.budget} 次。`);
    if (api.cardsPausedUntil !== undefined) {
      const at = new Date(api.cardsPausedUntil + 8 * 3_600_000).toISOString().slice(11, 16);
      lines.push("", `AI 卡片暂停使用（钉钉接口受限），${at} 后恢复，期间用普通消息回复。`);
    } else if (api.calls >= api.budget * CARD_BUDGET_SHARE) lines.push("", "本月接口调用接近额度，回答改用普通消息（不再使用流式卡片）。");
  }
  return lines.join("\n");
}

const LIMIT_NAMES: Record<LimitName, (max: number) => string> = {
  user_daily_tokens: (max) => `你今天的 AI 用量已达上限（每人每天 ${formatTokens(max)} tokens）`,
  group_daily_tokens: (max) => `本群今天的 AI 用量已达上限（每个群每天 ${formatTokens(max)} tokens）`,
  org_monthly_tokens: (max) => `本月全公司的 AI 用量已达上限（每月 ${formatTokens(max)} tokens）`,
  user_messages_per_minute: (max) => `你发得太快了（每人每分钟最多 ${max} 条消息）`,
};

/** A limit stopped this message: which one, and when it resets (in the org's zone). */
export function limitReached(limit: LimitName, max: number, resetsAt: number, timeZone: string): string {
  const when = limit === "user_messages_per_minute" ? `${wallClock(resetsAt, timeZone).slice(11)} 后` : `${wallClock(resetsAt, timeZone)} 起`;
  return `抱歉，${LIMIT_NAMES[limit](max)}，这条消息没有交给 AI 处理。${when}可以继续使用；发送 \`/usage\` 查看用量。`;
}

/** A scheduled post's prompt not answered because the org's monthly limit is reached. */
export function scheduledPromptLimited(name: string, max: number, resetsAt: number, timeZone: string): string {
  return `定时消息「${name}」这次没有生成：${LIMIT_NAMES.org_monthly_tokens(max)}，${wallClock(resetsAt, timeZone)} 起恢复。`;
}

export const noUsageStore = (): string => "这里没有记录 AI 用量（没有连接用量存储）。";
export const adminOnly = (command: string): string => `抱歉，\`${command}\` 仅限管理员使用。`;

export const forgetUnavailable = (): string => "这里无法删除数据（没有连接存储），请联系管理员。";
export const noUsableModel = (): string => "抱歉，目前没有你可以使用的模型，请联系管理员开通。";
export const modelNotAllowed = (name: string, usable: string[]): string =>
  `抱歉，模型 **${name}** 仅限指定人员使用。你可以使用：${usable.map((n) => `\`${n}\``).join("、")}`;

export const noModel = (): string =>
  "还没有配置可用的模型：请在 config.json 的 `model_list` 里添加模型（例如 `zhipu/glm-4.7` 和 API Key），详见 README。";

export function unsupportedKind(msg: InboundMessage): string | undefined {
  switch (msg.kind) {
    case "video":
      return "暂不支持视频消息，请用文字描述你的问题。";
    case "audio":
      return msg.text.trim() === "" ? "没有听清这条语音（钉钉没有识别出文字），请再说一次或改用文字。" : undefined;
    case "unsupported":
      return `暂不支持这种消息类型（${msg.msgtype || "未知"}），请发送文字消息。`;
    default:
      return undefined;
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / 1024 / 1024) * 10) / 10} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} 字节`;
}

const MEDIA_NAMES = { picture: "图片", file: "文件" } as const;

export const noVisionModel = (): string =>
  "抱歉，当前没有配置能看图片的模型，暂时无法理解图片。请用文字描述你的问题，或请管理员在 `model_list` 中添加支持图片的模型（`vision: true`）。";
export const pictureMarker = (n: number): string => (n > 1 ? `[图片×${n}]` : "[图片]");
export const pictureUnreadable = (): string => "抱歉，这张图片的格式无法识别（支持 JPG、PNG、GIF、WebP、BMP），请换一张再试。";
export const mediaTooLarge = (what: keyof typeof MEDIA_NAMES, limit: number): string =>
  `抱歉，这个${MEDIA_NAMES[what]}太大了（上限 ${formatBytes(limit)}），请压缩或截取一部分后再发。`;
export const mediaDownloadFailed = (what: keyof typeof MEDIA_NAMES): string =>
  `抱歉，没能从钉钉取到这个${MEDIA_NAMES[what]}，请稍后重新发送。`;
export const mediaUnavailable = (what: keyof typeof MEDIA_NAMES): string =>
  `暂不支持${MEDIA_NAMES[what]}消息（机器人未配置钉钉应用凭据），请用文字描述你的问题。`;
export const fileNotText = (name: string): string =>
  `抱歉，「${name}」看起来不是文本文件，我读不了。请把内容粘贴成文字发给我。`;

export function fileTypeUnsupported(name: string): string {
  const which = name ? `「${name}」这种文件` : "这种文件";
  return `暂不支持${which}。目前能读取文本类文件：txt、md、csv、json、yaml、xml、html、log 以及常见源代码（py、js、ts、java、go 等）。其他文件请把内容粘贴成文字发给我。`;
}

/** A text file as the model reads it: its name, its text, and what the user wrote with it. */
export function fileForModel(name: string, content: string, userText: string): string {
  const body = `用户发来文件「${name}」，内容如下：\n<file name="${name.replace(/"/g, "'")}">\n${content}\n</file>`;
  return userText ? `${body}\n\n${userText}` : body;
}

const FAILURE_HINTS: Partial<Record<LlmErrorKind, string>> = {
  moderation: "抱歉，模型服务商拒绝了这条内容（未通过内容安全审核），这条消息不会计入对话。请换个说法再试。",
  rate_limit: "抱歉，AI 模型当前请求太多，暂时无法回答，请稍后再试。",
  quota: "抱歉，AI 模型的额度或余额不足，暂时无法回答。请联系管理员充值或更换模型。",
  auth: "抱歉，AI 模型的 API Key 无效，暂时无法回答。请联系管理员检查配置。",
  timeout: "抱歉，AI 模型响应超时，请稍后再试。",
  network: "抱歉，暂时连不上 AI 模型服务，请稍后再试。",
  server: "抱歉，AI 模型服务暂时出错，请稍后再试。",
  context_length: "抱歉，这条消息太长，超出了模型能处理的长度。请精简后再试，或发送 `/new` 开始新对话。",
  no_model: noModel(),
};

export function llmFailure(kind: LlmErrorKind | "other"): string {
  return FAILURE_HINTS[kind] ?? "抱歉，AI 模型暂时无法回答，请稍后再试。";
}
