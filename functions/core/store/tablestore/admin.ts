// Tablestore table administration: creation in an existing instance (pk and sk STRING primary key,
// no reserved throughput: CU pay-per-use), TTL through the table's time_to_live, status and deletion
// (https://www.alibabacloud.com/help/en/tablestore/developer-reference/tableoptions).
import type TableStore from "tablestore";
import { silentLogger } from "../../log.js";
import { pollUntil } from "../../retry.js";
import { callTable, TableUnavailableError } from "../errors.js";
import { MAX_ITEM_LIFETIME_S } from "../items.js";
import type { EnsuredTable, EnsureOptions } from "../table.js";
import { isObjectNotExist, isTablestoreUnavailable, errorCode } from "./errors.js";

/**
 * The table's time_to_live: Tablestore drops each cell this long after it was written. Longer than any
 * item may live (MAX_ITEM_LIFETIME_S), so expiry stays the item's own `expiresAt` and the table only
 * clears what reads already ignore.
 */
export const TABLESTORE_TTL_S = MAX_ITEM_LIFETIME_S + 34 * 86_400;

/** TableStatus in DescribeTableResponse (tablestore.proto). */
const STATUS: Record<number, string> = { 1: "ACTIVE", 2: "INACTIVE", 3: "LOADING", 4: "UNLOADING", 5: "UPDATING" };
const STRING_KEY = 2;

type Where = { name: string; endpoint: string };
type Described = Awaited<ReturnType<TableStore.Client["describeTable"]>>;

function call<T>(where: Where, action: string, p: Promise<T>): Promise<T> {
  return callTable(where, action, isTablestoreUnavailable, p);
}

async function describe(client: TableStore.Client, where: Where): Promise<Described | undefined> {
  try {
    return await call(where, "DescribeTable", client.describeTable({ tableName: where.name }));
  } catch (err) {
    if (isObjectNotExist(err)) return undefined;
    throw err;
  }
}

export async function tablestoreStatus(client: TableStore.Client, where: Where): Promise<string> {
  const d = await describe(client, where);
  return d ? (STATUS[d.tableStatus ?? 1] ?? "ACTIVE") : "missing";
}

/** Creates the table if missing, waits until it serves, and keeps its time_to_live at TABLESTORE_TTL_S. */
export async function ensureTablestoreTable(
  client: TableStore.Client,
  where: Where,
  opts: EnsureOptions & { sleep?: (ms: number) => Promise<void> } = {},
): Promise<EnsuredTable> {
  const log = opts.log ?? silentLogger;
  let d = await describe(client, where);
  let created = false;
  if (!d) {
    try {
      await call(
        where,
        "CreateTable",
        client.createTable({
          tableMeta: { tableName: where.name, primaryKey: [{ name: "pk", type: "STRING" }, { name: "sk", type: "STRING" }] },
          reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
          tableOptions: { timeToLive: TABLESTORE_TTL_S, maxVersions: 1 },
        }),
      );
      created = true;
      log.info("table: created", { table: where.name, ttlSeconds: TABLESTORE_TTL_S });
    } catch (err) {
      if (errorCode(err) !== "OTSObjectAlreadyExist") throw err;
    }
    d = await describe(client, where);
  }

  const timeoutMs = opts.timeoutMs ?? 60_000;
  const serving = (t: Described | undefined): t is Described => t !== undefined && (t.tableStatus === undefined || t.tableStatus === 1 || t.tableStatus === 5);
  d = await pollUntil(d, () => describe(client, where), serving, {
    timeoutMs,
    sleep: opts.sleep,
    timedOut: (t) => new TableUnavailableError(`table "${where.name}" is not serving after ${timeoutMs} ms (status: ${t ? STATUS[t.tableStatus ?? 0] : "missing"})`),
  });

  const keys = (d.tableMeta?.primaryKey ?? []).map((k) => `${k.name}:${k.type === STRING_KEY ? "STRING" : String(k.type)}`).join(",");
  if (keys !== "pk:STRING,sk:STRING")
    throw new Error(`table "${where.name}" exists with primary key ${keys || "(unknown)"}; dingclaw needs pk and sk, both STRING, in that order`);

  if (d.tableOptions?.timeToLive === TABLESTORE_TTL_S) return { created, ttl: created ? "enabled" : "already" };
  await call(where, "UpdateTable", client.updateTable({ tableName: where.name, tableOptions: { timeToLive: TABLESTORE_TTL_S } }));
  log.info("table: time_to_live set", { table: where.name, ttlSeconds: TABLESTORE_TTL_S, was: d.tableOptions?.timeToLive });
  return { created, ttl: "enabled" };
}

export async function dropTablestoreTable(client: TableStore.Client, where: Where): Promise<"deleted" | "absent"> {
  try {
    await call(where, "DeleteTable", client.deleteTable({ tableName: where.name }));
    return "deleted";
  } catch (err) {
    if (isObjectNotExist(err)) return "absent";
    throw err;
  }
}
