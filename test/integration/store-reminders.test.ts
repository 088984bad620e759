// The reminder store and the due index on both backends: a reminder is listed for its conversation and
// its setter, its firing is found by a Query on its time bucket, saves are fenced by version (a stale
// writer loses and leaves no stray due entry), the cursor only moves forward, deleteAllFor removes
// everything one person set, and a schedule's finished run only moves forward.
import { describe, expect, it } from "vitest";
import { BUCKET_MS, bucketOf } from "../../functions/core/store/due.js";
import { ReminderLimitError, ReminderStore, type NewReminder } from "../../functions/core/store/reminders.js";
import { ScheduleRuns } from "../../functions/core/store/schedule-runs.js";
import { BACKENDS, useBackend } from "../helpers/backends.js";

let base = Date.UTC(2027, 0, 1);
/** A clock of its own per test, days apart, so tests never share a due bucket. */
function clock() {
  base += 10 * 86_400_000;
  const c = { t: base, now: () => c.t };
  return c;
}
let seq = 0;

function input(over: Partial<NewReminder> = {}): NewReminder {
  const owner = over.owner ?? `staff${++seq}`;
  return { owner, where: `dm:${owner}`, to: { users: [owner] }, robotCode: "robot", text: "开周会", timing: { at: 0 }, nextAt: 0, ...over };
}

describe.each(BACKENDS)("%s", (kind) => {
  const db = useBackend(kind);

  it("stores a reminder, lists it for its chat and its setter, and finds its firing in its bucket", async () => {
    const c = clock();
    const store = new ReminderStore(db.table, { now: c.now });
    const at = c.t + 30 * 60_000;
    const r = await store.create(input({ timing: { at }, nextAt: at, ownerNick: "张三" }), 5);
    expect(r).toMatchObject({ status: "active", nextAt: at, fired: 0, version: 1 });
    expect(r.id).toMatch(/^[a-z2-9]{6}$/);

    expect(await store.find(r.where, r.id)).toEqual(r);
    expect(await store.find("dm:someone-else", r.id)).toBeUndefined();
    expect((await store.listIn(r.where)).map((x) => x.id)).toEqual([r.id]);
    expect((await store.listFor(r.owner)).map((x) => x.id)).toEqual([r.id]);

    expect(await store.due.dueIn(bucketOf(at), at - 1)).toEqual([]);
    expect(await store.due.dueIn(bucketOf(at), at)).toEqual([{ dueAt: at, owner: r.owner, id: r.id }]);
  });

  it("refuses a reminder over the per-person limit of active ones", async () => {
    const c = clock();
    const store = new ReminderStore(db.table, { now: c.now });
    const owner = `limited${++seq}`;
    const first = await store.create(input({ owner, nextAt: c.t + 60_000 }), 2);
    await store.create(input({ owner, nextAt: c.t + 120_000 }), 2);
    await expect(store.create(input({ owner, nextAt: c.t + 180_000 }), 2)).rejects.toBeInstanceOf(ReminderLimitError);
    // A finished one no longer counts; no limit (an admin) is no limit.
    await store.save(first, { ...first, status: "done" });
    await store.create(input({ owner, nextAt: c.t + 180_000 }), 2);
    await store.create(input({ owner, nextAt: c.t + 240_000 }), undefined);
    expect(await store.activeCount(owner)).toBe(3);
  });

  it("moves the due entry with the next firing, and a stale save loses without leaving one behind", async () => {
    const c = clock();
    const store = new ReminderStore(db.table, { now: c.now });
    const first = c.t + 60_000;
    const r = await store.create(input({ timing: { cron: "0 * * * *", timezone: "UTC" }, nextAt: first }), undefined);
    const second = first + 3 * BUCKET_MS;
    const moved = await store.save(r, { ...r, nextAt: second, fired: 1, lastFiredAt: first });
    expect(moved).toMatchObject({ version: 2, nextAt: second, fired: 1 });
    expect(await store.due.dueIn(bucketOf(first), first)).toEqual([]);
    expect(await store.due.dueIn(bucketOf(second), second)).toEqual([{ dueAt: second, owner: r.owner, id: r.id }]);

    // A writer still holding version 1 (a cancel racing the firing) loses.
    const third = second + 2 * BUCKET_MS;
    expect(await store.save(r, { ...r, nextAt: third })).toBeUndefined();
    expect(await store.due.dueIn(bucketOf(third), third)).toEqual([]);
    expect(await store.get(r.owner, r.id)).toMatchObject({ version: 2, nextAt: second });

    const cancelled = await store.save(moved!, { ...moved!, status: "cancelled" });
    expect(cancelled).toMatchObject({ status: "cancelled", version: 3 });
    expect(cancelled!.nextAt).toBeUndefined();
    expect(await store.due.dueIn(bucketOf(second), second)).toEqual([]);
    expect((await store.listIn(r.where)).map((x) => x.status)).toEqual(["cancelled"]);
  });

  it("lists a group's reminders from several setters, active first, and deletes everything one person set", async () => {
    const c = clock();
    const store = new ReminderStore(db.table, { now: c.now });
    const where = `group:cid${++seq}`;
    const to = { group: `cid${seq}` };
    const a = `alice${seq}`;
    const b = `bob${seq}`;
    const late = await store.create(input({ owner: a, where, to, nextAt: c.t + 7_200_000 }), undefined);
    const soon = await store.create(input({ owner: b, where, to, nextAt: c.t + 60_000 }), undefined);
    const failed = await store.create(input({ owner: a, where, to, nextAt: c.t + 120_000 }), undefined);
    await store.save(failed, { ...failed, status: "failed", error: "钉钉拒绝发送" });
    const elsewhere = await store.create(input({ owner: a, nextAt: c.t + 180_000 }), undefined);

    expect((await store.listIn(where)).map((r) => [r.id, r.status])).toEqual([
      [soon.id, "active"],
      [late.id, "active"],
      [failed.id, "failed"],
    ]);
    expect(await store.deleteAllFor(a)).toBe(3);
    expect((await store.listIn(where)).map((r) => r.id)).toEqual([soon.id]);
    expect(await store.listFor(a)).toEqual([]);
    expect(await store.find(elsewhere.where, elsewhere.id)).toBeUndefined();
    expect(await store.due.dueIn(bucketOf(late.nextAt!), late.nextAt!)).toEqual([]);
  });

  it("keeps the cursor moving forward only", async () => {
    const c = clock();
    const store = new ReminderStore(db.table, { now: c.now });
    const start = (await store.due.cursor()) ?? 0;
    const ahead = bucketOf(c.t) + 1000 * BUCKET_MS;
    await store.due.advance(ahead);
    await store.due.advance(ahead - BUCKET_MS);
    expect(await store.due.cursor()).toBe(Math.max(start, ahead));
  });

  it("records a schedule's latest finished occurrence, never moving it back, with the reason when given up", async () => {
    const c = clock();
    const runs = new ScheduleRuns(db.table, { now: c.now });
    const name = `daily-${++seq}`;
    await runs.finish(name, c.t);
    await runs.finish(name, c.t - 60_000);
    expect((await runs.all()).get(name)).toEqual({ done: c.t });
    await runs.finish(name, c.t + 86_400_000, "missed: more than 24 h late");
    expect((await runs.all()).get(name)).toEqual({ done: c.t + 86_400_000, error: "missed: more than 24 h late" });
    await runs.finish(name, c.t + 2 * 86_400_000);
    expect((await runs.all()).get(name)).toEqual({ done: c.t + 2 * 86_400_000 });
  });

  it("finds every due entry of a crowded bucket (more than one query page)", async () => {
    const c = clock();
    const store = new ReminderStore(db.table, { now: c.now });
    const at = bucketOf(c.t) + BUCKET_MS + 60_000;
    const owners = Array.from({ length: 1001 }, (_, i) => `crowd${seq}-${String(i).padStart(4, "0")}`);
    for (let i = 0; i < owners.length; i += 100) await Promise.all(owners.slice(i, i + 100).map((owner) => store.due.add({ dueAt: at, owner, id: "same" })));
    const due = await store.due.dueIn(bucketOf(at), at);
    expect(due).toHaveLength(1001);
    expect(new Set(due.map((e) => e.owner)).size).toBe(1001);
  });
});
