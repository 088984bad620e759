// Usage counters (the monthly DingTalk API calls, the LLM usage of turns): every count lands, and counts
// made while an item is being written go out together (many jobs at once make a few writes, not one per job);
// held counts of both stores go out at a flush, a turn's API calls with its org LLM usage in one write,
// on both backends; months counted on the former per-app items are still read.
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiUsageStore, monthKey } from "../../functions/core/store/api-usage.js";
import { CoalescedAdds } from "../../functions/core/store/coalesced-adds.js";
import { ItemTable } from "../../functions/core/store/items.js";
import { LlmUsageStore } from "../../functions/core/store/llm-usage.js";
import { BACKENDS, useBackend } from "../helpers/backends.js";
import { useTestTable } from "../helpers/dynalite.js";

const db = useTestTable();
let app = 0;
const freshApp = () => `ding-usage-${++app}-${Date.now()}`;

function countWrites(prefix = "usage#llm#") {
  const update = vi.spyOn(ItemTable.prototype, "update");
  return (pk?: string) => update.mock.calls.filter(([key]) => (pk ? key.pk === pk : key.pk.startsWith(prefix))).length;
}
afterEach(() => vi.restoreAllMocks());

describe("ApiUsageStore.record", () => {
  it("counts 60 calls made at once in two writes, with the per-API breakdown", async () => {
    const store = new ApiUsageStore(db.table, { app: freshApp() });
    const writes = countWrites();
    await Promise.all(Array.from({ length: 60 }, (_, i) => store.record(i % 3 === 0 ? "card.streaming" : "robot.sendBySession")));
    expect(writes()).toBe(2);
    expect(await store.month()).toMatchObject({ calls: 60, byApi: { "card.streaming": 20, "robot.sendBySession": 40 } });
  });

  it("writes a lone count at once, and counts made during a write right after it", async () => {
    const store = new ApiUsageStore(db.table, { app: freshApp() });
    const writes = countWrites();
    await store.record("robot.sendBySession");
    expect(writes()).toBe(1);
    const first = store.record("card.createAndDeliver");
    const later = [store.record("card.streaming"), store.record("card.streaming", 2)];
    await first;
    await Promise.all(later);
    expect(writes()).toBe(3);
    expect(await store.month()).toMatchObject({ calls: 5, byApi: { "robot.sendBySession": 1, "card.createAndDeliver": 1, "card.streaming": 3 } });
  });

  it("a failed write fails only its own counts; the next ones are still written", async () => {
    const store = new ApiUsageStore(db.table, { app: freshApp() });
    const update = vi.spyOn(ItemTable.prototype, "update").mockRejectedValueOnce(new Error("table down"));
    const lost = store.record("robot.sendBySession");
    const kept = store.record("card.streaming");
    await expect(lost).rejects.toThrow("table down");
    await kept;
    update.mockRestore();
    expect(await store.month()).toMatchObject({ calls: 1, byApi: { "card.streaming": 1 } });
  });
});

describe("LlmUsageStore.record", () => {
  it("40 turns ending at once write the org's month item twice and each user's once or twice, every token counted", async () => {
    const store = new LlmUsageStore(db.table, { timeZone: "Asia/Shanghai", now: () => Date.UTC(2031, 4, 10) });
    const before = await store.org();
    const writes = countWrites("usage#llm#");
    const turn = (i: number) => ({ user: { id: `coalesce-u${i % 4}` }, calls: [{ modelName: "glm", promptTokens: 10, completionTokens: 5, cost: undefined }] });
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.record(turn(i))));
    expect(writes("usage#llm#2031-05")).toBe(2);
    expect(writes()).toBeLessThanOrEqual(2 + 4 * 2);
    const after = await store.org();
    expect(after.tokens - before.tokens).toBe(600);
    expect(after.turns - before.turns).toBe(40);
    expect((await store.user("coalesce-u1")).tokens).toBe(150);
  });
});

describe.each(BACKENDS)("held usage counts on %s", (kind) => {
  const backend = useBackend(kind);

  it("a turn's LLM usage and its API calls go out at the flush, the org's month item in one write", async () => {
    const now = Date.UTC(2031, 6, 10);
    const adds = new CoalescedAdds(backend.table.items(() => now), { holdMs: 60_000 });
    const app = freshApp();
    const api = new ApiUsageStore(backend.table, { app, now: () => now, adds });
    const llm = new LlmUsageStore(backend.table, { timeZone: "Asia/Shanghai", now: () => now, adds });
    const writes = countWrites();
    const counted = [
      llm.record({ user: { id: "held-u1" }, calls: [{ modelName: "glm", promptTokens: 10, completionTokens: 5, cost: 30 }] }),
      api.record("robot.sendBySession"),
      api.record("card.streaming", 2),
    ];
    await Promise.resolve();
    expect(writes()).toBe(0);
    await llm.flush();
    await Promise.all(counted);
    expect(writes("usage#llm#2031-07")).toBe(1);
    expect(writes()).toBe(2);
    expect(await api.month()).toEqual({ month: "2031-07", calls: 3, byApi: { "robot.sendBySession": 1, "card.streaming": 2 } });
    expect(await llm.org()).toMatchObject({ tokens: 15, cost: 30, turns: 1, models: { glm: { input: 10, output: 5, cost: 30, calls: 1 } } });
    // Another app's counts on the same item stay apart.
    expect((await new ApiUsageStore(backend.table, { app: freshApp(), now: () => now }).month()).calls).toBe(0);
  });

  it("held counts nobody flushes are written once the hold ends", async () => {
    const now = Date.UTC(2031, 7, 10);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const adds = new CoalescedAdds(backend.table.items(() => now), { holdMs: 1000 });
      const api = new ApiUsageStore(backend.table, { app: freshApp(), now: () => now, adds });
      const writes = countWrites();
      const counted = Promise.all([api.record("robot.sendBySession"), api.record("robot.sendBySession")]);
      vi.advanceTimersByTime(999);
      expect(writes()).toBe(0);
      vi.advanceTimersByTime(1);
      await counted;
      expect(writes()).toBe(1);
      expect((await api.month()).calls).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("adds the counts of a month on the former per-app item", async () => {
    const now = Date.UTC(2031, 8, 10);
    const app = freshApp();
    const items = backend.table.items(() => now);
    await items.put(
      { pk: `usage#dingtalk#${app}`, sk: `month#${monthKey(now)}` },
      { calls: 7, "api:robot.sendBySession": 7, expiresAt: Math.floor(now / 1000) + 86_400 },
    );
    const api = new ApiUsageStore(backend.table, { app, now: () => now });
    await api.record("robot.sendBySession");
    await api.record("card.streaming");
    expect(await api.month()).toEqual({ month: "2031-09", calls: 9, byApi: { "robot.sendBySession": 8, "card.streaming": 1 } });
    // What the card governor reads per answer, in two requests: the same count, and the pause from the app's partition.
    expect(await api.state()).toEqual({ month: await api.month(), pause: undefined });
    await api.pauseCards(now + 60_000, "card.streaming: Throttling");
    expect(await api.state()).toMatchObject({ month: { calls: 9 }, pause: { until: now + 60_000, reason: "card.streaming: Throttling" } });
  });
});
