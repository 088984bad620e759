// Limits through the real message path (ingest → processJob → agent), on a movable clock: a user under
// the daily limit is answered, at it refused without an LLM call until the next local day; admins are
// exempt; group and org limits; the per-minute message limit; every LLM call of a turn (tool rounds
// included) is counted; concurrent turns at the edge overshoot by at most the turns already running.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, type LimitsConfig } from "../../functions/core/config.js";
import { createRuntime, type Runtime } from "../../functions/core/runtime.js";
import type { MessageOptions } from "../helpers/messages.js";
import { startWorld, type World } from "../helpers/world.js";

let w: World;
beforeAll(async () => {
  w = await startWorld({ config: { channels: { dingtalk: { admins: ["root"] } } } });
  w.dt.contacts.addDepartment(10, "研发部").addUser({ userid: "zhangsan01", name: "张三", title: "工程师", deptIds: [10] });
});
afterAll(() => w.close());
afterEach(() => {
  w.dt.reset();
  w.llm.reset();
});

const NONE: LimitsConfig = { userDailyTokens: 0, groupDailyTokens: 0, orgMonthlyTokens: 0, userMessagesPerMinute: 0 };
/** 10:00 on 3 Dec 2026 in Shanghai, the default zone. */
const START = Date.parse("2026-12-03T10:00:00+08:00");

/** A runtime with these limits on its own clock (each test its own month, so the org totals are its own). */
function limited(limits: Partial<LimitsConfig>, start = START): { rt: Runtime; clock: { now: number } } {
  const clock = { now: start };
  const rt = createRuntime({ ...w.config, limits: { ...NONE, ...limits } }, w.db.table, { log: w.log, now: () => clock.now, sleep: () => Promise.resolve() });
  return { rt, clock };
}

/** Every answer uses 1,000 tokens (600 in, 400 out). */
const thousand = (extra: Record<string, unknown> = {}) =>
  w.llm.script({ usage: { prompt_tokens: 600, completion_tokens: 400, total_tokens: 1000 }, sticky: true, ...extra });

async function ask(rt: Runtime, o: MessageOptions) {
  const out = await w.deliver(o, rt);
  if (out.status !== "done" || out.outcome.action !== "replied") throw new Error(`not replied: ${JSON.stringify(out)}`);
  return { kind: out.outcome.kind, limit: out.outcome.limit, text: w.dt.sent().at(-1)!.text! };
}
const calls = () => w.llm.chatRequests().length;

describe("limits", () => {
  it("answers under the user's daily limit, refuses at it without an LLM call, and answers again the next day", async () => {
    thousand();
    const { rt, clock } = limited({ userDailyTokens: 2500 });
    for (let i = 0; i < 3; i++) expect((await ask(rt, { text: `问题${i}`, staffId: "daily-user" })).kind).toBe("answer");
    expect(calls()).toBe(3);

    const refused = await ask(rt, { text: "再问一个", staffId: "daily-user" });
    expect(refused).toMatchObject({ kind: "limited", limit: "user_daily_tokens" });
    expect(refused.text).toContain("你今天的 AI 用量已达上限（每人每天 2,500 tokens）");
    expect(refused.text).toContain("2026-12-04 00:00 起可以继续使用");
    expect(calls()).toBe(3);
    const audit = w.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "audit").at(-1);
    expect(audit).toMatchObject({ staffId: "daily-user", outcome: "limited", promptTokens: 0 });

    // Someone else is not affected; commands still work for the limited user.
    expect((await ask(rt, { text: "我呢", staffId: "other-user" })).kind).toBe("answer");
    expect((await ask(rt, { text: "/usage", staffId: "daily-user" })).text).toContain("今天：3,000 tokens");

    clock.now = Date.parse("2026-12-03T23:59:59+08:00");
    expect((await ask(rt, { text: "快到午夜了", staffId: "daily-user" })).kind).toBe("limited");
    clock.now = Date.parse("2026-12-04T00:00:00+08:00");
    expect((await ask(rt, { text: "新的一天", staffId: "daily-user" })).kind).toBe("answer");
    expect(calls()).toBe(5);
  });

  it("exempts admins (their usage is still counted)", async () => {
    thousand();
    const { rt } = limited({ userDailyTokens: 500, userMessagesPerMinute: 1, orgMonthlyTokens: 500 }, Date.parse("2026-06-10T10:00:00+08:00"));
    for (let i = 0; i < 3; i++) expect((await ask(rt, { text: `管理员问题${i}`, staffId: "root" })).kind).toBe("answer");
    expect((await ask(rt, { text: "员工", staffId: "emp-under-admin" })).limit).toBe("org_monthly_tokens");
    const usage = await ask(rt, { text: "/usage", staffId: "root" });
    expect(usage.text).toContain("今天：3,000 tokens");
    expect(usage.text).toContain("你是管理员，不受用量上限限制");
  });

  it("limits a group per day across its members, and not the members' own chats", async () => {
    thousand();
    const { rt } = limited({ groupDailyTokens: 1500 }, Date.parse("2026-07-10T10:00:00+08:00"));
    const group = { type: "group" as const, conversationId: "cidLimited==", conversationTitle: "项目群" };
    expect((await ask(rt, { ...group, text: "A 的问题", staffId: "ga" })).kind).toBe("answer");
    expect((await ask(rt, { ...group, text: "B 的问题", staffId: "gb" })).kind).toBe("answer");
    const refused = await ask(rt, { ...group, text: "C 的问题", staffId: "gc" });
    expect(refused).toMatchObject({ kind: "limited", limit: "group_daily_tokens" });
    expect(refused.text).toContain("本群今天的 AI 用量已达上限（每个群每天 1,500 tokens）");
    expect(calls()).toBe(2);
    expect((await ask(rt, { type: "group", conversationId: "cidOther==", text: "别的群", staffId: "gc" })).kind).toBe("answer");
    expect((await ask(rt, { text: "私聊", staffId: "gc" })).kind).toBe("answer");
    expect((await ask(rt, { ...group, text: "/usage", staffId: "gc" })).text).toContain("本群今天：2,000 tokens");
  });

  it("limits the org per month, until the first of the next month", async () => {
    thousand();
    const { rt, clock } = limited({ orgMonthlyTokens: 1500 }, Date.parse("2026-08-20T10:00:00+08:00"));
    expect((await ask(rt, { text: "一", staffId: "org-a" })).kind).toBe("answer");
    expect((await ask(rt, { text: "二", staffId: "org-b" })).kind).toBe("answer");
    const refused = await ask(rt, { text: "三", staffId: "org-c" });
    expect(refused).toMatchObject({ kind: "limited", limit: "org_monthly_tokens" });
    expect(refused.text).toContain("本月全公司的 AI 用量已达上限（每月 1,500 tokens）");
    expect(refused.text).toContain("2026-09-01 00:00 起");
    clock.now = Date.parse("2026-09-01T00:00:01+08:00");
    expect((await ask(rt, { text: "新的月份", staffId: "org-c" })).kind).toBe("answer");
  });

  it("limits messages per user per minute (commands are not counted)", async () => {
    thousand();
    const { rt, clock } = limited({ userMessagesPerMinute: 2 }, Date.parse("2026-12-03T11:00:05+08:00"));
    expect((await ask(rt, { text: "/help", staffId: "fast" })).kind).toBe("help");
    expect((await ask(rt, { text: "一", staffId: "fast" })).kind).toBe("answer");
    expect((await ask(rt, { text: "二", staffId: "fast" })).kind).toBe("answer");
    const refused = await ask(rt, { text: "三", staffId: "fast" });
    expect(refused).toMatchObject({ kind: "limited", limit: "user_messages_per_minute" });
    expect(refused.text).toContain("每人每分钟最多 2 条消息");
    expect(refused.text).toContain("11:01 后可以继续使用");
    expect(calls()).toBe(2);
    clock.now += 60_000;
    expect((await ask(rt, { text: "四", staffId: "fast" })).kind).toBe("answer");
  });

  it("counts every LLM call of a turn, tool rounds included", async () => {
    const { rt } = limited({ userDailyTokens: 1500 }, Date.parse("2026-05-05T10:00:00+08:00"));
    w.llm.script(
      { toolCalls: [{ name: "find_colleague", arguments: { name: "张三" } }], usage: { prompt_tokens: 500, completion_tokens: 100, total_tokens: 600 } },
      { text: "张三在研发部。", usage: { prompt_tokens: 700, completion_tokens: 100, total_tokens: 800 } },
    );
    expect((await ask(rt, { text: "张三在哪个部门？", staffId: "tool-user" })).kind).toBe("answer");
    expect(calls()).toBe(2);
    expect((await rt.usage.user("tool-user")).tokens).toBe(1400);
    thousand();
    expect((await ask(rt, { text: "还有一个问题", staffId: "tool-user" })).kind).toBe("answer");
    expect((await ask(rt, { text: "超了吗", staffId: "tool-user" })).kind).toBe("limited");
  });

  it("counts a streamed answer (an AI card) with the usage the stream reports (stream_options.include_usage)", async () => {
    const template = "8aebdfb9-28f4-4a98-98f5-396c3dde41a0.schema";
    w.dt.cardTemplate(template);
    const raw = JSON.parse(w.configJson) as { channels: { dingtalk: Record<string, unknown> } };
    raw.channels.dingtalk = { ...raw.channels.dingtalk, card_mode: "answer", card_template_id: template };
    const config = { ...parseConfig(raw, w.env), limits: { ...NONE, userDailyTokens: 1000 } };
    const clock = Date.parse("2026-03-03T10:00:00+08:00");
    const rt = createRuntime(config, w.db.table, { log: w.log, now: () => clock, sleep: () => Promise.resolve() });
    w.llm.script({ text: "流式的回答", chunkSize: 2, usage: { prompt_tokens: 300, completion_tokens: 700, total_tokens: 1000 } });
    const out = await w.deliver({ text: "流式问题", staffId: "streamer" }, rt);
    expect(out).toMatchObject({ status: "done", outcome: { kind: "answer", card: {} } });
    expect(w.llm.chatRequests()[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect((await rt.usage.user("streamer")).tokens).toBe(1000);
    expect((await ask(rt, { text: "还能问吗", staffId: "streamer" })).kind).toBe("limited");
  });

  it("bounds the overshoot of concurrent turns at the edge by the turns already running", async () => {
    const { rt } = limited({ userDailyTokens: 2500 }, Date.parse("2026-04-04T10:00:00+08:00"));
    thousand();
    await ask(rt, { text: "一", staffId: "edge" });
    await ask(rt, { text: "二", staffId: "edge" });
    w.llm.reset();
    // 2,000 used, 500 left: three turns start at once; each is checked before any of them is counted.
    thousand({ delayMs: 200 });
    const outs = await Promise.all(["甲", "乙", "丙"].map((text) => w.deliver({ text, staffId: "edge" }, rt)));
    const answered = outs.filter((o) => o.status === "done" && o.outcome.action === "replied" && o.outcome.kind === "answer").length;
    expect(answered).toBeGreaterThanOrEqual(1);
    const used = (await rt.usage.user("edge")).tokens;
    expect(used).toBe(2000 + answered * 1000);
    // The documented bound: the limit plus one turn per turn that was already running.
    expect(used).toBeLessThan(2500 + 3 * 1000);
    expect((await ask(rt, { text: "之后", staffId: "edge" })).kind).toBe("limited");
  });

  it("with a per-minute limit, concurrent messages beyond it are refused", async () => {
    const { rt } = limited({ userMessagesPerMinute: 2, userDailyTokens: 100_000 }, Date.parse("2026-04-05T10:00:00+08:00"));
    thousand({ delayMs: 100 });
    const outs = await Promise.all(["甲", "乙", "丙", "丁"].map((text) => w.deliver({ text, staffId: "burst" }, rt)));
    const kinds = outs.map((o) => (o.status === "done" && o.outcome.action === "replied" ? o.outcome.kind : o.status));
    expect(kinds.filter((k) => k === "answer")).toHaveLength(2);
    expect(kinds.filter((k) => k === "limited")).toHaveLength(2);
    expect(calls()).toBe(2);
  });
});
