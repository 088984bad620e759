// Idempotency records against a real dynalite: exactly-one claims, completed replays, lease takeover
// with fencing tokens, the sent flag across takeovers, resume, release and expiry; the AI card state the
// record keeps on both backends.
import { describe, expect, it } from "vitest";
import { ClaimLostError, IdempotencyStore, type ClaimResult } from "../../functions/core/store/idempotency.js";
import { exists } from "../../functions/core/store/items.js";
import { BACKENDS, useBackend } from "../helpers/backends.js";
import { useTestTable } from "../helpers/dynalite.js";

const db = useTestTable();

let seq = 0;
const freshKey = () => `robot:msg-${++seq}-${Math.random().toString(36).slice(2)}`;

function clock(start = 1_800_000_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

function claimedToken(r: ClaimResult): string {
  if (r.status !== "claimed") throw new Error(`expected claimed, got ${r.status}`);
  return r.token;
}

describe("IdempotencyStore.claim", () => {
  it("lets exactly one of many concurrent claims win, across two clients", async () => {
    const other = await db.openTable();
    const a = new IdempotencyStore(db.table);
    const b = new IdempotencyStore(other);
    const key = freshKey();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claim(key)));
    expect(results.filter((r) => r.status === "claimed")).toHaveLength(1);
    expect(results.filter((r) => r.status === "in_progress")).toHaveLength(19);
    expect(results.find((r) => r.status === "claimed")).toMatchObject({ attempt: 1 });
  });

  it("reports a live claim as in progress and a completed one with its reply id", async () => {
    const store = new IdempotencyStore(db.table);
    const key = freshKey();
    const token = claimedToken(await store.claim(key));
    expect(await store.claim(key)).toEqual({ status: "in_progress" });
    await store.complete(key, token, { replyId: "reply-42" });
    expect(await store.claim(key)).toEqual({ status: "completed", replyId: "reply-42" });
    expect(await store.wasSent(key)).toEqual({ sent: true, replyId: "reply-42" });
  });

  it("takes over a crashed attempt after its lease and fences off the old token", async () => {
    const c = clock();
    const store = new IdempotencyStore(db.table, { now: c.now, leaseMs: 60_000, claimLeaseMs: 60_000 });
    const key = freshKey();
    const old = claimedToken(await store.claim(key));
    c.t += 59_000;
    expect(await store.claim(key)).toEqual({ status: "in_progress" });
    c.t += 2_000;
    const taken = await store.claim(key);
    expect(taken).toMatchObject({ status: "claimed", attempt: 2 });
    const fresh = claimedToken(taken);
    expect(fresh).not.toBe(old);

    await expect(store.complete(key, old, { replyId: "stale", sentParts: ["p1"] })).rejects.toBeInstanceOf(ClaimLostError);
    expect(await store.wasSent(key)).toEqual({ sent: false });

    await store.complete(key, fresh, { replyId: "r-2" });
    expect(await store.claim(key)).toEqual({ status: "completed", replyId: "r-2" });
  });

  it("lets exactly one of several concurrent claims take over an expired lease", async () => {
    const c = clock();
    const store = new IdempotencyStore(db.table, { now: c.now, leaseMs: 1_000 });
    const key = freshKey();
    await store.claim(key);
    c.t += 5_000;
    const results = await Promise.all(Array.from({ length: 8 }, () => store.claim(key)));
    expect(results.filter((r) => r.status === "claimed")).toEqual([expect.objectContaining({ attempt: 2 })]);
  });

  it("records the reply with the completion: sent, its id and its parts in one write", async () => {
    const store = new IdempotencyStore(db.table);
    const key = freshKey();
    const token = claimedToken(await store.claim(key));
    await store.complete(key, token, { replyId: "reply-1", sentParts: ["a", "b"] });
    expect(await store.wasSent(key)).toEqual({ sent: true, replyId: "reply-1" });
    const item = await db.table.items().get({ pk: `msg#${key}`, sk: "msg" });
    expect(item).toMatchObject({ status: "COMPLETED", sent: true, sentParts: ["a", "b"], replyId: "reply-1" });
    expect(await store.claim(key)).toEqual({ status: "completed", replyId: "reply-1" });
  });

  it("keeps the sent flag and reply id of an earlier version's unfinished record across a takeover", async () => {
    const c = clock();
    const store = new IdempotencyStore(db.table, { now: c.now, leaseMs: 1_000 });
    const key = freshKey();
    claimedToken(await store.claim(key));
    // Records written before the completion carried the reply: sent while still in progress.
    await db.table.items(c.now).update({ pk: `msg#${key}`, sk: "msg" }, { set: { sent: true, replyId: "reply-1", sentParts: ["a"] } }, { if: exists });
    c.t += 2_000;
    const second = await store.resume(key, "retry-token");
    expect(second).toMatchObject({ status: "claimed", attempt: 2, progress: { sent: true, replyId: "reply-1", sentParts: ["a"] } });
    expect(await store.wasSent(key)).toEqual({ sent: true, replyId: "reply-1" });
    await store.complete(key, claimedToken(second));
    expect(await store.claim(key)).toEqual({ status: "completed", replyId: "reply-1" });
  });

  it("treats a completed record past its TTL as absent", async () => {
    const c = clock();
    const store = new IdempotencyStore(db.table, { now: c.now, completedTtlSeconds: 60 });
    const key = freshKey();
    const token = claimedToken(await store.claim(key));
    await store.complete(key, token, { replyId: "old-reply", sentParts: [] });
    c.t += 61_000;
    expect(await store.wasSent(key)).toEqual({ sent: false });
    expect(await store.claim(key)).toMatchObject({ status: "claimed", attempt: 1 });
    expect(await store.wasSent(key)).toEqual({ sent: false });
  });
});

describe("IdempotencyStore.resume", () => {
  it("re-acquires with the same token and renews the lease", async () => {
    const c = clock();
    const store = new IdempotencyStore(db.table, { now: c.now, leaseMs: 10_000 });
    const key = freshKey();
    const token = claimedToken(await store.claim(key));
    c.t += 9_000;
    expect(await store.resume(key, token)).toMatchObject({ status: "claimed", token, attempt: 1 });
    c.t += 9_000; // 18 s after the claim, 9 s after the renewal: still live
    expect(await store.claim(key)).toEqual({ status: "in_progress" });
  });

  it("refuses a foreign live claim, takes over an expired one, and reports completion", async () => {
    const c = clock();
    const store = new IdempotencyStore(db.table, { now: c.now, leaseMs: 10_000 });
    const key = freshKey();
    const holder = claimedToken(await store.claim(key));
    expect(await store.resume(key, "someone-else")).toEqual({ status: "in_progress" });
    c.t += 11_000;
    expect(await store.resume(key, "retry-token")).toMatchObject({ status: "claimed", token: "retry-token", attempt: 2 });
    await expect(store.complete(key, holder)).rejects.toBeInstanceOf(ClaimLostError);
    await store.complete(key, "retry-token", { replyId: "r" });
    expect(await store.resume(key, "retry-token")).toEqual({ status: "completed", replyId: "r" });
  });

  it("re-creates a released record so a retried job can run", async () => {
    const store = new IdempotencyStore(db.table);
    const key = freshKey();
    const token = claimedToken(await store.claim(key));
    await store.release(key, token);
    expect(await store.resume(key, token)).toMatchObject({ status: "claimed", token, attempt: 1 });
    expect(await store.claim(key)).toEqual({ status: "in_progress" });
  });
});

describe("IdempotencyStore claim lease and delivery progress", () => {
  it("holds a fresh claim only briefly until the worker resumes it with the full lease", async () => {
    const c = clock();
    const store = new IdempotencyStore(db.table, { now: c.now, leaseMs: 180_000, claimLeaseMs: 30_000 });
    const abandoned = freshKey();
    claimedToken(await store.claim(abandoned));
    c.t += 31_000;
    expect(await store.claim(abandoned)).toMatchObject({ status: "claimed", attempt: 2 });

    const resumed = freshKey();
    const token = claimedToken(await store.claim(resumed));
    expect(await store.resume(resumed, token)).toMatchObject({ status: "claimed" });
    c.t += 31_000;
    expect(await store.claim(resumed)).toEqual({ status: "in_progress" });
  });

  it("hands recorded parts and the sent flag to the attempt that resumes or takes over", async () => {
    const c = clock();
    const store = new IdempotencyStore(db.table, { now: c.now, leaseMs: 10_000 });
    const key = freshKey();
    const token = claimedToken(await store.claim(key));
    await store.recordParts(key, token, ["p1", "p2"]);
    expect(await store.resume(key, token)).toMatchObject({ progress: { sent: false, sentParts: ["p1", "p2"] } });
    c.t += 11_000;
    expect(await store.resume(key, "next")).toMatchObject({ attempt: 2, progress: { sentParts: ["p1", "p2"] } });
    await expect(store.recordParts(key, token, ["p1", "p2", "p3"])).rejects.toBeInstanceOf(ClaimLostError);
    await store.complete(key, "next", { replyId: "q1", sentParts: ["p1", "p2", "p3"] });
    c.t += 11_000;
    expect(await store.resume(key, "third")).toEqual({ status: "completed", replyId: "q1" });
  });
});

describe("IdempotencyStore.complete / release", () => {
  it("completes idempotently for the same token", async () => {
    const store = new IdempotencyStore(db.table);
    const key = freshKey();
    const token = claimedToken(await store.claim(key));
    await store.complete(key, token, { replyId: "a" });
    await store.complete(key, token);
    expect(await store.claim(key)).toEqual({ status: "completed", replyId: "a" });
  });

  it("release deletes the record so a redelivery is claimed afresh", async () => {
    const store = new IdempotencyStore(db.table);
    const key = freshKey();
    const token = claimedToken(await store.claim(key));
    await store.release(key, token);
    expect(await store.claim(key)).toMatchObject({ status: "claimed", attempt: 1 });
  });

  it("release with a stale token leaves the new holder alone", async () => {
    const c = clock();
    const store = new IdempotencyStore(db.table, { now: c.now, leaseMs: 1_000 });
    const key = freshKey();
    const old = claimedToken(await store.claim(key));
    c.t += 2_000;
    claimedToken(await store.claim(key));
    await store.release(key, old);
    expect(await store.claim(key)).toEqual({ status: "in_progress" });
  });

  it("release after the reply went out (an earlier version's record) completes instead of deleting", async () => {
    const store = new IdempotencyStore(db.table);
    const key = freshKey();
    const token = claimedToken(await store.claim(key));
    await db.table.items().update({ pk: `msg#${key}`, sk: "msg" }, { set: { sent: true, replyId: "sent-1" } }, { if: exists });
    await store.release(key, token);
    expect(await store.claim(key)).toEqual({ status: "completed", replyId: "sent-1" });
  });

  it("recordParts and complete on a record nobody claimed report a lost claim", async () => {
    const store = new IdempotencyStore(db.table);
    const key = freshKey();
    await expect(store.recordParts(key, "nope", ["p"])).rejects.toThrow(/no longer held.*no record/);
    await expect(store.complete(key, "nope", { sentParts: ["p"] })).rejects.toBeInstanceOf(ClaimLostError);
  });
});

describe.each(BACKENDS)("IdempotencyStore AI card state on %s", (kind) => {
  const backend = useBackend(kind);

  it("tells a resuming attempt whether an earlier one may have made the card, and whether it was finalized", async () => {
    const c = clock();
    const store = new IdempotencyStore(backend.table, { now: c.now, leaseMs: 10_000 });
    const key = freshKey();
    const token = claimedToken(await store.claim(key));
    const first = await store.resume(key, token, { card: true });
    expect(first).toMatchObject({ status: "claimed", progress: { sentParts: [] } });
    expect(first.status === "claimed" && first.progress?.card).toBeUndefined();
    // The same job retried (same token): the first run may have made the card.
    expect(await store.resume(key, token, { card: true })).toMatchObject({ progress: { card: "opened" } });
    await store.recordParts(key, token, ["p1"], { cardFinalized: true });
    c.t += 11_000;
    expect(await store.resume(key, "next", { card: true })).toMatchObject({ attempt: 2, progress: { card: "finalized", sentParts: ["p1"] } });

    // Attempts that could not make a card leave no mark; a takeover sees the opens before it.
    const plain = freshKey();
    const t1 = claimedToken(await store.claim(plain));
    await store.resume(plain, t1);
    const again = await store.resume(plain, t1, { card: true });
    expect(again.status === "claimed" && again.progress?.card).toBeUndefined();
    c.t += 11_000;
    expect(await store.resume(plain, "other")).toMatchObject({ attempt: 2, progress: { card: "opened" } });

    // A record the worker re-creates (released, or never claimed) starts without earlier opens.
    const missing = freshKey();
    const created = await store.resume(missing, "fresh", { card: true });
    expect(created.status === "claimed" && created.progress?.card).toBeUndefined();
    expect(await store.resume(missing, "fresh", { card: true })).toMatchObject({ progress: { card: "opened" } });
  });
});
