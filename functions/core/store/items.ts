// The item contract every store is written against, whatever the backend (DynamoDB API or Tablestore):
// items keyed by pk/sk strings holding plain JSON-like values, conditional writes with a small structured
// condition, set / atomic add / remove updates, and one-partition range queries. Every item carries
// `expiresAt` (epoch s); reads, queries and the `row` conditions treat expired items as absent.
// `ItemTable` checks each call once for both backends and binds it to the caller's clock.

/** Every item carries this attribute (epoch seconds); at or past it the item counts as absent. */
export const TTL_ATTRIBUTE = "expiresAt";
/**
 * How far ahead `expiresAt` may be: a year and a day. Tablestore's table TTL counts per attribute from
 * when it was written, so an attribute must also be rewritten within this time to outlive it there.
 */
export const MAX_ITEM_LIFETIME_S = 366 * 86_400;
/** The key attributes; no item attribute may use these names. */
export const KEY_ATTRIBUTES = ["pk", "sk"] as const;

export type Scalar = string | number | boolean;
/** What an attribute holds. Object fields that are `undefined` are left out. */
export type Value = Scalar | null | Value[] | { [key: string]: Value | undefined };
/** An item's attributes as written (`undefined` fields are left out). */
export type Fields = Record<string, Value | undefined>;
/** An item as read: its attributes plus `pk` and `sk`. */
export type Item = Record<string, unknown>;

export interface ItemKey {
  pk: string;
  sk: string;
}

export type Comparator = "=" | "<>" | "<" | "<=" | ">" | ">=";

/**
 * A write condition, evaluated on the item as stored:
 * - `{ row: "exists" }`: a live item is there; `{ row: "absent" }`: none is (missing or expired).
 * - `{ attr, cmp, value }`: compares an attribute with a value of the same type. A missing attribute
 *   (or a missing item) fails every comparison except `<>`, which it passes (DynamoDB's rule).
 * - `{ missing: attr }`: the attribute is not there (true on a missing item).
 * - `{ and: [...] }` / `{ or: [...] }`.
 */
export type Condition =
  | { row: "exists" | "absent" }
  | { attr: string; cmp: Comparator; value: Scalar }
  | { missing: string }
  | { and: Condition[] }
  | { or: Condition[] };

export interface Update {
  /** Attributes to write; `undefined` entries are ignored. */
  set?: Fields;
  /** Atomic increments by whole numbers; a missing attribute counts from 0. */
  add?: Record<string, number>;
  remove?: string[];
}

/** Sort-key selection within one partition: a prefix, or an inclusive range (either end open). */
export type SortKeyRange = { prefix: string } | { from?: string; to?: string };

export interface QueryOptions {
  sk?: SortKeyRange;
  /** Most items returned; default 100, at most 1000. Page on with `{ from: lastSk + "\0" }`. */
  limit?: number;
  /** Highest sort key first. */
  descending?: boolean;
}

export interface WriteOptions {
  if?: Condition;
}

/** What a backend implements. Reads may return expired items; `nowS` is the caller's clock (epoch s). */
export interface ItemBackend {
  get(key: ItemKey): Promise<Item | undefined>;
  /** Resolves false when the condition failed. */
  put(key: ItemKey, fields: Fields, condition: Condition | undefined, nowS: number): Promise<boolean>;
  /** Resolves false when the condition failed, else true, or the item as written with `returnItem`. */
  update(key: ItemKey, update: Update, condition: Condition | undefined, nowS: number, returnItem: boolean): Promise<boolean | Item>;
  delete(key: ItemKey, condition: Condition | undefined, nowS: number): Promise<boolean>;
  /** Live items (expiresAt > nowS) of one partition, in sort-key order, at most `limit`. */
  query(pk: string, opts: { sk?: SortKeyRange; limit: number; descending: boolean }, nowS: number): Promise<Item[]>;
}

// ── condition builders ─────────────────────────────────────────────────────────────────────────

export const exists: Condition = { row: "exists" };
export const absent: Condition = { row: "absent" };
export const eq = (attr: string, value: Scalar): Condition => ({ attr, cmp: "=", value });
export const ne = (attr: string, value: Scalar): Condition => ({ attr, cmp: "<>", value });
export const compare = (attr: string, cmp: Comparator, value: Scalar): Condition => ({ attr, cmp, value });
export const missing = (attr: string): Condition => ({ missing: attr });
export const and = (...of: Condition[]): Condition => ({ and: of });
export const or = (...of: Condition[]): Condition => ({ or: of });

/** Whether the condition holds where no item is stored (every attribute missing). */
export function holdsOnMissingItem(c: Condition): boolean {
  if ("row" in c) return c.row === "absent";
  if ("attr" in c) return c.cmp === "<>";
  if ("missing" in c) return true;
  if ("and" in c) return c.and.every(holdsOnMissingItem);
  return c.or.some(holdsOnMissingItem);
}

/** True when the item is there and not expired at `nowS`. */
export function isLive(item: Item | undefined, nowS: number): item is Item {
  const e = item?.[TTL_ATTRIBUTE];
  return typeof e === "number" && e > nowS;
}

// ── checks shared by every backend ───────────────────────────────────────────────────────────────

export const MAX_QUERY_LIMIT = 1000;
const MAX_NAME_LENGTH = 255;

function checkName(name: string, where: string): void {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME_LENGTH)
    throw new TypeError(`${where}: attribute names are 1-${MAX_NAME_LENGTH} characters`);
  if ((KEY_ATTRIBUTES as readonly string[]).includes(name)) throw new TypeError(`${where}: "${name}" is the key, not an attribute`);
}

function checkScalar(value: unknown, where: string): void {
  if (typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number" && Number.isFinite(value)) return;
  throw new TypeError(`${where}: a condition compares with a string, a finite number or a boolean`);
}

function checkValue(value: unknown, where: string, depth = 0): void {
  if (depth > 32) throw new TypeError(`${where}: values nest at most 32 levels`);
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`${where}: cannot store a non-finite number (${value})`);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) checkValue(v, where, depth + 1);
    return;
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) if (v !== undefined) checkValue(v, where, depth + 1);
    return;
  }
  throw new TypeError(`${where}: only strings, numbers, booleans, null, arrays and plain objects can be stored`);
}

function checkKey(key: ItemKey): void {
  if (typeof key.pk !== "string" || key.pk.length === 0 || typeof key.sk !== "string" || key.sk.length === 0)
    throw new TypeError("item key: pk and sk are non-empty strings");
}

function checkCondition(c: Condition, depth = 0): void {
  if (depth > 8) throw new TypeError("condition: nests at most 8 levels");
  if ("row" in c) return;
  if ("attr" in c) {
    checkName(c.attr, "condition");
    checkScalar(c.value, "condition");
    return;
  }
  if ("missing" in c) return checkName(c.missing, "condition");
  const parts = "and" in c ? c.and : c.or;
  if (parts.length === 0) throw new TypeError("condition: and/or need at least one part");
  for (const p of parts) checkCondition(p, depth + 1);
}

function checkExpiry(fields: Fields | undefined, where: string, nowS: number, required: boolean): void {
  const e = fields?.[TTL_ATTRIBUTE];
  if (e === undefined && !required) return;
  if (typeof e !== "number" || !Number.isSafeInteger(e))
    throw new TypeError(`${where}: an item that may be created must set ${TTL_ATTRIBUTE} (epoch seconds)`);
  if (e > nowS + MAX_ITEM_LIFETIME_S) throw new TypeError(`${where}: ${TTL_ATTRIBUTE} is at most ${MAX_ITEM_LIFETIME_S} s ahead`);
}

function definedEntries(fields: Fields | undefined): [string, Value][] {
  return Object.entries(fields ?? {}).filter((e): e is [string, Value] => e[1] !== undefined);
}

/** Drops `undefined` fields and checks names and values. */
function cleanFields(fields: Fields | undefined, where: string): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const [name, value] of definedEntries(fields)) {
    checkName(name, where);
    checkValue(value, `${where} ${name}`);
    out[name] = value;
  }
  return out;
}

function cleanUpdate(u: Update, condition: Condition | undefined, nowS: number): Update {
  const set = cleanFields(u.set, "update");
  const add: Record<string, number> = {};
  for (const [name, n] of Object.entries(u.add ?? {})) {
    checkName(name, "update");
    if (!Number.isSafeInteger(n)) throw new TypeError(`update: add ${name} needs a whole number (got ${n})`);
    add[name] = n;
  }
  const remove = [...new Set(u.remove ?? [])];
  for (const name of remove) checkName(name, "update");
  const names = [...Object.keys(set), ...Object.keys(add), ...remove];
  if (names.length === 0) throw new TypeError("update: nothing to set, add or remove");
  if (new Set(names).size !== names.length) throw new TypeError("update: an attribute can be set, added or removed, not two at once");
  if (remove.includes(TTL_ATTRIBUTE)) throw new TypeError(`update: ${TTL_ATTRIBUTE} cannot be removed`);
  checkExpiry(set, "update", nowS, !condition || holdsOnMissingItem(condition));
  return { set, add, remove };
}

/**
 * A store's view of the table: checks every call, reads through the store's clock (expired items are
 * absent), and answers a failed condition with `false` / `undefined` instead of an exception.
 */
export class ItemTable {
  constructor(
    private readonly backend: ItemBackend,
    private readonly now: () => number = Date.now,
  ) {}

  private nowS(): number {
    return Math.floor(this.now() / 1000);
  }

  /** The live item, or undefined when missing or expired. */
  async get(key: ItemKey): Promise<Item | undefined> {
    checkKey(key);
    const item = await this.backend.get(key);
    return isLive(item, this.nowS()) ? item : undefined;
  }

  /** Writes the whole item (replacing any); false when the condition failed. */
  async put(key: ItemKey, fields: Fields, opts: WriteOptions = {}): Promise<boolean> {
    checkKey(key);
    const nowS = this.nowS();
    const clean = cleanFields(fields, "put");
    checkExpiry(clean, "put", nowS, true);
    if (opts.if) checkCondition(opts.if);
    return this.backend.put(key, clean, opts.if, nowS);
  }

  /** Changes some attributes (creating the item when the condition allows a missing one); false when the condition failed. */
  update(key: ItemKey, update: Update, opts?: WriteOptions): Promise<boolean>;
  /** The same, resolving to the item as written, or undefined when the condition failed. */
  update(key: ItemKey, update: Update, opts: WriteOptions & { returnItem: true }): Promise<Item | undefined>;
  async update(key: ItemKey, update: Update, opts: WriteOptions & { returnItem?: boolean } = {}): Promise<boolean | Item | undefined> {
    checkKey(key);
    if (opts.if) checkCondition(opts.if);
    const nowS = this.nowS();
    const clean = cleanUpdate(update, opts.if, nowS);
    const out = await this.backend.update(key, clean, opts.if, nowS, opts.returnItem === true);
    if (!opts.returnItem) return out !== false;
    return out === false || out === true ? undefined : out;
  }

  /** Deletes the item; false when the condition failed. */
  async delete(key: ItemKey, opts: WriteOptions = {}): Promise<boolean> {
    checkKey(key);
    if (opts.if) checkCondition(opts.if);
    return this.backend.delete(key, opts.if, this.nowS());
  }

  /** Live items of partition `pk` in sort-key order (see QueryOptions). */
  async query(pk: string, opts: QueryOptions = {}): Promise<Item[]> {
    if (typeof pk !== "string" || pk.length === 0) throw new TypeError("query: pk is a non-empty string");
    const limit = opts.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) throw new TypeError(`query: limit is 1-${MAX_QUERY_LIMIT}`);
    const nowS = this.nowS();
    const items = await this.backend.query(pk, { ...(opts.sk ? { sk: opts.sk } : {}), limit, descending: opts.descending === true }, nowS);
    return items.filter((i) => isLive(i, nowS)).slice(0, limit);
  }

  /** Every live item of partition `pk` within an optional sort-key range, in order, paging as needed. */
  async queryAll(pk: string, range: { from?: string; to?: string } = {}): Promise<Item[]> {
    const out: Item[] = [];
    let from = range.from;
    for (;;) {
      const sk = { ...range, ...(from !== undefined ? { from } : {}) };
      const page = await this.query(pk, { ...(sk.from !== undefined || sk.to !== undefined ? { sk } : {}), limit: MAX_QUERY_LIMIT });
      out.push(...page);
      if (page.length < MAX_QUERY_LIMIT) return out;
      from = `${String(page.at(-1)!.sk)}\0`;
    }
  }
}
