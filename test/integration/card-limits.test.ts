// AI cards within DingTalk's limits, end to end against the DingTalk double, which enforces the
// documented card content size and the per-app, per-API calls per second: a long answer ends its card
// within the limit and follows as markdown parts, once and in order, also across a crash; 20
// conversations streaming at once never meet a throttling error; two worker instances (FC) share one
// budget through the table.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CARD_CONTINUED_NOTE } from "../../functions/core/card-answer.js";
import { parseConfig } from "../../functions/core/config.js";
import { renderMarkdown } from "../../functions/core/dingtalk/markdown.js";
import { ingest } from "../../functions/core/ingest.js";
import type { Job } from "../../functions/core/job.js";
import { processJob, type WorkerDeps } from "../../functions/core/process-job.js";
import { createRuntime, type Runtime } from "../../functions/core/runtime.js";
import type { Table } from "../../functions/core/store/table.js";
import { CLIENT_ID, startWorld, type World } from "../helpers/world.js";

const TEMPLATE = "8aebdfb9-28f4-4a98-98f5-396c3dde41a0.schema";
let w: World;
const extraTables: Table[] = [];

beforeAll(async () => {
  w = await startWorld();
  w.dt.cardTemplate(TEMPLATE);
});
afterAll(async () => {
  await Promise.all(extraTables.map((t) => t.close()));
  await w.close();
});
beforeEach(() => {
  w.dt.reset();
  w.llm.reset();
  w.dt.setRateLimit(20);
});

function cardRuntime(over: Record<string, unknown> = {}, opts: { table?: Table; rateGate?: "process" | "table" } = {}): Runtime {
  const raw = JSON.parse(w.configJson) as { channels: { dingtalk: Record<string, unknown> } };
  raw.channels.dingtalk = { ...raw.channels.dingtalk, card_mode: "answer", card_template_id: TEMPLATE, card_update_interval_ms: 100, ...over };
  return createRuntime(parseConfig(raw, w.env), opts.table ?? w.db.table, { log: w.log, sleep: () => Promise.resolve(), rateGate: opts.rateGate });
}

async function job(rt: Runtime, text: string, o: Parameters<World["message"]>[0] = {}): Promise<Job> {
  const jobs: Job[] = [];
  const body = w.message({ text, ...o });
  const res = await ingest(w.parse(body), body, { ...rt, robotCode: CLIENT_ID, dispatch: (j) => (jobs.push(j), Promise.resolve()) });
  expect(res.status).toBe("accepted");
  return jobs[0]!;
}

const squash = (s: string) => s.replace(/\s+/g, "");
const withoutNumbering = (s: string) => s.replace(/\n\n\(\d+\/\d+\)$/, "");
const LONG = Array.from({ length: 40 }, (_, i) => `第${i + 1}段：${"钉钉的AI卡片有内容大小的限制超过就要分开发送".repeat(10)}。`).join("\n\n");

describe("a long answer in card mode", () => {
  it("8,000 Chinese characters: one finalized card within the limit, then markdown parts; all of it once, in order", async () => {
    expect([...LONG.replace(/[^\u4e00-\u9fff]/g, "")].length).toBeGreaterThan(8000);
    const rt = cardRuntime();
    w.llm.script({ text: LONG, chunkSize: 200, chunkDelayMs: 1 });
    expect(await processJob(await job(rt, "写一篇长文", { staffId: "long-user" }), rt)).toMatchObject({
      status: "done",
      outcome: { kind: "answer", route: "card" },
    });
    const [card] = w.dt.cards();
    expect(w.dt.cards()).toHaveLength(1);
    expect(card!.status).toBe("finished");
    for (const u of card!.updates) expect(Buffer.byteLength(u.content)).toBeLessThanOrEqual(3000);
    const content = card!.params.content!;
    expect(content.endsWith(`\n\n${CARD_CONTINUED_NOTE}`)).toBe(true);
    const parts = w.dt.sent().map((s) => withoutNumbering(s.text!));
    expect(parts.length).toBeGreaterThanOrEqual(2);
    const delivered = content.slice(0, -CARD_CONTINUED_NOTE.length) + parts.join("");
    expect(squash(delivered)).toBe(squash(renderMarkdown(LONG)));
    expect(w.dt.calls.filter((c) => c.status >= 400)).toEqual([]);
  });

  it("a crash between the card and its parts: the retry sends only the missing parts, never a second card", async () => {
    const rt = cardRuntime();
    const j = await job(rt, "长文，中途崩溃", { staffId: "long-crash" });
    w.llm.script({ text: LONG });
    let sends = 0;
    const crashing: WorkerDeps = { ...rt, send: (t, m) => (++sends === 2 ? Promise.reject(new Error("instance died")) : rt.send(t, m)) };
    await expect(processJob(j, crashing)).rejects.toThrow("instance died");
    expect(w.dt.cards()).toMatchObject([{ status: "finished" }]);
    expect(w.dt.sent()).toHaveLength(1);
    const cardCalls = w.dt.calls.filter((c) => c.route.startsWith("card.")).length;

    expect(await processJob(j, rt)).toMatchObject({ status: "done", outcome: { route: "card", reused: true } });
    expect(w.dt.calls.filter((c) => c.route.startsWith("card.")).length).toBe(cardCalls);
    expect(w.llm.chatRequests()).toHaveLength(1);
    const texts = w.dt.sent().map((s) => s.text!);
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts.map((t) => /\((\d+)\/\d+\)$/.exec(t)?.[1])).toEqual(texts.map((_, i) => String(i + 1)));
    const delivered = w.dt.cards()[0]!.params.content!.slice(0, -CARD_CONTINUED_NOTE.length) + texts.map(withoutNumbering).join("");
    expect(squash(delivered)).toBe(squash(renderMarkdown(LONG)));
    expect(await processJob(j, rt)).toEqual({ status: "skipped", reason: "completed" });
  });

  it("an answer sent as markdown while cards were paused, crashing between its parts: the retry never switches to a card", async () => {
    const rt = cardRuntime();
    await rt.apiUsage!.pauseCards(Date.now() + 60_000, "test");
    try {
      const j = await job(rt, "暂停时的长文", { staffId: "paused-crash" });
      w.llm.script({ text: LONG });
      let sends = 0;
      const crashing: WorkerDeps = { ...rt, send: (t, m) => (++sends === 2 ? Promise.reject(new Error("instance died")) : rt.send(t, m)) };
      await expect(processJob(j, crashing)).rejects.toThrow("instance died");
      expect(w.dt.sent()).toHaveLength(1);
      await rt.apiUsage!.resumeCards();

      expect(await processJob(j, rt)).toMatchObject({ status: "done", outcome: { kind: "answer", reused: true } });
      expect(w.dt.cards()).toEqual([]);
      const texts = w.dt.sent().map((s) => s.text!);
      expect(new Set(texts).size).toBe(texts.length);
      expect(texts.map((t) => /\((\d+)\/\d+\)$/.exec(t)?.[1])).toEqual(texts.map((_, i) => String(i + 1)));
      expect(squash(texts.map(withoutNumbering).join(""))).toBe(squash(renderMarkdown(LONG)));
    } finally {
      await rt.apiUsage!.resumeCards();
    }
  });
});

/** Calls per (API, second) the double received. */
function peakPerSecond(): number {
  const counts = new Map<string, number>();
  for (const c of w.dt.calls) {
    if (c.route === "robot.sendBySession" || c.route === "oauth2.accessToken") continue;
    const k = `${c.route} ${Math.floor(c.time / 1000)}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return Math.max(0, ...counts.values());
}

const ANSWER = "第一段：卡片流式更新要守住应用的调用频率。\n\n第二段：中间更新可以丢，最终回答一定送达。";

async function burst(runtimes: Runtime[], conversations: number): Promise<void> {
  w.llm.script({ text: ANSWER, chunkSize: 3, chunkDelayMs: 15, times: conversations });
  const jobs = await Promise.all(
    Array.from({ length: conversations }, (_, i) => job(runtimes[i % runtimes.length]!, `问题 ${i}`, { staffId: `busy-${i}` })),
  );
  const outcomes = await Promise.all(jobs.map((j, i) => processJob(j, runtimes[i % runtimes.length]!)));
  for (const o of outcomes) expect(o).toMatchObject({ status: "done", outcome: { kind: "answer" } });
}

// The server limit the gates are measured against. The process gate counts a call until a second after
// its answer, so however late a loaded machine delivers a call, no second holds more than api_qps; the
// table's 250 ms slots count a call where it started, so its test keeps headroom for late calls (as in
// production: api_qps 15 against DingTalk's 20).
const SERVER_QPS = 10;

describe("the app's API rate", () => {
  it("20 conversations streaming at once against a double limited to 10 calls/s: no throttling, every final answer delivered", async () => {
    w.dt.setRateLimit(SERVER_QPS);
    const rt = cardRuntime({ api_qps: 8 });
    await burst([rt], 20);
    expect(w.dt.calls.filter((c) => c.fault === "rate")).toEqual([]);
    expect(peakPerSecond()).toBeLessThanOrEqual(SERVER_QPS);
    expect(w.dt.cards()).toHaveLength(20);
    for (const card of w.dt.cards()) expect(card).toMatchObject({ status: "finished", params: { content: renderMarkdown(ANSWER) } });
    expect(w.dt.sent()).toEqual([]);
  });

  it("two worker instances (FC) share one budget through the table", async () => {
    w.dt.setRateLimit(15);
    const tables = await Promise.all([w.db.openTable(), w.db.openTable()]);
    extraTables.push(...tables);
    const instances = tables.map((table) => cardRuntime({ api_qps: 10 }, { table, rateGate: "table" }));
    await burst(instances, 12);
    expect(w.dt.calls.filter((c) => c.fault === "rate")).toEqual([]);
    expect(peakPerSecond()).toBeLessThanOrEqual(15);
    for (const card of w.dt.cards()) expect(card).toMatchObject({ status: "finished", params: { content: renderMarkdown(ANSWER) } });
  });

  it("without the shared budget two instances, each within the rate on its own, get throttled together (what the table prevents)", async () => {
    w.dt.setRateLimit(SERVER_QPS);
    // Each process alone may use the whole rate, as a per-process gate would allow; together they
    // ask for twice what the server takes, so throttling shows even on a slow machine.
    const instances = [cardRuntime({ api_qps: SERVER_QPS }), cardRuntime({ api_qps: SERVER_QPS })];
    await burst(instances, 20);
    expect(w.dt.calls.filter((c) => c.fault === "rate").length).toBeGreaterThan(0);
  });
});
