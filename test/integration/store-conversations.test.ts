// Conversations against a real dynalite: no lost turns under concurrency (one process and several),
// order by message time, expiry, trimming, model/reset/usage, replays, size caps and table outages.
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import {
  ConversationStore,
  MAX_TURN_CHARS,
  turnTokens,
  type Turn,
} from "../../functions/core/store/conversations.js";
import { TableUnavailableError } from "../../functions/core/store/errors.js";
import { openTable } from "../../functions/core/store/table.js";
import { useTestTable } from "../helpers/dynalite.js";

const db = useTestTable();

let seq = 0;
const freshKey = () => `scope-${++seq}-${Math.random().toString(36).slice(2)}`;
const base = { ttlSeconds: 7 * 86_400, maxHistoryTokens: 100_000 };

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const turn = (i: number, role: Turn["role"] = "user"): Turn => ({ role, content: `message ${i}`, at: 1_000 + i, msgId: `m${i}` });

describe("ConversationStore concurrency", () => {
  it("keeps all 50 concurrent appends, ordered by message time, when submitted shuffled", async () => {
    const store = new ConversationStore(db.table, base);
    const key = freshKey();
    const order = shuffled(Array.from({ length: 50 }, (_, i) => i));
    const results = await Promise.all(order.map((i) => store.append(key, [turn(i)])));
    for (const r of results) expect(r.exists).toBe(true);
    const expected = Array.from({ length: 50 }, (_, i) => 1_000 + i);
    const latest = results.reduce((a, b) => (b.version > a.version ? b : a));
    expect(latest.turns.map((t) => t.at)).toEqual(expected);
    const conv = await store.load(key);
    expect(conv.turns.map((t) => t.at)).toEqual(expected);
  });

  it("keeps 200 concurrent appends through separate store instances", async () => {
    const key = freshKey();
    const order = shuffled(Array.from({ length: 200 }, (_, i) => i));
    await Promise.all(order.map((i) => new ConversationStore(db.table, base).append(key, [turn(i)])));
    const conv = await new ConversationStore(db.table, base).load(key);
    expect(conv.turns).toHaveLength(200);
    expect(conv.turns.map((t) => t.content)).toEqual(Array.from({ length: 200 }, (_, i) => `message ${i}`));
  });

  it("resolves version conflicts between clients (separate processes) without losing a turn", async () => {
    const clients = [db.table, ...(await Promise.all(Array.from({ length: 5 }, () => db.openTable())))];
    let backoffs = 0;
    const stores = clients.map(
      (t) =>
        new ConversationStore(t, {
          ...base,
          sleep: (ms) => {
            backoffs++;
            return new Promise((r) => setTimeout(r, ms));
          },
        }),
    );
    const key = freshKey();
    const order = shuffled(Array.from({ length: 60 }, (_, i) => i));
    await Promise.all(order.map((i, n) => stores[n % stores.length]!.append(key, [turn(i)])));
    const conv = await stores[0]!.load(key);
    expect(conv.turns.map((t) => t.at)).toEqual(Array.from({ length: 60 }, (_, i) => 1_000 + i));
    expect(backoffs).toBeGreaterThan(0);
    expect(conv.version).toBeGreaterThanOrEqual(clients.length);
  });

  it("keeps ties in arrival order and inserts late, older messages in place", async () => {
    const store = new ConversationStore(db.table, base);
    const key = freshKey();
    await store.append(key, [
      { role: "user", content: "q2", at: 200, msgId: "b" },
      { role: "assistant", content: "a2", at: 200, msgId: "b" },
    ]);
    await store.append(key, [
      { role: "user", content: "q1", at: 100, msgId: "a" },
      { role: "assistant", content: "a1", at: 100, msgId: "a" },
    ]);
    const conv = await store.load(key);
    expect(conv.turns.map((t) => t.content)).toEqual(["q1", "a1", "q2", "a2"]);
  });

  it("writes on top of a conversation loaded earlier, and survives it being stale", async () => {
    const store = new ConversationStore(db.table, base);
    const other = new ConversationStore(await db.openTable(), base);
    const key = freshKey();
    await store.append(key, [turn(1)]);
    const loaded = await store.load(key);
    expect((await store.append(key, [turn(2)], { basedOn: loaded })).turns.map((t) => t.at)).toEqual([1_001, 1_002]);
    await other.append(key, [turn(3)]);
    const written = await store.append(key, [turn(4)], { basedOn: loaded });
    expect(written.turns.map((t) => t.at)).toEqual([1_001, 1_002, 1_003, 1_004]);
    expect((await other.load(key)).turns).toHaveLength(4);
  });

  it("skips a replayed turn (same msgId and role), e.g. from a retried job", async () => {
    const store = new ConversationStore(db.table, base);
    const key = freshKey();
    const usage = { promptTokens: 10, completionTokens: 5 };
    await store.append(key, [turn(1), turn(1, "assistant")], { usage });
    const again = await store.append(key, [turn(1), turn(1, "assistant")], { usage });
    expect(again.turns).toHaveLength(2);
    expect(again.usage).toEqual(usage);
  });
});

describe("ConversationStore expiry", () => {
  it("reads an expired conversation as empty and can write it again", async () => {
    const clock = { t: 1_800_000_000_000 };
    const store = new ConversationStore(db.table, { ...base, ttlSeconds: 3_600, now: () => clock.t });
    const key = freshKey();
    await store.append(key, [turn(1)], { usage: { promptTokens: 3, completionTokens: 4 } });
    await store.setModel(key, "qwen");
    clock.t += 3_599_000;
    expect((await store.load(key)).turns).toHaveLength(1); // each write refreshed the idle expiry

    clock.t += 3_601_000;
    const expired = await store.load(key);
    expect(expired).toEqual({ key, turns: [], usage: { promptTokens: 0, completionTokens: 0 }, version: 0, exists: false });

    const written = await store.append(key, [turn(2)]);
    expect(written.exists).toBe(true);
    expect(written.turns.map((t) => t.msgId)).toEqual(["m2"]);
    expect(written.model).toBeUndefined();
    expect(written.usage).toEqual({ promptTokens: 0, completionTokens: 0 });
    expect((await store.load(key)).turns.map((t) => t.msgId)).toEqual(["m2"]);
  });

  it("reads a missing conversation as empty", async () => {
    const conv = await new ConversationStore(db.table, base).load(freshKey());
    expect(conv).toMatchObject({ turns: [], version: 0, exists: false });
  });
});

describe("ConversationStore trimming and size", () => {
  it("trims on write to the token budget, always keeping the newest turns", async () => {
    const budget = 60;
    const store = new ConversationStore(db.table, { ...base, maxHistoryTokens: budget });
    const key = freshKey();
    for (let i = 0; i < 20; i++) {
      await store.append(key, [
        { role: "user", content: `question number ${i} about something`, at: i * 10, msgId: `q${i}` },
        { role: "assistant", content: `answer number ${i}, explained`, at: i * 10 + 1, msgId: `q${i}` },
      ]);
    }
    const conv = await store.load(key);
    const used = conv.turns.reduce((n, t) => n + turnTokens(t), 0);
    expect(used).toBeLessThanOrEqual(budget);
    expect(conv.turns.at(-1)?.content).toBe("answer number 19, explained");
    expect(conv.turns[0]?.role).toBe("user");
    expect(conv.turns.length).toBeGreaterThanOrEqual(2);
  });

  it("clips a huge turn so the item stays far below 400 KB", async () => {
    const store = new ConversationStore(db.table, { ...base, maxHistoryTokens: 1_000_000 });
    const key = freshKey();
    const huge = "长".repeat(200_000); // 600 KB of UTF-8
    await store.append(key, [{ role: "user", content: huge, at: 1 }]);
    const conv = await store.append(key, [{ role: "assistant", content: huge, at: 2 }]);
    expect(conv.turns.at(-1)?.content.length).toBeLessThanOrEqual(MAX_TURN_CHARS);
    const loaded = await store.load(key);
    expect(loaded.turns.length).toBeGreaterThanOrEqual(1);
    expect(loaded.turns.at(-1)?.role).toBe("assistant");
  });

  it("rejects an invalid turn without writing", async () => {
    const store = new ConversationStore(db.table, base);
    const key = freshKey();
    await expect(store.append(key, [{ role: "system" as "user", content: "x", at: 1 }])).rejects.toThrow(/invalid turn/);
    await expect(store.append(key, [{ role: "user", content: "x", at: Number.NaN }])).rejects.toThrow(/invalid turn/);
    expect((await store.load(key)).exists).toBe(false);
  });
});

describe("ConversationStore model, reset and usage", () => {
  it("accumulates usage counters over appends", async () => {
    const store = new ConversationStore(db.table, base);
    const key = freshKey();
    await store.append(key, [turn(1)], { usage: { promptTokens: 100, completionTokens: 20 } });
    await store.append(key, [turn(2)], { usage: { promptTokens: 150, completionTokens: 30 } });
    expect((await store.load(key)).usage).toEqual({ promptTokens: 250, completionTokens: 50 });
  });

  it("sets and clears the model", async () => {
    const store = new ConversationStore(db.table, base);
    const key = freshKey();
    expect((await store.setModel(key, "deepseek")).model).toBe("deepseek");
    expect((await store.load(key)).model).toBe("deepseek");
    await store.append(key, [turn(1)]);
    expect((await store.load(key)).model).toBe("deepseek");
    expect((await store.setModel(key, undefined)).model).toBeUndefined();
    expect((await store.load(key)).model).toBeUndefined();
  });

  it("reset drops turns and summary but keeps the model and usage", async () => {
    const store = new ConversationStore(db.table, base);
    const key = freshKey();
    await store.setModel(key, "glm-4");
    await store.append(key, [turn(1), turn(1, "assistant")], {
      usage: { promptTokens: 7, completionTokens: 8 },
      summary: "earlier: talked about tea",
    });
    const before = await store.load(key);
    expect(before.summary).toBe("earlier: talked about tea");
    await store.reset(key);
    const after = await store.load(key);
    expect(after).toMatchObject({ turns: [], model: "glm-4", usage: { promptTokens: 7, completionTokens: 8 }, exists: true });
    expect(after.summary).toBeUndefined();
    expect(after.version).toBeGreaterThan(before.version);
    await store.append(key, [turn(2)]);
    expect((await store.load(key)).turns.map((t) => t.msgId)).toEqual(["m2"]);
  });

  it("reset of a missing conversation writes nothing", async () => {
    const store = new ConversationStore(db.table, base);
    const key = freshKey();
    await store.reset(key);
    expect((await store.load(key)).exists).toBe(false);
  });
});

describe("ConversationStore when the table is down", () => {
  it("fails fast with TableUnavailableError", { timeout: 10_000 }, async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const down = await openTable({ endpoint: `http://127.0.0.1:${port}`, name: "dingclaw", dataDir: "", region: "local" }, { env: {} });
    try {
      const store = new ConversationStore(down, base);
      await expect(store.load("x")).rejects.toBeInstanceOf(TableUnavailableError);
      await expect(store.append("x", [turn(1)])).rejects.toBeInstanceOf(TableUnavailableError);
    } finally {
      await down.close();
    }
  });
});
