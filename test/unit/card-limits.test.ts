// AI cards within DingTalk's limits, in-process: where a long answer is cut for a card, how the card
// streamer coalesces updates and takes skipped ones up again, and the app-wide API rate gate
// (finals wait their turn and are never dropped; intermediate updates give way).
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { CARD_CONTINUED_NOTE, CardStreamer, cardCut, finalCardContent } from "../../functions/core/card-answer.js";
import { RATE_SKIPPED, apiError } from "../../functions/core/dingtalk/http.js";
import { LocalRateGate } from "../../functions/core/dingtalk/rate-gate.js";
import { silentLogger } from "../../functions/core/log.js";
import { eventually } from "../helpers/processes.js";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");
const squash = (s: string) => s.replace(/\s+/g, "");

describe("cardCut / finalCardContent", () => {
  it("keeps a short answer whole", () => {
    expect(finalCardContent("短回答", 3000)).toEqual({ content: "短回答", rest: "" });
  });

  it("ends a long answer's card with the note within the limit; card head + rest is the whole answer", () => {
    const answer = Array.from({ length: 40 }, (_, i) => `第${i + 1}段：${"钉钉卡片的内容".repeat(30)}。`).join("\n\n");
    const { content, rest } = finalCardContent(answer, 3000);
    expect(bytes(content)).toBeLessThanOrEqual(3000);
    expect(content.endsWith(`\n\n${CARD_CONTINUED_NOTE}`)).toBe(true);
    const head = content.slice(0, -`\n\n${CARD_CONTINUED_NOTE}`.length);
    expect(head.endsWith("。")).toBe(true);
    expect(squash(head + rest)).toBe(squash(answer));
  });

  it("holds for any text and limit (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 3000 }), fc.integer({ min: 300, max: 4000 }), (text, max) => {
        const { head, rest } = cardCut(text, max);
        expect(bytes(finalCardContent(text, max).content)).toBeLessThanOrEqual(max);
        expect(squash(head + rest)).toBe(squash(text));
      }),
      { numRuns: 150 },
    );
  });
});

describe("CardStreamer: coalescing and the rate gate", () => {
  function streamer(opts: { intervalMs?: number; maxBytes?: number; fail?: (n: number) => Error | undefined } = {}) {
    const bodies: Array<{ content: string; isFinalize: boolean }> = [];
    const errors: unknown[] = [];
    let calls = 0;
    const client = {
      callOpenApi: (req: { body: unknown }) => {
        const err = opts.fail?.(++calls);
        if (err) return Promise.reject(err);
        bodies.push(req.body as { content: string; isFinalize: boolean });
        return Promise.resolve({ success: true, result: true });
      },
    } as unknown as ConstructorParameters<typeof CardStreamer>[0]["client"];
    const s = new CardStreamer({
      client,
      template: { templateId: "t.schema", contentKey: "content" },
      outTrackId: "card-1",
      intervalMs: opts.intervalMs ?? 30,
      maxBytes: opts.maxBytes ?? 3000,
      now: Date.now,
      log: silentLogger,
      ready: Promise.resolve(true),
      onError: (e) => (errors.push(e), Promise.resolve()),
    });
    return { s, bodies, errors };
  }

  it("sends the first text at once, and the latest text on its own after the interval (no further push needed)", async () => {
    const h = streamer();
    h.s.push("第一句");
    h.s.push("第一句，第二句");
    h.s.push("第一句，第二句，第三句");
    await eventually(() => h.bodies.length === 2, 5_000, "the coalesced second update");
    expect(h.bodies.map((b) => b.content)).toEqual(["第一句", "第一句，第二句，第三句"]);
    await h.s.end("第一句，第二句，第三句。");
    expect(h.bodies.at(-1)).toMatchObject({ content: "第一句，第二句，第三句。", isFinalize: true });
  });

  it("an update the rate gate skipped is not a failure: it is tried again, and the final text still goes out", async () => {
    const skipped = apiError("card.streaming", 0, RATE_SKIPPED, "skipped");
    const h = streamer({ fail: (n) => (n <= 2 ? skipped : undefined) });
    h.s.push("正在回答");
    await eventually(() => h.bodies.length === 1, 5_000, "the update after two skips");
    expect(h.errors).toEqual([]);
    expect(h.s.skipped).toBeGreaterThanOrEqual(1);
    await h.s.end("回答完毕");
    expect(h.bodies.at(-1)).toMatchObject({ content: "回答完毕", isFinalize: true });
  });

  it("never streams more than the card's limit", async () => {
    const h = streamer({ maxBytes: 600 });
    h.s.push(`${"很长的回答。".repeat(200)}`);
    await eventually(() => h.bodies.length === 1, 5_000, "an update");
    h.s.status("正在搜索：钉钉卡片限制");
    await eventually(() => h.bodies.length === 2, 5_000, "the status update");
    for (const b of h.bodies) expect(bytes(b.content)).toBeLessThanOrEqual(600);
    expect(h.bodies[1]!.content.endsWith("*正在搜索：钉钉卡片限制*")).toBe(true);
  });
});

describe("LocalRateGate", () => {
  function gate(qps: number) {
    let t = 0;
    const g = new LocalRateGate({ qps, now: () => t, sleep: (ms) => ((t += ms), Promise.resolve()) });
    return { g, now: () => t, at: (ms: number) => (t = ms) };
  }

  it("lets finals through in order, never more than qps in any second, none dropped", async () => {
    const { g, now } = gate(5);
    const granted: number[] = [];
    await Promise.all(
      Array.from({ length: 17 }, async () => {
        const release = await g.take("final");
        granted.push(now());
        release!();
      }),
    );
    expect(granted).toHaveLength(17);
    for (const start of granted) expect(granted.filter((x) => x >= start && x < start + 1000).length).toBeLessThanOrEqual(5);
  });

  it("counts a call until a second after its answer: however late DingTalk sees each call, no second holds more than qps", async () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const qps = 4;
      const g = new LocalRateGate({ qps });
      const calls: { start: number; end: number }[] = [];
      const latencies = [900, 30, 400, 0, 1200, 60, 700, 5, 250, 999, 80, 1500, 10, 600, 300, 40];
      const done = Promise.all(
        latencies.map(async (ms) => {
          const release = await g.take("final");
          const start = Date.now();
          await new Promise((resolve) => setTimeout(resolve, ms));
          calls.push({ start, end: Date.now() });
          release!();
        }),
      );
      await vi.runAllTimersAsync();
      await done;
      expect(calls).toHaveLength(latencies.length);
      // DingTalk may see each call at any moment between its start and its answer; count every call that
      // could fall in the second starting at each start or end.
      for (const x of calls.flatMap((c) => [c.start, c.end])) {
        expect(calls.filter((c) => c.start < x + 1000 && c.end >= x).length).toBeLessThanOrEqual(qps);
      }
    } finally {
      vi.useRealTimers();
    }
  });

  it("a call without an answer keeps its slot; releasing twice frees one slot", async () => {
    const { g, at } = gate(3);
    const first = await g.take("final");
    await g.take("final");
    first!();
    first!();
    at(1000);
    expect(await g.take("update")).toBeTypeOf("function");
    expect(await g.take("update")).toBeUndefined();
  });

  it("skips intermediate updates once the headroom is reached or a final waits", async () => {
    const { g, at } = gate(10);
    const updates = await Promise.all(Array.from({ length: 10 }, () => g.take("update")));
    expect(updates.filter(Boolean)).toHaveLength(8);
    for (const release of updates) release?.();
    expect(await g.take("final")).toBeTypeOf("function");
    expect(await g.take("final")).toBeTypeOf("function");
    at(500);
    expect(await g.take("update")).toBeUndefined();
    at(1000);
    expect(await g.take("update")).toBeTypeOf("function");
  });
});
