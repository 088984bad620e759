// The scheduler end to end on a movable clock (no sleeps): reminders set through the real message path
// (the LLM double calls create_reminder) are delivered proactively through the robot OpenAPI after
// their time — to the user of a 1:1 chat, to a group naming who set it — exactly once; a cron reminder
// fires on each occurrence; two schedulers racing (and a retried job) send once; missed firings after
// downtime are sent saying how late (a recurring one only its latest occurrence; more than 24 h late:
// not sent, visible as failed); DingTalk failures are tried again with backoff and, when they keep
// failing, the reminder is marked failed and shown in /reminders; schedules with text and with a prompt
// (a retry after part of a long answer went out sends the rest of the same answer).
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { FiringJob } from "../../functions/core/proactive/firing.js";
import { runFiring, type FiringDeps } from "../../functions/core/proactive/firing.js";
import { firingDeps, runFiringJob, schedulerOf } from "../../functions/core/proactive/wiring.js";
import { isoInZone } from "../../functions/core/proactive/time.js";
import { createRuntime, type Runtime } from "../../functions/core/runtime.js";
import { startWorld, type World } from "../helpers/world.js";

const ZONE = "Asia/Shanghai";
let w: World;
let rt: Runtime;
const clock = { t: Math.floor(Date.now() / 1000) * 1000, now: () => clock.t };
const jobs: FiringJob[] = [];
let tick: ReturnType<typeof schedulerOf>;

/** A world (and its runtime on the movable clock) per describe: schedules and reminders do not meet. */
function useWorld(config: Record<string, unknown>, start: () => number) {
  beforeAll(async () => {
    clock.t = start();
    w = await startWorld({ config });
    rt = createRuntime(w.config, w.db.table, { log: w.log, now: clock.now, sleep: () => Promise.resolve() });
    tick = schedulerOf(rt, (job) => (jobs.push(job), Promise.resolve()));
  });
  afterAll(() => w.close());
  afterEach(() => {
    w.dt.reset();
    w.llm.reset();
    jobs.length = 0;
  });
}

/** One scheduler run at the clock's time, then the firings it dispatched. */
async function runScheduler() {
  const result = await tick(clock.now());
  const outcomes = [];
  for (const job of jobs.splice(0)) outcomes.push(await runFiringJob(job, rt));
  return { result, outcomes };
}
const proactive = () => w.dt.sent().filter((s) => s.route === "openapi");
/** The audit lines of scheduled prompts. */
const promptAudits = () => w.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "audit" && l.schedule);

/** Sets a reminder the way users do: a message whose LLM turn calls create_reminder. */
async function setByMessage(args: Record<string, unknown>, o: Parameters<World["deliver"]>[0]) {
  w.llm.script({ toolCalls: [{ name: "create_reminder", arguments: args }] }, { text: "好的，到时提醒你。" });
  const out = await w.deliver(o, rt);
  expect(out).toMatchObject({ status: "done", outcome: { kind: "answer", tools: [{ name: "create_reminder", ok: true }] } });
  const wire = w.llm.chatRequests()[1]!.body as { messages: { role: string; content: string }[] };
  const result = JSON.parse(wire.messages.findLast((m) => m.role === "tool")!.content) as { id: string };
  w.dt.reset();
  w.llm.reset();
  return result.id;
}

describe("reminders", () => {
  useWorld({ channels: { dingtalk: { admins: ["boss"] } } }, () => Math.floor(Date.now() / 1000) * 1000);

  it("a DM reminder (10分钟后提醒我开会) reaches that user through batchSend after its time, exactly once", async () => {
    const id = await setByMessage({ text: "开会", at: isoInZone(clock.t + 10 * 60_000, ZONE) }, { text: "10分钟后提醒我开会", staffId: "dm-user" });
    clock.t += 9 * 60_000;
    expect((await runScheduler()).result.dispatched).toBe(0);
    clock.t += 60_000;
    expect((await runScheduler()).outcomes).toEqual([{ status: "sent", late: 0 }]);
    expect(proactive()).toMatchObject([{ msgKey: "sampleMarkdown", conversationType: "direct", userId: "dm-user", text: expect.stringContaining("开会") as string }]);
    expect(proactive()[0]!.text).not.toContain("晚了");

    clock.t += 60_000;
    expect((await runScheduler()).result).toEqual({ dispatched: 0, busy: 0, stale: 0, failed: 0 });
    expect(proactive()).toHaveLength(1);
    expect(await rt.reminders.get("dm-user", id)).toMatchObject({ status: "done", fired: 1 });
  });

  it("a group reminder goes to the group through groupMessages/send, naming who set it", async () => {
    await setByMessage({ text: "交周报", at: isoInZone(clock.t + 30 * 60_000, ZONE) }, { text: "半小时后提醒大家交周报", type: "group", conversationId: "cidTeam==", staffId: "g-user", nick: "李四" });
    clock.t += 30 * 60_000;
    await runScheduler();
    expect(proactive()).toMatchObject([{ conversationType: "group", conversationId: "cidTeam==", text: expect.stringMatching(/交周报[\s\S]*李四 设置/) as string }]);
  });

  it("a cron reminder fires on each occurrence and moves on to the next", async () => {
    const id = await setByMessage({ text: "喝水", cron: "0 * * * *" }, { text: "每小时提醒我喝水", staffId: "cron-user" });
    onTestFinished(async () => {
      await rt.reminders.deleteAllFor("cron-user");
    });
    const first = (await rt.reminders.get("cron-user", id))!.nextAt!;
    for (let i = 0; i < 3; i++) {
      clock.t = first + i * 3_600_000 + 5_000;
      expect((await runScheduler()).outcomes).toEqual([{ status: "sent", late: 5_000 }]);
      expect(await rt.reminders.get("cron-user", id)).toMatchObject({ status: "active", fired: i + 1, nextAt: first + (i + 1) * 3_600_000 });
    }
    expect(proactive().map((s) => s.userId)).toEqual(["cron-user", "cron-user", "cron-user"]);
  });

  it("two schedulers racing, and a retried job, send once", async () => {
    const other = createRuntime(w.config, await w.db.openTable(), { log: w.log, now: clock.now, sleep: () => Promise.resolve() });
    const otherJobs: FiringJob[] = [];
    const otherTick = schedulerOf(other, (job) => (otherJobs.push(job), Promise.resolve()));
    const at = clock.t + 5 * 60_000;
    await rt.reminders.create({ owner: "race-user", where: "dm:race-user", to: { users: ["race-user"] }, robotCode: "dingtestbot", text: "比赛", timing: { at }, nextAt: at }, undefined);
    clock.t = at;
    const [a, b] = await Promise.all([tick(clock.t), otherTick(clock.t)]);
    expect(a.dispatched + b.dispatched).toBe(1);
    const all = [...jobs.splice(0), ...otherJobs];
    expect(all).toHaveLength(1);
    expect(await runFiringJob(all[0], other)).toMatchObject({ status: "sent" });
    // The same job again (a host retrying it) finds the occurrence finished.
    expect(await runFiringJob(all[0], rt)).toEqual({ status: "skipped", reason: "completed" });
    expect(proactive()).toHaveLength(1);
  });

  it("after downtime sends what is at most 24 h late saying how late, a recurring one only its latest occurrence", async () => {
    const daily = await setByMessage({ text: "打卡", cron: "0 9 * * *" }, { text: "每天9点提醒我打卡", staffId: "down-user" });
    const firstDaily = (await rt.reminders.get("down-user", daily))!.nextAt!;
    // Nothing runs from here on until 10:00 the day after the first 9:00: the daily one missed twice.
    clock.t = firstDaily + 86_400_000 - 3 * 3_600_000;
    const once = await setByMessage({ text: "取快递", at: isoInZone(clock.t + 3_600_000, ZONE) }, { text: "一小时后提醒我取快递", staffId: "down-user" });
    clock.t = firstDaily + 86_400_000 + 3_600_000;

    const { outcomes } = await runScheduler();
    expect(outcomes.map((o) => o.status)).toEqual(["sent", "sent"]);
    const texts = proactive().map((s) => s.text ?? "");
    expect(texts.filter((t) => t.includes("取快递"))).toEqual([expect.stringContaining("晚了 3 小时") as string]);
    expect(texts.filter((t) => t.includes("打卡"))).toEqual([expect.stringContaining("晚了 1 小时") as string]);
    expect(await rt.reminders.get("down-user", daily)).toMatchObject({ status: "active", fired: 1, nextAt: firstDaily + 2 * 86_400_000 });
    expect(await rt.reminders.get("down-user", once)).toMatchObject({ status: "done", fired: 1 });
    await rt.reminders.deleteAllFor("down-user");
  });

  it("does not send a one-off more than 24 h late; it shows as failed in /reminders", async () => {
    const id = await setByMessage({ text: "续签合同", at: isoInZone(clock.t + 60_000, ZONE) }, { text: "一分钟后提醒我续签合同", staffId: "gone-user" });
    clock.t += 26 * 3_600_000;
    expect((await runScheduler()).outcomes).toEqual([{ status: "skipped", reason: "too_late" }]);
    expect(proactive()).toHaveLength(0);
    expect(await rt.reminders.get("gone-user", id)).toMatchObject({ status: "failed", error: expect.stringContaining("错过了") as string });
  });

  it("tries a failing send again with backoff, then marks the reminder failed and shows it in /reminders", async () => {
    const id = await setByMessage({ text: "开站会", at: isoInZone(clock.t + 60_000, ZONE) }, { text: "一分钟后在群里提醒开站会", type: "group", conversationId: "cidFail==", staffId: "f-user" });
    w.dt.fault({ route: "robot.groupMessages.send", status: 500, times: Infinity });
    clock.t += 60_000;
    const statuses: string[] = [];
    for (let i = 0; i < 30 && !statuses.includes("failed"); i++) {
      const { outcomes } = await runScheduler();
      statuses.push(...outcomes.map((o) => o.status));
      clock.t += 60_000;
    }
    expect(statuses).toEqual(["retrying", "retrying", "retrying", "retrying", "failed"]);
    expect(await rt.reminders.get("f-user", id)).toMatchObject({ status: "failed" });
    w.dt.reset();
    await w.deliver({ text: "/reminders", type: "group", conversationId: "cidFail==", staffId: "f-user" }, rt);
    expect(w.dt.sent().at(-1)!.text).toMatch(new RegExp(`\`${id}\` 开站会 .*❌ 发送失败`));
  });
});

describe("schedules", () => {
  useWorld(
    {
      schedules: [
        { name: "morning", cron: "0 9 * * *", to: { group: "cidSchedule==" }, text: "早上好，记得填写日报" },
        { name: "ai-news", cron: "30 9 * * *", to: { users: ["reader1"] }, prompt: "给出今日 AI 新闻摘要" },
        { name: "long-read", cron: "0 3 9 1 *", to: { group: "cidLong==" }, prompt: "写一篇长文" },
      ],
    },
    () => Date.parse("2030-01-07T08:00:00+08:00"),
  );

  it("posts a text schedule as is and a prompt schedule's answer from the agent, once per occurrence", async () => {
    // The first run only notes the schedules (nothing older is sent).
    await runScheduler();
    expect(proactive()).toHaveLength(0);

    clock.t = Date.parse("2030-01-07T09:00:20+08:00");
    expect((await runScheduler()).outcomes).toEqual([{ status: "sent", late: 20_000 }]);
    expect(proactive()).toMatchObject([{ conversationType: "group", conversationId: "cidSchedule==", text: "早上好，记得填写日报" }]);

    w.llm.script({ text: "今日 AI 新闻：模型 A 发布。", usage: { prompt_tokens: 300, completion_tokens: 40, total_tokens: 340 } });
    clock.t = Date.parse("2030-01-07T09:30:10+08:00");
    expect((await runScheduler()).outcomes).toEqual([{ status: "sent", late: 10_000 }]);
    expect(proactive().at(-1)).toMatchObject({ conversationType: "direct", userId: "reader1", text: "今日 AI 新闻：模型 A 发布。" });
    expect(JSON.stringify(w.llm.chatRequests()[0]!.body)).toContain("给出今日 AI 新闻摘要");
    // The prompt's tokens count in the org's month (org_monthly_tokens), as nobody's own.
    expect(await rt.usage.org()).toMatchObject({ tokens: 340, turns: 1 });
    expect(await rt.usage.users(rt.usage.today().month)).toEqual([]);
    expect(promptAudits().at(-1)).toMatchObject({ staffId: null, schedule: "ai-news", conversationType: "direct", outcome: "answered", model: "glm", promptTokens: 300, completionTokens: 40, costCny: null, tools: [] });

    clock.t += 60_000;
    expect((await runScheduler()).result.dispatched).toBe(0);
    expect(proactive()).toHaveLength(2);
  });

  it("sends a schedule missed during downtime once, saying how late", async () => {
    clock.t = Date.parse("2030-01-08T08:00:00+08:00");
    await runScheduler();
    expect(proactive()).toHaveLength(0);
    // Down from 08:00 to 15:00: both of the day's posts were missed.
    clock.t = Date.parse("2030-01-08T15:00:00+08:00");
    const { outcomes } = await runScheduler();
    expect(outcomes.map((o) => o.status)).toEqual(["sent", "sent"]);
    expect(proactive().map((s) => s.text)).toEqual(["早上好，记得填写日报\n\n（原定 2030-01-08 09:00（周二），晚了 6 小时）", expect.stringContaining("晚了 5 小时 30 分钟") as string]);
    clock.t += 60_000;
    expect((await runScheduler()).result.dispatched).toBe(0);
  });

  it("a retry after part of a long answer went out sends the rest of the same answer (the agent runs once)", async () => {
    clock.t = Date.parse("2030-01-09T02:50:00+08:00");
    await runScheduler();
    clock.t = Date.parse("2030-01-09T03:00:05+08:00");
    await tick(clock.t);
    const job = jobs.splice(0).find((j) => j.firing.type === "schedule" && j.firing.name === "long-read")!;
    const answer = Array.from({ length: 8 }, (_, i) => `第${i + 1}段：${"很长的内容。".repeat(100)}`).join("\n\n");
    w.llm.script({ text: answer }, { text: "另一篇完全不同的文章" });

    const deps = firingDeps(rt);
    let crash = true;
    const crashing: FiringDeps = {
      ...deps,
      send: (to, message, steps) =>
        deps.send(to, message, {
          done: steps.done,
          onStep: async (step) => {
            await steps.onStep(step);
            if (crash) {
              crash = false;
              throw new Error("instance died");
            }
          },
        }),
    };
    await expect(runFiring(job, crashing)).rejects.toThrow("instance died");
    expect(await runFiring(job, deps)).toMatchObject({ status: "sent" });
    const parts = proactive().map((p) => p.text ?? "");
    expect(parts).toHaveLength(2);
    expect(parts[0]).toContain("第1段");
    expect(parts[1]).toContain("第8段");
    expect(w.llm.chatRequests()).toHaveLength(1);
  });
});

describe("schedules within the org's monthly limit", () => {
  useWorld(
    {
      limits: { org_monthly_tokens: 1000 },
      schedules: [{ name: "ai-news", cron: "30 9 * * *", to: { group: "cidLimited==" }, prompt: "给出今日 AI 新闻摘要" }],
    },
    () => Date.parse("2030-03-04T08:00:00+08:00"),
  );

  it("a prompt schedule posts a plain note instead of calling the model once the org's month is used up", async () => {
    await runScheduler();
    await rt.usage.record({ user: { id: "heavy" }, calls: [{ modelName: "glm", promptTokens: 900, completionTokens: 100, cost: undefined }] });
    clock.t = Date.parse("2030-03-04T09:30:05+08:00");
    expect((await runScheduler()).outcomes).toEqual([{ status: "sent", late: 5_000 }]);
    expect(w.llm.chatRequests()).toHaveLength(0);
    expect(promptAudits().at(-1)).toMatchObject({ schedule: "ai-news", outcome: "limited", limit: "org_monthly_tokens", model: null, promptTokens: 0, costCny: 0 });
    expect(proactive().at(-1)!.text).toBe("定时消息「ai-news」这次没有生成：本月全公司的 AI 用量已达上限（每月 1,000 tokens），2030-04-01 00:00 起恢复。");
  });
});
