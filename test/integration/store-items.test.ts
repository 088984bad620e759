// The item contract every store relies on, on both backends (dynalite and the Tablestore double through
// the real SDKs) and on the gateway's embedded store (dynalite in this process, no socket): values round-trip, expired items are absent (get, query, row conditions), each
// condition form, set/add/remove updates, conditional deletes, and one-partition queries (prefix,
// inclusive ranges, order, limit, expiry, paging).
import { beforeAll, describe, expect, it } from "vitest";
import {
  absent,
  and,
  compare,
  eq,
  exists,
  missing,
  ne,
  or,
  type Condition,
  type ItemTable,
} from "../../functions/core/store/items.js";
import { BACKENDS, useBackend } from "../helpers/backends.js";

const T0 = 1_800_000_000_000;
const clock = { t: T0 };
const nowS = () => Math.floor(clock.t / 1000);
let seq = 0;
const fresh = (sk = "x") => ({ pk: `items#${++seq}`, sk });
const live = () => nowS() + 3600;

describe.each([...BACKENDS, "embedded" as const])("%s", (kind) => {
  const db = useBackend(kind);
  const items = (): ItemTable => db.table.items(() => clock.t);

  describe("values", () => {
    it("round-trip every JSON-like value, with pk and sk on the item read", async () => {
      const key = fresh();
      const fields = {
        text: "你好, world",
        empty: "",
        int: 42,
        negative: -7,
        float: 1.5,
        big: 1_700_000_000_123,
        yes: true,
        no: false,
        nothing: null,
        list: [1, "two", [3], { four: 4 }],
        map: { a: 1, nested: { b: ["c"] }, n: null },
        "api:card.streaming": 3,
        expiresAt: live(),
      };
      expect(await items().put(key, { ...fields, skipped: undefined })).toBe(true);
      expect(await items().get(key)).toEqual({ ...fields, ...key });
    });

    it("refuses what the contract does not allow, before any request", async () => {
      const key = fresh();
      await expect(items().put(key, { a: 1 })).rejects.toThrow(/expiresAt/);
      await expect(items().put(key, { pk: "x", expiresAt: live() })).rejects.toThrow(/key/);
      await expect(items().put(key, { n: Number.NaN, expiresAt: live() })).rejects.toThrow(/non-finite/);
      await expect(items().update(key, { set: { a: 1 } })).rejects.toThrow(/expiresAt/);
      await expect(items().update(key, { add: { n: 1.5 }, set: { expiresAt: live() } })).rejects.toThrow(/whole number/);
      await expect(items().update(key, { set: { a: 1, expiresAt: live() }, remove: ["a"] })).rejects.toThrow(/not two at once/);
      await expect(items().update(key, {}, { if: exists })).rejects.toThrow(/nothing/);
      await expect(items().query("p", { limit: 0 })).rejects.toThrow(/limit/);
      expect(await items().get(key)).toBeUndefined();
    });
  });

  describe("expiry", () => {
    it("an expired item is absent to get and to row conditions, and can be written over", async () => {
      const key = fresh();
      await items().put(key, { v: 1, expiresAt: nowS() + 10 });
      expect(await items().get(key)).toMatchObject({ v: 1 });
      expect(await items().put(key, { v: 2, expiresAt: live() }, { if: absent })).toBe(false);

      clock.t += 10_000;
      expect(await items().get(key)).toBeUndefined();
      expect(await items().update(key, { set: { v: 3 } }, { if: exists })).toBe(false);
      expect(await items().put(key, { v: 4, expiresAt: live() }, { if: absent })).toBe(true);
      expect(await items().get(key)).toMatchObject({ v: 4 });
    });

    it("views with different clocks see the same item differently", async () => {
      const key = fresh();
      await items().put(key, { expiresAt: nowS() + 5 });
      expect(await db.table.items(() => clock.t + 4_000).get(key)).toBeDefined();
      expect(await db.table.items(() => clock.t + 5_000).get(key)).toBeUndefined();
    });
  });

  describe("conditions", () => {
    const stored = { n: 5, s: "m", b: true };
    async function holds(c: Condition): Promise<boolean> {
      const key = fresh();
      await items().put(key, { ...stored, expiresAt: live() });
      const ok = await items().update(key, { set: { touched: true, expiresAt: live() } }, { if: c });
      expect((await items().get(key))?.touched === true).toBe(ok);
      return ok;
    }
    async function holdsOnMissing(c: Condition): Promise<boolean> {
      const key = fresh();
      const ok = await items().put(key, { expiresAt: live() }, { if: c });
      expect((await items().get(key)) !== undefined).toBe(ok);
      return ok;
    }

    it("compares numbers, strings and booleans", async () => {
      const table: [Condition, boolean][] = [
        [eq("n", 5), true],
        [eq("n", 6), false],
        [ne("n", 5), false],
        [ne("n", 6), true],
        [compare("n", "<", 6), true],
        [compare("n", "<", 5), false],
        [compare("n", "<=", 5), true],
        [compare("n", ">", 4), true],
        [compare("n", ">", 5), false],
        [compare("n", ">=", 5), true],
        [compare("s", "<", "n"), true],
        [compare("s", ">", "n"), false],
        [eq("b", true), true],
        [eq("b", false), false],
      ];
      for (const [c, expected] of table) expect(await holds(c), JSON.stringify(c)).toBe(expected);
    });

    it("a missing attribute fails every comparison except <>", async () => {
      expect(await holds(eq("gone", 1))).toBe(false);
      expect(await holds(compare("gone", "<", 1))).toBe(false);
      expect(await holds(compare("gone", ">=", 1))).toBe(false);
      expect(await holds(ne("gone", 1))).toBe(true);
      expect(await holds(missing("gone"))).toBe(true);
      expect(await holds(missing("n"))).toBe(false);
      expect(await holds(or(missing("n"), compare("n", "<", 5)))).toBe(false);
      expect(await holds(or(missing("n"), compare("n", "<", 6)))).toBe(true);
      expect(await holdsOnMissing(or(missing("n"), compare("n", "<", 5)))).toBe(true);
    });

    it("row conditions, and/or", async () => {
      expect(await holds(exists)).toBe(true);
      expect(await holds(absent)).toBe(false);
      expect(await holds(and(eq("n", 5), eq("s", "m")))).toBe(true);
      expect(await holds(and(eq("n", 5), eq("s", "x")))).toBe(false);
      expect(await holds(or(eq("n", 0), eq("s", "m")))).toBe(true);
      expect(await holds(or(eq("n", 0), and(missing("gone"), eq("b", false))))).toBe(false);
    });

    it("on a missing item: absent, missing and <> hold; exists and other comparisons do not", async () => {
      expect(await holdsOnMissing(absent)).toBe(true);
      expect(await holdsOnMissing(exists)).toBe(false);
      expect(await holdsOnMissing(missing("n"))).toBe(true);
      expect(await holdsOnMissing(ne("n", 5))).toBe(true);
      expect(await holdsOnMissing(eq("n", 5))).toBe(false);
      expect(await holdsOnMissing(or(absent, eq("n", 5)))).toBe(true);
      expect(await holdsOnMissing(and(absent, eq("n", 5)))).toBe(false);
    });
  });

  describe("update and delete", () => {
    it("sets, adds (from 0 when missing) and removes in one write", async () => {
      const key = fresh();
      await items().update(key, { add: { calls: 2, "api:robot.send": 2 }, set: { expiresAt: live(), who: "a" } });
      await items().update(key, { add: { calls: 3, "api:robot.send": -1 }, remove: ["who"], set: { expiresAt: live() } });
      const got = await items().get(key);
      expect(got).toMatchObject({ calls: 5, "api:robot.send": 1 });
      expect(got).not.toHaveProperty("who");
    });

    it("concurrent adds are all counted", async () => {
      const key = fresh();
      await Promise.all(Array.from({ length: 40 }, () => items().update(key, { add: { n: 1 }, set: { expiresAt: live() } })));
      expect(await items().get(key)).toMatchObject({ n: 40 });
    });

    it("returns the item as written, or undefined when the condition failed", async () => {
      const key = fresh();
      await items().put(key, { v: 1, keep: "k", expiresAt: live() });
      expect(await items().update(key, { set: { v: 2 } }, { if: eq("v", 1), returnItem: true })).toEqual({ ...key, v: 2, keep: "k", expiresAt: live() });
      expect(await items().update(key, { set: { v: 3 } }, { if: eq("v", 1), returnItem: true })).toBeUndefined();
      expect(await items().get(key)).toMatchObject({ v: 2 });
    });

    it("an optimistic lock on a version lets exactly one of several writers win", async () => {
      const key = fresh();
      await items().put(key, { version: 1, expiresAt: live() });
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => items().update(key, { set: { version: 2, by: i } }, { if: eq("version", 1) })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it("deletes only when the condition holds", async () => {
      const key = fresh();
      await items().put(key, { token: "a", expiresAt: live() });
      expect(await items().delete(key, { if: eq("token", "b") })).toBe(false);
      expect(await items().get(key)).toBeDefined();
      expect(await items().delete(key, { if: eq("token", "a") })).toBe(true);
      expect(await items().get(key)).toBeUndefined();
      expect(await items().delete(key)).toBe(true);
    });
  });

  describe("query", () => {
    const pk = `bucket#${Date.now()}`;
    const sks = ["a#1", "a#2", "a#3", "b#1", "b#2", "c", "c#1"];
    beforeAll(async () => {
      for (const sk of sks) await items().put({ pk, sk }, { n: sks.indexOf(sk), expiresAt: live() });
      await items().put({ pk, sk: "a#0" }, { n: -1, expiresAt: nowS() - 1 });
      await items().put({ pk: `${pk}-other`, sk: "a#9" }, { n: 99, expiresAt: live() });
    });
    const skOf = async (p: Promise<Record<string, unknown>[]>) => (await p).map((i) => i.sk);

    it("returns the live items of one partition in sort-key order, with their keys and attributes", async () => {
      const all = await items().query(pk);
      expect(all.map((i) => i.sk)).toEqual(sks);
      expect(all[0]).toEqual({ pk, sk: "a#1", n: 0, expiresAt: live() });
      expect(await items().query("nobody")).toEqual([]);
    });

    it("selects by prefix or by an inclusive range, either end open", async () => {
      expect(await skOf(items().query(pk, { sk: { prefix: "a#" } }))).toEqual(["a#1", "a#2", "a#3"]);
      expect(await skOf(items().query(pk, { sk: { prefix: "c" } }))).toEqual(["c", "c#1"]);
      expect(await skOf(items().query(pk, { sk: { from: "a#2", to: "b#1" } }))).toEqual(["a#2", "a#3", "b#1"]);
      expect(await skOf(items().query(pk, { sk: { from: "b" } }))).toEqual(["b#1", "b#2", "c", "c#1"]);
      expect(await skOf(items().query(pk, { sk: { to: "a#2" } }))).toEqual(["a#1", "a#2"]);
    });

    it("orders descending, limits to live items, and pages on from the last sort key", async () => {
      expect(await skOf(items().query(pk, { descending: true, limit: 3 }))).toEqual(["c#1", "c", "b#2"]);
      expect(await skOf(items().query(pk, { sk: { prefix: "a#" }, limit: 2 }))).toEqual(["a#1", "a#2"]);
      const first = await skOf(items().query(pk, { limit: 4 }));
      const next = await skOf(items().query(pk, { sk: { from: `${String(first.at(-1))}\0` }, limit: 4 }));
      expect([...first, ...next]).toEqual(sks);
    });

    it("drops items as they expire", async () => {
      const later = db.table.items(() => clock.t + 7_200_000);
      expect(await later.query(pk)).toEqual([]);
    });
  });
});
