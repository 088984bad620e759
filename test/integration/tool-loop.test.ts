// The tool loop with the real LlmClient against the LLM double: results handed back, the iteration
// bound and the time budget (best answer so far plus a note), every kind of tool failure returned to
// the model as the call's result, status lines, cited sources, and the journal that keeps a retried
// job from repeating a side effect.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "../../functions/core/config.js";
import { LlmClient, type ChatMessage } from "../../functions/core/llm/index.js";
import { silentLogger } from "../../functions/core/log.js";
import { MemoryJournal } from "../../functions/core/tools/journal.js";
import { runToolLoop, type ToolLoopInput } from "../../functions/core/tools/loop.js";
import { ToolRegistry, type ToolSet } from "../../functions/core/tools/registry.js";
import { ToolError, defineTool, type Tool } from "../../functions/core/tools/types.js";
import { startLlmDouble, type LlmDouble } from "../doubles/llm/server.js";

let A: LlmDouble;
beforeAll(async () => {
  A = await startLlmDouble();
});
afterEach(() => A.reset());
afterAll(() => A.close());

// Generous bounds: on a loaded CI machine a local round trip can take seconds; only the budget test
// below shrinks them on purpose.
function llm(timeoutMs = 30_000): LlmClient {
  const cfg = parseConfig({ model_list: [{ model_name: "m", model: "openai/m-id", api_key: "sk-test-000001", api_base: A.url }] });
  return new LlmClient({ models: cfg.models, agent: { ...cfg.agent, llmTimeoutMs: timeoutMs } });
}

const lookup = defineTool({
  name: "lookup",
  description: "Looks a word up",
  args: z.object({ word: z.string().min(1) }),
  sideEffects: false,
  timeoutMs: 2000,
  status: (a) => `正在查：${a.word}`,
  run: (a) => Promise.resolve({ text: `${a.word} = 42` }),
});

let created = 0;
const createThing = defineTool({
  name: "create_thing",
  description: "Creates a thing (a side effect)",
  args: z.object({ title: z.string() }),
  sideEffects: true,
  timeoutMs: 2000,
  run: (a) => {
    created++;
    return Promise.resolve({ text: `created ${a.title} #${created}` });
  },
});

const failing = (error: Error) =>
  defineTool({ name: "flaky", description: "Fails", args: z.object({}), sideEffects: false, timeoutMs: 2000, run: () => Promise.reject(error) });

const slow = defineTool({
  name: "slow",
  description: "Never answers in time",
  args: z.object({}),
  sideEffects: false,
  timeoutMs: 150,
  run: () => new Promise(() => {}),
});

const search = defineTool({
  name: "search",
  description: "Web search",
  args: z.object({ query: z.string() }),
  sideEffects: false,
  timeoutMs: 2000,
  run: () => Promise.resolve({ text: "结果：今天新闻 A", links: [{ title: "新闻 A", url: "https://news.example.com/a" }] }),
});

async function setOf(...tools: Tool[]): Promise<ToolSet> {
  return new ToolRegistry(tools).forTurn(silentLogger);
}

const question: ChatMessage[] = [
  { role: "system", content: "你是助手" },
  { role: "user", content: "问题" },
];

async function loop(tools: ToolSet, extra: Partial<ToolLoopInput> = {}) {
  return runToolLoop({
    llm: llm(),
    request: { requestId: "req-1" },
    messages: question,
    tools,
    context: {
      messageKey: "robot:msg-1",
      msgId: "msg-1",
      robotCode: "robot",
      sender: { staffId: "staff-1", id: "user-1", nick: "小王" },
      conversation: { id: "conv-1", type: "direct" },
      log: silentLogger,
      now: () => Date.now(),
    },
    maxIterations: 8,
    budgetMs: 120_000,
    ...extra,
  });
}

type Sent = { messages: Array<{ role: string; content: string | null; tool_call_id?: string }>; tools?: Array<{ function: { name: string } }> };
const sent = (i: number) => A.chatRequests()[i]!.body as Sent;
const toolResults = (i: number) => sent(i).messages.filter((m) => m.role === "tool").map((m) => m.content);

describe("the tool loop", () => {
  it("runs the calls, hands the results back and answers from them", async () => {
    A.script(
      { toolCalls: [{ id: "c1", name: "lookup", arguments: { word: "甲" } }, { id: "c2", name: "lookup", arguments: { word: "乙" } }] },
      { text: "甲是 42，乙也是 42。" },
    );
    const statuses: string[] = [];
    const res = await loop(await setOf(lookup), { onStatus: (s) => void statuses.push(s) });
    expect(res.text).toBe("甲是 42，乙也是 42。");
    expect(res.rounds).toBe(2);
    expect(res.calls.map((c) => [c.name, c.ok])).toEqual([
      ["lookup", true],
      ["lookup", true],
    ]);
    expect(toolResults(1)).toEqual(["甲 = 42", "乙 = 42"]);
    expect(sent(0).tools?.map((t) => t.function.name)).toEqual(["lookup"]);
    expect(sent(0).messages[0]!.content).toContain("lookup");
    expect(statuses).toEqual(["正在查：甲（另有 1 项）"]);
    expect(res.transcript.map((m) => m.role)).toEqual(["assistant", "tool", "tool"]);
    expect(res.usage.promptTokens).toBeGreaterThan(0);
  });

  it("holds the iteration bound: after max rounds one last answer without tools, plus a plain note", async () => {
    A.script({ toolCalls: [{ name: "lookup", arguments: { word: "再查" } }], sticky: true, match: { model: "m-id" } });
    const res = await loop(await setOf(lookup), { maxIterations: 3 });
    // 3 rounds offered tools, the 4th had none; the double still "wants" tools but got none offered.
    expect(A.chatRequests()).toHaveLength(4);
    expect(A.chatRequests().map((r) => r.tools.length)).toEqual([1, 1, 1, 0]);
    expect(res.stopped).toBe("iterations");
    expect(res.text).toContain("查询步骤已达上限");
    expect(res.calls.filter((c) => !c.reused)).toHaveLength(1);
    expect(res.calls).toHaveLength(3);
  });

  it("returns bad JSON, bad arguments, unknown tools, tool errors and timeouts to the model as results", async () => {
    A.script(
      {
        toolCalls: [
          { id: "j", name: "lookup", arguments: '{"word": "甲"' },
          { id: "a", name: "lookup", arguments: { word: "" } },
          { id: "u", name: "nope", arguments: {} },
          { id: "p", name: "flaky", arguments: {} },
          { id: "t", name: "slow", arguments: {} },
        ],
      },
      { text: "抱歉，工具出了问题。" },
    );
    const res = await loop(await setOf(lookup, failing(new ToolError("permission", "应用缺少通讯录权限，请管理员开通")), slow));
    expect(res.text).toBe("抱歉，工具出了问题。");
    const results = toolResults(1);
    expect(results[0]).toContain("参数不是合法的 JSON");
    expect(results[1]).toContain("word");
    expect(results[2]).toContain("没有名为 nope 的工具");
    expect(results[3]).toContain("没有权限");
    expect(results[3]).toContain("请管理员开通");
    expect(results[4]).toContain("超时");
    expect(res.calls.map((c) => c.error)).toEqual(["bad_json", "bad_args", "unknown_tool", "permission", "timeout"]);
  });

  it("never leaks an unexpected error's secret into the result", async () => {
    const { registerSecret } = await import("../../functions/core/log.js");
    registerSecret("super-secret-token-1234");
    A.script({ toolCalls: [{ name: "flaky", arguments: {} }] }, { text: "好" });
    await loop(await setOf(failing(new Error("fetch https://x?token=super-secret-token-1234 failed"))));
    expect(toolResults(1)[0]).not.toContain("super-secret-token-1234");
    expect(toolResults(1)[0]).toContain("暂时不可用");
  });

  it("cites the web sources an answer used when the model did not", async () => {
    A.script({ toolCalls: [{ name: "search", arguments: { query: "今天新闻" } }] }, { text: "今天的新闻是 A。" });
    const res = await loop(await setOf(search));
    expect(res.text).toContain("来源：");
    expect(res.text).toContain("https://news.example.com/a");
  });

  it("stops offering tools when the time budget is spent and answers with what it has", async () => {
    A.script({ toolCalls: [{ name: "lookup", arguments: { word: "甲" } }], delayMs: 850 }, { text: "甲是 42" });
    const res = await loop(await setOf(lookup), { budgetMs: 1000 });
    expect(A.chatRequests().map((r) => r.tools.length)).toEqual([1, 0]);
    expect(res.stopped).toBe("budget");
    expect(res.text).toContain("甲是 42");
    expect(res.text).toContain("用时较长");
  });
});

describe("side effects and retries", () => {
  it("a retried turn re-uses the recorded result instead of calling the side-effecting tool again", async () => {
    created = 0;
    const journal = new MemoryJournal();
    const script = () =>
      A.script({ toolCalls: [{ name: "create_thing", arguments: { title: "周会" } }] }, { text: "已创建。" });
    script();
    await loop(await setOf(createThing), { journal });
    expect(created).toBe(1);
    expect(journal.entries).toEqual([{ key: 'create_thing {"title":"周会"}', state: "done", content: "created 周会 #1", ok: true }]);

    A.reset();
    script();
    const again = await loop(await setOf(createThing), { journal });
    expect(created).toBe(1);
    expect(again.calls[0]).toMatchObject({ name: "create_thing", reused: true });
    expect(toolResults(1)).toEqual(["created 周会 #1"]);
  });

  it("a call that started but never reported back is not repeated", async () => {
    created = 0;
    const journal = new MemoryJournal();
    journal.entries = [{ key: 'create_thing {"title":"周会"}', state: "started" }];
    A.script({ toolCalls: [{ name: "create_thing", arguments: { title: "周会" } }] }, { text: "可能已经创建了。" });
    await loop(await setOf(createThing), { journal });
    expect(created).toBe(0);
    expect(toolResults(1)[0]).toContain("为避免重复");
  });
});
