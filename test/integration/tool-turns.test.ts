// Tool turns through the real message path (ingest → processJob → agent → Replier): a question that
// needs find_colleague is answered from its result, the tool calls stay with the conversation for the
// follow-up, the iteration bound holds, the status line shows, the job log names every call, and a
// crash between a side-effecting call and the reply does not repeat the call.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ingest } from "../../functions/core/ingest.js";
import { processJob, type WorkerDeps } from "../../functions/core/process-job.js";
import { createRuntime } from "../../functions/core/runtime.js";
import type { ConversationStore } from "../../functions/core/store/conversations.js";
import { defineTool } from "../../functions/core/tools/index.js";
import { CLIENT_ID, startWorld, type World } from "../helpers/world.js";

let w: World;
let created = 0;
const booking = defineTool({
  name: "book_room",
  description: "Books a meeting room (a side effect)",
  args: z.object({ room: z.string() }),
  sideEffects: true,
  timeoutMs: 2000,
  status: (a) => `正在预订：${a.room}`,
  run: (a) => {
    created++;
    return Promise.resolve({ text: `已预订 ${a.room}，编号 R${created}` });
  },
});

beforeAll(async () => {
  w = await startWorld({ config: { agents: { defaults: { max_tool_iterations: 3 } } } });
  w.dt.contacts.addDepartment(10, "研发部").addUser({ userid: "zhangsan01", name: "张三", title: "高级工程师", deptIds: [10], mobile: "13800000000" });
});
afterAll(() => w.close());
afterEach(() => {
  w.dt.reset();
  w.llm.reset();
});

async function job(text: string, staffId: string) {
  const body = w.message({ text, staffId });
  const jobs: unknown[] = [];
  await ingest(w.parse(body), body, { ...w.runtime, robotCode: CLIENT_ID, dispatch: (j) => (jobs.push(j), Promise.resolve()) });
  return jobs[0];
}

type Wire = { messages: Array<{ role: string; content: string | null; tool_calls?: unknown[] }> };
const wire = (i: number) => w.llm.chatRequests()[i]!.body as Wire;

describe("tool turns through the message path", () => {
  it("answers 张三是哪个部门的？ from find_colleague's result, with one status line first", async () => {
    w.llm.script({ toolCalls: [{ name: "find_colleague", arguments: { name: "张三" } }] }, { text: "张三是研发部的高级工程师。" });
    const out = await processJob(await job("张三是哪个部门的？", "ask-dept"), w.runtime);
    expect(out).toMatchObject({ status: "done", outcome: { kind: "answer", tools: [{ name: "find_colleague", ok: true }] } });

    const result = wire(1).messages.find((m) => m.role === "tool")!.content!;
    expect(result).toContain("研发部");
    expect(result).not.toContain("13800000000");
    const sent = w.dt.sent().map((s) => s.text);
    expect(sent).toEqual(["正在查找同事：张三", "张三是研发部的高级工程师。"]);

    // DingTalk does not count contact calls against the monthly quota, and neither do we.
    expect((await w.runtime.apiUsage!.month()).byApi["contact.users.search"]).toBeUndefined();
    const done = w.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "job done").at(-1)!;
    expect(done.tools).toEqual([{ name: "find_colleague", ms: expect.any(Number) as number, ok: true }]);

    // The follow-up sees the earlier call and its result.
    w.llm.reset();
    w.llm.script({ text: "他的职位是高级工程师。" });
    await processJob(await job("他是做什么的？", "ask-dept"), w.runtime);
    const history = wire(0).messages;
    expect(history.some((m) => m.role === "assistant" && m.tool_calls)).toBe(true);
    expect(history.find((m) => m.role === "tool")?.content).toContain("高级工程师");
  });

  it("holds the iteration bound and still answers, with a plain note", async () => {
    w.llm.script({ toolCalls: [{ name: "find_colleague", arguments: { name: "张三" } }], sticky: true });
    const out = await processJob(await job("一直查", "loop-user"), w.runtime);
    expect(out).toMatchObject({ status: "done", outcome: { kind: "answer" } });
    expect(w.llm.chatRequests().map((r) => r.tools.length > 0)).toEqual([true, true, true, false]);
    expect(w.dt.sent().at(-1)!.text).toContain("查询步骤已达上限");
  });

  it("a crash between a side-effecting call and the reply does not repeat the call", async () => {
    created = 0;
    const runtime = createRuntime(w.config, w.db.table, { log: w.log, sleep: () => Promise.resolve(), toolProviders: [{ name: "test", list: () => Promise.resolve([booking]) }] });
    const script = () => w.llm.script({ toolCalls: [{ name: "book_room", arguments: { room: "3楼会议室" } }] }, { text: "已为你预订 3楼会议室。" });
    const j = await job("帮我订 3楼会议室", "book-user");
    script();
    const dying: WorkerDeps = {
      ...runtime,
      conversations: Object.assign(Object.create(runtime.conversations) as ConversationStore, {
        append: () => Promise.reject(new Error("instance died")),
      }),
    };
    await expect(processJob(j, dying)).rejects.toThrow("instance died");
    expect(created).toBe(1);

    w.llm.reset();
    script();
    expect(await processJob(j, runtime)).toMatchObject({ status: "done", outcome: { tools: [{ name: "book_room", reused: true }] } });
    expect(created).toBe(1);
    expect(w.dt.sent().filter((s) => s.text === "已为你预订 3楼会议室。")).toHaveLength(1);
    expect(wire(1).messages.find((m) => m.role === "tool")!.content).toBe("已预订 3楼会议室，编号 R1");
  });
});
