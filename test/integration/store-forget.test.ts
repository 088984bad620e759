// What /forget relies on in the stores, on both backends: pending requests that expire, a conversation
// deleted with what it held, per-message records (AI card records, tool journals) deleted, and a
// completed idempotency record that keeps deduplicating while its reply ledger is dropped.
import { describe, expect, it } from "vitest";
import { ConversationStore } from "../../functions/core/store/conversations.js";
import { ForgetRequestStore } from "../../functions/core/store/forget-requests.js";
import { IdempotencyStore } from "../../functions/core/store/idempotency.js";
import { ToolJournalStore } from "../../functions/core/tools/journal-store.js";
import { BACKENDS, useBackend } from "../helpers/backends.js";

const clock = { t: 1_800_000_000_000 };
const now = () => clock.t;
let seq = 0;
const fresh = (what: string) => `${what}-${++seq}`;

describe.each(BACKENDS)("%s", (kind) => {
  const db = useBackend(kind);

  it("a forget request is pending in its chat only, until cleared or 10 minutes pass", async () => {
    const requests = new ForgetRequestStore(db.table, { now });
    const person = fresh("robot:alice");
    expect(await requests.pending(person, "cidA==")).toBe(false);
    await requests.ask(person, "cidA==");
    expect(await requests.pending(person, "cidA==")).toBe(true);
    expect(await requests.pending(person, "cidB==")).toBe(false);
    await requests.clear(person, "cidA==");
    expect(await requests.pending(person, "cidA==")).toBe(false);

    await requests.ask(person, "cidA==");
    clock.t += 599_000;
    expect(await requests.pending(person, "cidA==")).toBe(true);
    clock.t += 2_000;
    expect(await requests.pending(person, "cidA==")).toBe(false);
  });

  it("a conversation is erased with what it held; erasing again finds nothing", async () => {
    const conversations = new ConversationStore(db.table, { now, ttlSeconds: 86_400, maxHistoryTokens: 8000 });
    const key = fresh("robot:dm");
    await conversations.append(key, [
      { role: "user", content: "我的秘密", at: clock.t, msgId: "m1" },
      { role: "assistant", content: "记住了", at: clock.t, msgId: "m1" },
    ]);
    await conversations.setModel(key, "backup");
    const erased = await conversations.erase(key);
    expect(erased?.turns.map((t) => t.content)).toEqual(["我的秘密", "记住了"]);
    expect(erased?.model).toBe("backup");
    expect((await conversations.load(key)).exists).toBe(false);
    expect(await conversations.erase(key)).toBeUndefined();

    // A later message starts a fresh conversation.
    await conversations.append(key, [{ role: "user", content: "新的开始", at: clock.t + 1, msgId: "m2" }]);
    expect((await conversations.load(key)).turns.map((t) => t.content)).toEqual(["新的开始"]);
  });

  it("a message's tool journal is deleted", async () => {
    const journals = new ToolJournalStore(db.table, { now });
    const messageKey = fresh("robot:msg");
    await journals.forMessage(messageKey).save([{ key: "book_room:{}", state: "done", content: "已预订 301", ok: true }]);

    expect(await journals.delete(messageKey)).toBe(true);
    expect(await journals.forMessage(messageKey).load()).toEqual([]);
    expect(await journals.delete(messageKey)).toBe(false);
  });

  it("a completed claim drops its reply ledger and still deduplicates; one in progress is left alone", async () => {
    const idempotency = new IdempotencyStore(db.table, { now });
    const items = db.table.items(now);
    const done = fresh("robot:done");
    const claimed = await idempotency.claim(done);
    if (claimed.status !== "claimed") throw new Error("not claimed");
    await idempotency.complete(done, claimed.token, { replyId: "pqk-1", sentParts: ["digest-1"] });
    expect(await items.get({ pk: `msg#${done}`, sk: "msg" })).toMatchObject({ replyId: "pqk-1", sentParts: ["digest-1"] });

    expect(await idempotency.forgetReply(done)).toBe(true);
    const kept = await items.get({ pk: `msg#${done}`, sk: "msg" });
    expect(kept).toMatchObject({ status: "COMPLETED" });
    expect(kept).not.toHaveProperty("replyId");
    expect(kept).not.toHaveProperty("sentParts");
    expect(await idempotency.claim(done)).toEqual({ status: "completed" });

    const running = fresh("robot:running");
    await idempotency.claim(running);
    expect(await idempotency.forgetReply(running)).toBe(false);
    expect(await idempotency.forgetReply(fresh("robot:never"))).toBe(false);
  });
});
