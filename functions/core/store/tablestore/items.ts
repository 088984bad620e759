// The item contract on Tablestore: GetRow, PutRow, UpdateRow (PUT / INCREMENT / DELETE_ALL),
// DeleteRow with row existence + column conditions, and GetRange for queries, pk/sk as the two STRING
// primary key columns. A failed condition (OTSConditionCheckFail) resolves to false. An update that
// returns the item reads it back after the write (UpdateRow returns only incremented columns).
import TableStore from "tablestore";
import { callTable, TableMissingError } from "../errors.js";
import type { Condition, Fields, Item, ItemBackend, ItemKey, SortKeyRange, Update } from "../items.js";
import { columnName, fromRow, toColumn } from "./codec.js";
import { liveFilter, toTablestoreCondition } from "./conditions.js";
import { backoffDelay, retry } from "../../retry.js";
import { errorCode, isConditionCheckFail, isObjectNotExist, isTablestoreUnavailable } from "./errors.js";

/** Above every sort key we write (U+10FFFF, the highest code point): the exclusive end of a prefix. */
const AFTER_PREFIX = "\u{10FFFF}";

function primaryKey(pk: string, sk: string | object): TableStore.PrimaryKeyInput {
  return [{ pk }, { sk }];
}

function inRange(sk: string, range: SortKeyRange | undefined): boolean {
  if (!range) return true;
  if ("prefix" in range) return sk.startsWith(range.prefix);
  return (range.from === undefined || sk >= range.from) && (range.to === undefined || sk <= range.to);
}

/**
 * Transient failures (network, timeouts, 5xx, throttling) are retried here for every operation, as the
 * AWS SDK does for DynamoDB: the SDK itself retries writes only on some codes and never on a lost
 * answer, which the stores' conditional writes are built to survive. Delays as the SDK's own policy:
 * from 500 ms for throttling, 200 ms otherwise, doubling, at most 3 s, half jitter.
 */
const THROTTLED = new Set(["OTSServerBusy", "OTSQuotaExhausted", "OTSNotEnoughCapacityUnit", "OTSCapacityUnitExhausted", "OTSOperationThrottled"]);

export class TablestoreItems implements ItemBackend {
  constructor(
    private readonly client: TableStore.Client,
    private readonly where: { name: string; endpoint: string },
    private readonly attempts: number,
  ) {}

  private async send<T>(action: string, call: () => Promise<T>): Promise<T> {
    const attempt = () =>
      retry(call, {
        attempts: this.attempts,
        retryable: isTablestoreUnavailable,
        delayMs: (n, err) => backoffDelay(n, { baseMs: THROTTLED.has(errorCode(err)) ? 500 : 200, maxMs: 3000 }),
      });
    try {
      return await callTable(this.where, action, isTablestoreUnavailable, attempt());
    } catch (err) {
      if (isObjectNotExist(err)) throw new TableMissingError(this.where.name, { cause: err });
      throw err;
    }
  }

  private async written(action: string, call: () => Promise<unknown>): Promise<boolean> {
    try {
      await this.send(action, call);
      return true;
    } catch (err) {
      if (isConditionCheckFail(err)) return false;
      throw err;
    }
  }

  async get(key: ItemKey): Promise<Item | undefined> {
    const out = await this.send(
      "GetRow",
      () => this.client.getRow({ tableName: this.where.name, primaryKey: primaryKey(key.pk, key.sk), maxVersions: 1 }),
    );
    return out.row ? fromRow(out.row) : undefined;
  }

  put(key: ItemKey, fields: Fields, condition: Condition | undefined, nowS: number): Promise<boolean> {
    const attributeColumns = Object.entries(fields).flatMap(([k, v]) => (v === undefined ? [] : [{ [columnName(k)]: toColumn(v) }]));
    return this.written(
      "PutRow",
      () => this.client.putRow({
        tableName: this.where.name,
        condition: toTablestoreCondition(condition, nowS),
        primaryKey: primaryKey(key.pk, key.sk),
        attributeColumns,
      }),
    );
  }

  async update(key: ItemKey, update: Update, condition: Condition | undefined, nowS: number, returnItem: boolean): Promise<boolean | Item> {
    const changes: Record<string, unknown[]>[] = [];
    const put = Object.entries(update.set ?? {}).flatMap(([k, v]) => (v === undefined ? [] : [{ [columnName(k)]: toColumn(v) }]));
    if (put.length) changes.push({ PUT: put });
    const increment = Object.entries(update.add ?? {}).map(([k, n]) => ({ [columnName(k)]: TableStore.Long.fromNumber(n) }));
    if (increment.length) changes.push({ INCREMENT: increment });
    if (update.remove?.length) changes.push({ DELETE_ALL: update.remove.map(columnName) });
    const ok = await this.written(
      "UpdateRow",
      () => this.client.updateRow({
        tableName: this.where.name,
        condition: toTablestoreCondition(condition, nowS),
        primaryKey: primaryKey(key.pk, key.sk),
        updateOfAttributeColumns: changes,
      }),
    );
    if (!ok || !returnItem) return ok;
    return (await this.get(key)) ?? false;
  }

  delete(key: ItemKey, condition: Condition | undefined, nowS: number): Promise<boolean> {
    return this.written(
      "DeleteRow",
      () => this.client.deleteRow({ tableName: this.where.name, condition: toTablestoreCondition(condition, nowS), primaryKey: primaryKey(key.pk, key.sk) }),
    );
  }

  /**
   * GetRange within the partition, pages followed until `limit` live rows. Ascending reads start at the
   * lower bound and end before the upper one; descending reads start at the upper bound and stop at the
   * first sort key below the lower one (GetRange's end is exclusive and has no "just below" for strings).
   */
  async query(pk: string, opts: { sk?: SortKeyRange; limit: number; descending: boolean }, nowS: number): Promise<Item[]> {
    const r = opts.sk;
    const lower = r ? ("prefix" in r ? r.prefix : r.from) : undefined;
    const upperExclusive = r ? ("prefix" in r ? r.prefix + AFTER_PREFIX : r.to !== undefined ? `${r.to}\0` : undefined) : undefined;
    const upperInclusive = r ? ("prefix" in r ? r.prefix + AFTER_PREFIX : r.to) : undefined;
    let start: string | object = opts.descending ? (upperInclusive ?? TableStore.INF_MAX) : (lower ?? TableStore.INF_MIN);
    const end: string | object = opts.descending ? TableStore.INF_MIN : (upperExclusive ?? TableStore.INF_MAX);
    const items: Item[] = [];
    for (;;) {
      const out = await this.send(
        "GetRange",
        () => this.client.getRange({
          tableName: this.where.name,
          direction: opts.descending ? TableStore.Direction.BACKWARD : TableStore.Direction.FORWARD,
          inclusiveStartPrimaryKey: primaryKey(pk, start),
          exclusiveEndPrimaryKey: primaryKey(pk, end),
          limit: opts.limit - items.length,
          maxVersions: 1,
          columnFilter: liveFilter(nowS),
        }),
      );
      for (const row of out.rows ?? []) {
        const item = fromRow(row);
        if (!item || typeof item.sk !== "string") continue;
        if (!inRange(item.sk, r)) {
          if (opts.descending) return items;
          continue;
        }
        items.push(item);
      }
      const next = out.nextStartPrimaryKey?.find((c) => c.name === "sk")?.value;
      if (items.length >= opts.limit || typeof next !== "string") return items;
      if (opts.descending && lower !== undefined && next < lower) return items;
      start = next;
    }
  }
}
