// The per-turn audit line through the real message path (ingest → processJob): who, conversation,
// model, tokens as the provider reported them over every tool round, cost from model_list[].price, tools
// with their outcome, how the turn ended; no message content unless audit.include_content is on.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ingest } from "../../functions/core/ingest.js";
import type { Job } from "../../functions/core/job.js";
import { processJob } from "../../functions/core/process-job.js";
import { BACKUP_KEY, CLIENT_ID, LLM_KEY, startWorld, type World } from "../helpers/world.js";

const SECRET_QUESTION = "我的工资条里 4711 这个数对吗";
const SECRET_ANSWER = "这个数字看起来是对的，编号 0815";

function models(api_base: string) {
  return {
    model_list: [
      { model_name: "glm", model: "zhipu/glm-4.7", api_key: LLM_KEY, api_base, price: { input: 4, output: 16 } },
      { model_name: "backup", model: "deepseek/deepseek-chat", api_key: BACKUP_KEY, api_base },
    ],
  };
}

function auditLines(w: World): Array<Record<string, unknown>> {
  return w.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "audit");
}

describe("audit line (default: no content)", () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({
      config: (url) => ({
        ...models(url),
        agents: { defaults: { model_name: "glm", model_fallbacks: ["backup"], max_tool_iterations: 3 } },
        limits: { user_messages_per_minute: 3 },
      }),
    });
    w.dt.contacts.addDepartment(10, "研发部").addUser({ userid: "zhangsan01", name: "张三", title: "工程师", deptIds: [10] });
  });
  afterAll(() => w.close());
  afterEach(() => {
    w.dt.reset();
    w.llm.reset();
    w.lines.length = 0;
  });

  it("has one line per answered turn with its figures, and neither the message nor the reply", async () => {
    w.llm.script(
      { toolCalls: [{ name: "find_colleague", arguments: { name: "张三" } }], usage: { prompt_tokens: 1000, completion_tokens: 50, total_tokens: 1050 } },
      { text: SECRET_ANSWER, usage: { prompt_tokens: 1200, completion_tokens: 300, total_tokens: 1500 } },
    );
    await w.deliver({ text: SECRET_QUESTION, staffId: "emp42" });
    expect(w.dt.sent().at(-1)!.text).toBe(SECRET_ANSWER);

    const lines = auditLines(w);
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).toMatchObject({
      level: "info",
      staffId: "emp42",
      conversationId: "cidDirectemp42==",
      conversationType: "direct",
      outcome: "answered",
      model: "glm",
      promptTokens: 2200,
      completionTokens: 350,
      // (2200 × 4 + 350 × 16) / 1e6 CNY
      costCny: 0.0144,
      tools: ["find_colleague:ok"],
      toolCalls: 1,
      toolErrors: 0,
      attempt: 1,
    });
    expect(typeof line.time).toBe("string");
    expect(typeof line.msgId).toBe("string");
    expect(line).not.toHaveProperty("text");
    expect(line).not.toHaveProperty("reply");
    const raw = w.lines.find((l) => l.includes('"msg":"audit"'))!;
    expect(raw).not.toContain("4711");
    expect(raw).not.toContain("0815");
  });

  it("shows the cost as unknown (null) for a model without a price", async () => {
    await w.deliver({ text: "/model backup", staffId: "cheap" });
    w.llm.script({ text: "好的", usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } });
    await w.deliver({ text: "你好", staffId: "cheap" });
    const [command, answer] = auditLines(w);
    expect(command).toMatchObject({ outcome: "command", command: "model", model: null, promptTokens: 0, completionTokens: 0, costCny: 0 });
    expect(command).not.toHaveProperty("text");
    expect(answer).toMatchObject({ outcome: "answered", model: "backup", promptTokens: 10, completionTokens: 2, costCny: null });
  });

  it("records a failed turn with the tokens its answered rounds spent", async () => {
    w.llm.script({ toolCalls: [{ name: "find_colleague", arguments: { name: "张三" } }], usage: { prompt_tokens: 500, completion_tokens: 20, total_tokens: 520 } });
    w.llm.fault("server_error", { sticky: true });
    await w.deliver({ text: "在吗", staffId: "unlucky" });
    expect(auditLines(w).at(-1)).toMatchObject({
      outcome: "failed",
      errorKind: "server",
      staffId: "unlucky",
      model: "glm",
      promptTokens: 500,
      completionTokens: 20,
      costCny: 0.00232,
    });
    w.llm.reset();

    await w.deliver({ text: "/forgot", staffId: "unlucky" });
    expect(auditLines(w).at(-1)).toMatchObject({ outcome: "command", command: "unknown" });
    await w.deliver({ text: "群里 @ 一下", type: "group", mentioned: false, staffId: "quiet" });
    expect(auditLines(w)).toHaveLength(2);
  });

  it("prices each call at its own model: a turn that fell back to a model without a price costs unknown", async () => {
    w.llm.script({ toolCalls: [{ name: "find_colleague", arguments: { name: "张三" } }], usage: { prompt_tokens: 500, completion_tokens: 20, total_tokens: 520 } });
    w.llm.fault("server_error", { match: { model: "glm-4.7" }, sticky: true });
    await w.deliver({ text: "查一下张三", staffId: "mixed" });
    expect(auditLines(w).at(-1)).toMatchObject({ outcome: "answered", model: "backup", costCny: null, tools: ["find_colleague:ok"] });
  });

  it("names the limit that stopped a turn", async () => {
    for (let i = 0; i < 4; i++) await w.deliver({ text: `第${i + 1}条`, staffId: "hasty" });
    expect(auditLines(w).map((l) => l.outcome)).toEqual(["answered", "answered", "answered", "limited"]);
    expect(auditLines(w).at(-1)).toMatchObject({ limit: "user_messages_per_minute", model: null, promptTokens: 0, costCny: 0 });
  });

  it("an attempt that fails (the queue retries it) has a failed line, the retry that answers its own", async () => {
    const body = w.message({ text: "发不出去", staffId: "retry-user" });
    const jobs: Job[] = [];
    await ingest(w.parse(body), body, { ...w.runtime, robotCode: CLIENT_ID, dispatch: (j) => (jobs.push(j), Promise.resolve()) });
    w.dt.fault({ route: "robot.sendBySession", status: 500, times: 4 });
    w.dt.fault({ route: "robot.oToMessages.batchSend", status: 500, times: 4 });
    await expect(processJob(jobs[0], w.runtime)).rejects.toThrow();
    expect(await processJob(jobs[0], w.runtime)).toMatchObject({ status: "done" });
    expect(auditLines(w).map((l) => [l.outcome, l.errorKind, l.attempt, l.staffId])).toEqual([
      ["failed", "job", 1, "retry-user"],
      ["answered", undefined, 1, "retry-user"],
    ]);
  });
});

describe("audit line with audit.include_content", () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ config: (url) => ({ ...models(url), audit: { include_content: true } }) });
  });
  afterAll(() => w.close());

  it("carries the message and the reply", async () => {
    w.llm.script({ text: SECRET_ANSWER });
    await w.deliver({ text: SECRET_QUESTION, staffId: "emp43" });
    const line = auditLines(w).at(-1)!;
    expect(line).toMatchObject({ outcome: "answered", staffId: "emp43", text: SECRET_QUESTION, reply: SECRET_ANSWER });
  });
});
