// Streaming AI cards end to end against the DingTalk double's card platform: create + deliver, paced
// full-text updates, finalize / failed, the governor switching to one markdown message on 403/429 or
// near the monthly budget and back again, /usage, call counting, and no second card after a crash.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { handleMessage, replyTarget } from "../../functions/core/agent.js";
import { CARD_TOO_LONG_NOTE } from "../../functions/core/card-answer.js";
import { parseConfig } from "../../functions/core/config.js";
import { cardIdFor } from "../../functions/core/dingtalk/cards.js";
import { renderMarkdown } from "../../functions/core/dingtalk/markdown.js";
import type { SendResult } from "../../functions/core/dingtalk/outgoing.js";
import { ingest } from "../../functions/core/ingest.js";
import type { Job } from "../../functions/core/job.js";
import { processJob, type WorkerDeps } from "../../functions/core/process-job.js";
import { CARD_PAUSE_MS } from "../../functions/core/quota.js";
import { Replier } from "../../functions/core/replier.js";
import { createRuntime, type Runtime } from "../../functions/core/runtime.js";
import type { ConversationStore } from "../../functions/core/store/conversations.js";
import type { IdempotencyStore } from "../../functions/core/store/idempotency.js";
import type { Table } from "../../functions/core/store/table.js";
import { CLIENT_ID, startWorld, type World } from "../helpers/world.js";

const TEMPLATE = "8aebdfb9-28f4-4a98-98f5-396c3dde41a0.schema";
let w: World;
let offset = 0;
const now = () => Date.now() + offset;

beforeAll(async () => {
  w = await startWorld();
  w.dt.cardTemplate(TEMPLATE);
});
afterAll(() => w.close());
beforeEach(() => {
  w.dt.reset();
  w.llm.reset();
  w.dt.cardSettings({ maxAppendBytes: 1024, maxContentBytes: 3072 });
});

function cardRuntime(over: Record<string, unknown> = {}, table: Table = w.db.table): Runtime {
  const raw = JSON.parse(w.configJson) as { channels: { dingtalk: Record<string, unknown> } };
  raw.channels.dingtalk = { ...raw.channels.dingtalk, card_mode: "answer", card_template_id: TEMPLATE, card_update_interval_ms: 100, ...over };
  return createRuntime(parseConfig(raw, w.env), table, { log: w.log, sleep: () => Promise.resolve(), now });
}

const ANSWER = "第一段：钉钉的 AI 卡片可以流式显示回答。\n\n第二段：详见 https://open.dingtalk.com/document/a_b 。";
const streamed = (reply: Record<string, unknown> = {}) => w.llm.script({ text: ANSWER, chunkSize: 4, chunkDelayMs: 2, ...reply });

async function ask(rt: Runtime, text: string, o: Parameters<World["message"]>[0] = {}) {
  const sent: SendResult[] = [];
  const msg = w.parse(w.message({ text, ...o }));
  const ledger = { delivered: [], recordParts: () => Promise.resolve(), markSent: (r: SendResult) => (sent.push(r), Promise.resolve()) };
  const replier = new Replier(replyTarget(msg, CLIENT_ID), `${CLIENT_ID}:${msg.msgId}`, rt, ledger);
  const outcome = await handleMessage(msg, rt, { replier });
  return { msg, outcome, sent };
}

describe("AI card answers", () => {
  it("creates a card in the 1:1 chat, streams the full text and finalizes it; marked sent once", async () => {
    const rt = cardRuntime();
    streamed();
    const { msg, outcome, sent } = await ask(rt, "介绍一下 AI 卡片", { staffId: "card-user" });
    const outTrackId = cardIdFor(`${CLIENT_ID}:${msg.msgId}`);
    expect(outcome).toMatchObject({ action: "replied", kind: "answer", route: "card", card: { outTrackId } });
    expect(sent).toEqual([{ route: "card", processQueryKey: outTrackId }]);
    expect(w.dt.sent()).toEqual([]);
    expect(w.llm.chatRequests()[0]!.stream).toBe(true);

    const [card] = w.dt.cards();
    expect(card).toMatchObject({ outTrackId, templateId: TEMPLATE, spaceType: "IM_ROBOT", spaceId: "card-user", robotCode: CLIENT_ID, status: "finished" });
    expect(card!.params.content).toBe(renderMarkdown(ANSWER));
    expect(card!.params.content).toContain("[https://open.dingtalk.com/document/a_b](https://open.dingtalk.com/document/a_b)");
    expect(card!.updates.length).toBeGreaterThanOrEqual(2);
    expect(card!.updates.every((u) => u.isFull && u.key === "content" && !u.isError)).toBe(true);
    expect(card!.updates.map((u) => u.isFinalize)).toEqual([...card!.updates.slice(1).map(() => false), true]);
    expect(w.dt.callsTo("card.createAndDeliver")[0]!.body).toMatchObject({
      openSpaceId: "dtv1.card//IM_ROBOT.card-user",
      imRobotOpenDeliverModel: { spaceType: "IM_ROBOT", robotCode: CLIENT_ID },
      cardData: { cardParamMap: { content: "" } },
    });
  });

  it("reads the API budget alongside the conversation, not after it", async () => {
    const rt = cardRuntime();
    const cards = rt.cards!;
    const order: string[] = [];
    const watched: Runtime = {
      ...rt,
      cards: {
        lookUp: () => (order.push("card reads start"), cards.lookUp()),
        open: (req, lookup) => (order.push(lookup ? "open with the reads" : "open reading again"), cards.open(req, lookup)),
        rest: (text) => cards.rest(text),
      },
      conversations: Object.assign(Object.create(rt.conversations) as ConversationStore, {
        load: async (key: string) => {
          order.push("conversation load start");
          const c = await rt.conversations.load(key);
          order.push("conversation load end");
          return c;
        },
      }),
    };
    streamed();
    const { outcome } = await ask(watched, "并行读取", { staffId: "card-reads" });
    expect(outcome).toMatchObject({ route: "card" });
    expect(order).toEqual(["card reads start", "conversation load start", "conversation load end", "open with the reads"]);
  });

  it("delivers group cards to the group and updates no more often than the interval allows", async () => {
    const rt = cardRuntime({ card_update_interval_ms: 60_000 });
    streamed({ chunkSize: 2 });
    const { outcome } = await ask(rt, "群里的问题", { type: "group" });
    expect(outcome).toMatchObject({ route: "card", card: { updates: 1 } });
    const [card] = w.dt.cards();
    expect(card).toMatchObject({ spaceType: "IM_GROUP", spaceId: "cidGroup001==", status: "finished" });
    expect(card!.updates).toHaveLength(2);
    expect(card!.updates[0]!.content.length).toBeLessThan(card!.updates[1]!.content.length);
    expect(w.dt.callsTo("card.createAndDeliver")[0]!.body).toMatchObject({ imGroupOpenDeliverModel: { robotCode: CLIENT_ID } });
  });

  it("marks the card failed with the plain explanation when the LLM fails", async () => {
    const rt = cardRuntime();
    w.llm.script({ fault: "server_error" });
    const { outcome, sent } = await ask(rt, "会失败的问题");
    expect(outcome).toMatchObject({ kind: "llm_error", route: "card" });
    const [card] = w.dt.cards();
    expect(card!.status).toBe("failed");
    expect(card!.updates.at(-1)).toMatchObject({ isError: true, isFinalize: false });
    expect(card!.params.content).toMatch(/^抱歉，AI 模型服务暂时出错/);
    expect(sent).toHaveLength(1);
    expect(w.dt.sent()).toEqual([]);
  });

  it("answers in markdown where a card cannot go (1:1 without staffId) and for commands", async () => {
    const rt = cardRuntime();
    const { outcome } = await ask(rt, "外部用户的问题", { staffId: null });
    expect(outcome).toMatchObject({ kind: "answer", route: "webhook" });
    await ask(rt, "/model");
    expect(w.dt.callsTo("card.createAndDeliver")).toHaveLength(0);
    expect(w.dt.sent()).toHaveLength(2);
  });

  it("finalizes a short note in the card and sends the whole answer as markdown when DingTalk refuses it as too large", async () => {
    const rt = cardRuntime();
    w.dt.cardSettings({ maxContentBytes: 60 });
    streamed();
    const { outcome, sent } = await ask(rt, "长回答");
    expect(outcome).toMatchObject({ kind: "answer", route: "webhook" });
    const [card] = w.dt.cards();
    expect(card).toMatchObject({ status: "finished", params: { content: CARD_TOO_LONG_NOTE } });
    expect(w.dt.sent().map((s) => s.text)).toEqual([renderMarkdown(ANSWER)]);
    expect(sent).toHaveLength(1);
    expect(await rt.apiUsage!.cardPause()).toBeUndefined();
  });
});

describe("the API-call governor", () => {
  it("counts every DingTalk call of an answer in the table", async () => {
    const rt = cardRuntime();
    const before = (await rt.apiUsage!.month()).calls;
    streamed();
    await ask(rt, "数一数");
    await rt.settle!();
    const after = await rt.apiUsage!.month();
    expect(w.dt.calls.length).toBeGreaterThanOrEqual(3);
    expect(after.calls - before).toBe(w.dt.calls.length);
    expect(after.byApi["card.streaming"]).toBeGreaterThanOrEqual(w.dt.callsTo("card.streaming").length);
  });

  it("after a 403 from the card API answers with one markdown message, pauses cards 30 minutes, then uses them again", async () => {
    const rt = cardRuntime();
    w.dt.fault({ route: "card.createAndDeliver", quota: true });
    streamed();
    const first = await ask(rt, "额度用完了");
    expect(first.outcome).toMatchObject({ kind: "answer", route: "webhook" });
    expect(w.dt.sent().map((s) => s.text)).toEqual([renderMarkdown(ANSWER)]);
    expect(first.sent).toHaveLength(1);
    const pause = await rt.apiUsage!.cardPause();
    expect(pause?.reason).toContain("ApiCountLimitForOrg");
    expect(pause!.until - now()).toBeGreaterThan(CARD_PAUSE_MS - 60_000);

    const second = await ask(rt, "还在暂停吗");
    expect(second.outcome).toMatchObject({ route: "webhook" });
    expect(w.dt.callsTo("card.createAndDeliver")).toHaveLength(1);

    await ask(rt, "/usage");
    expect(w.dt.sent().at(-1)!.text).toMatch(/本月钉钉接口调用：\d+ \/ 5000 次。[\s\S]*AI 卡片暂停使用/);

    offset += CARD_PAUSE_MS + 60_000;
    streamed();
    expect((await ask(rt, "恢复了吗")).outcome).toMatchObject({ route: "card" });
    expect(w.dt.cards()).toHaveLength(1);
  });

  it("after a 429 while streaming stops updating, answers in markdown if the card cannot be finished, and pauses", async () => {
    const rt = cardRuntime();
    w.dt.fault({ route: "card.streaming", status: 429, body: { code: "Throttling", message: "too many requests" }, times: Infinity });
    streamed();
    const { outcome } = await ask(rt, "限流了");
    expect(outcome).toMatchObject({ kind: "answer", route: "webhook" });
    expect(w.dt.sent().map((s) => s.text)).toEqual([renderMarkdown(ANSWER)]);
    expect(await rt.apiUsage!.cardPause()).toBeDefined();
    w.dt.clearFaults();
    await rt.apiUsage!.resumeCards();
    streamed();
    expect((await ask(rt, "好了吗")).outcome).toMatchObject({ route: "card" });
  });

  it("near the monthly budget switches to markdown, and back to cards in the next month", async () => {
    const used = (await cardRuntime().apiUsage!.month()).calls;
    const rt = cardRuntime({ api_monthly_budget: used + 5 });
    await rt.apiUsage!.record("test.padding", 1);
    streamed();
    expect((await ask(rt, "预算快用完了")).outcome).toMatchObject({ route: "webhook" });
    expect(w.dt.callsTo("card.createAndDeliver")).toHaveLength(0);
    await ask(rt, "/usage");
    expect(w.dt.sent().at(-1)!.text).toMatch(/本对话用量：输入 \d+ tokens，输出 \d+ tokens[\s\S]*本月钉钉接口调用：\d+ \/ \d+ 次。[\s\S]*接近额度/);

    offset += 32 * 86_400_000;
    streamed();
    expect((await ask(rt, "新的一个月")).outcome).toMatchObject({ route: "card" });
  });
});

describe("cards and retries", () => {
  async function job(text: string, staffId: string | null = "retry-user"): Promise<Job> {
    const jobs: Job[] = [];
    // The webhook lives as long on the runtime's clock, which earlier tests moved ahead.
    const body = w.message({ text, staffId, webhookTtlMs: offset + 3_600_000 });
    const res = await ingest(w.parse(body), body, { ...w.runtime, robotCode: CLIENT_ID, dispatch: (j) => (jobs.push(j), Promise.resolve()) });
    expect(res.status).toBe("accepted");
    return jobs[0]!;
  }

  it("a card answer makes no more table requests than a markdown answer: the claim record is the card record", async () => {
    // Counts what this runtime's stores ask of the table (other tests' runtimes may still be writing held counts).
    let counting = false;
    const counts: Record<string, number> = {};
    const table = new Proxy(w.db.table, {
      get(target, prop) {
        if (prop !== "items") {
          const v: unknown = Reflect.get(target, prop, target);
          return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        }
        return (clock?: () => number) => {
          const items = target.items(clock);
          for (const m of ["get", "put", "update", "delete", "query"] as const) {
            const real = items[m].bind(items) as (...a: unknown[]) => unknown;
            Object.assign(items, { [m]: (...a: unknown[]) => (counting && (counts[m] = (counts[m] ?? 0) + 1), real(...a)) });
          }
          return items;
        };
      },
    });
    const rt = cardRuntime({}, table);
    const requests = async (j: Job) => {
      for (const k of Object.keys(counts)) delete counts[k];
      counting = true;
      try {
        expect(await processJob(j, rt)).toMatchObject({ status: "done" });
        return { ...counts };
      } finally {
        counting = false;
      }
    };
    streamed();
    const card = await requests(await job("卡片回答"));
    expect(w.dt.cards()).toHaveLength(1);
    streamed();
    // An external user (no staff id) gets markdown: the same job without the card.
    const markdown = await requests(await job("文本回答", null));
    expect(w.dt.cards()).toHaveLength(1);
    expect(w.dt.sent()).toHaveLength(1);
    expect(card).toEqual(markdown);
  });

  // The completion is what records a card with nothing after it as finalized (no write of its own): a
  // crash just before it lands makes the retry finalize the same card again with the same text.
  it("a crash after the card was finalized never makes a second card or sends the answer again", async () => {
    const rt = cardRuntime();
    const j = await job("完成后崩溃");
    const crashing: WorkerDeps = {
      ...rt,
      idempotency: Object.assign(Object.create(rt.idempotency) as IdempotencyStore, { complete: () => Promise.reject(new Error("instance died")) }),
    };
    streamed();
    await expect(processJob(j, crashing)).rejects.toThrow("instance died");
    expect(w.dt.cards()).toMatchObject([{ status: "finished", params: { content: renderMarkdown(ANSWER) } }]);
    const calls = w.dt.calls.length;

    expect(await processJob(j, rt)).toMatchObject({ status: "done", outcome: { route: "card", reused: true } });
    expect(w.dt.calls.slice(calls).map((c) => `${c.route} ${c.status}`)).toEqual(["card.createAndDeliver 400", "card.streaming 200"]);
    expect(w.dt.cards()).toMatchObject([{ status: "finished", params: { content: renderMarkdown(ANSWER) } }]);
    expect(w.llm.chatRequests()).toHaveLength(1);
    expect(w.dt.sent()).toEqual([]);
    expect(await processJob(j, rt)).toEqual({ status: "skipped", reason: "completed" });
  });

  it("a crash before the card was finished streams the retry into the same card", async () => {
    const rt = cardRuntime();
    const j = await job("中途崩溃");
    const crashing: WorkerDeps = {
      ...rt,
      conversations: Object.assign(Object.create(rt.conversations) as ConversationStore, {
        append: () => Promise.reject(new Error("table went away")),
      }),
    };
    streamed({ times: 2 });
    await expect(processJob(j, crashing)).rejects.toThrow("table went away");
    expect(w.dt.cards()).toHaveLength(1);
    expect(w.dt.cards()[0]!.status).not.toBe("finished");

    expect(await processJob(j, rt)).toMatchObject({ status: "done", outcome: { route: "card" } });
    expect(w.dt.cards()).toHaveLength(1);
    expect(w.dt.cards()[0]).toMatchObject({ status: "finished", params: { content: renderMarkdown(ANSWER) } });
    expect(w.dt.callsTo("card.createAndDeliver").map((c) => c.status)).toEqual([200, 400]);
    expect(w.dt.sent()).toEqual([]);
  });

  it("a retry while cards are paused still finishes the card an earlier attempt made", async () => {
    const rt = cardRuntime();
    const j = await job("暂停时重试");
    const crashing: WorkerDeps = {
      ...rt,
      conversations: Object.assign(Object.create(rt.conversations) as ConversationStore, {
        append: () => Promise.reject(new Error("table went away")),
      }),
    };
    streamed({ times: 2 });
    await expect(processJob(j, crashing)).rejects.toThrow();
    await rt.apiUsage!.pauseCards(now() + CARD_PAUSE_MS, "test");
    expect(await processJob(j, rt)).toMatchObject({ status: "done", outcome: { route: "card" } });
    expect(w.dt.cards()).toMatchObject([{ status: "finished" }]);
    expect(w.dt.sent()).toEqual([]);
    await rt.apiUsage!.resumeCards();
  });
});
