// The operations the dingclaw store uses, with the request/response messages of tablestore.proto and
// the semantics of the API reference (https://www.alibabacloud.com/help/en/tablestore/developer-reference/api-reference):
// CreateTable, DescribeTable, UpdateTable, DeleteTable, ListTable, GetRow, PutRow (replaces the row),
// UpdateRow (PUT / DELETE / DELETE_ALL / INCREMENT; atomic counters are INTEGER-only, start from 0,
// and may not be combined with another change of the same column:
// https://alibabacloud.com/help/en/tablestore/developer-reference/configure-atomic-counter-by-using-nodejs-sdk),
// DeleteRow and GetRange (inclusive start, exclusive end, FORWARD/BACKWARD, limit, filter, at most
// 5,000 rows scanned per call, next_start_primary_key to resume).
// Capacity units per the PutRow/GetRow references (e.g. https://www.alibabacloud.com/help/zh/tablestore/table-store-service/developer-reference/putrow):
// data size / 4 KB rounded up; a row existence or column check adds a read CU; a failed check costs 1 + 1.
import { conditionFailed, invalid, OtsError, tableNotFound } from "./errors.js";
import { compileColumnCondition, conditionHolds, ROW_EXISTENCE, type RowView } from "./conditions.js";
import { decodeRow, encodeRows, OP, type Cell, type CellValue, type Row } from "./plainbuffer.js";
import { compareKeys, keyString, liveRow, rowBytes, type StoredCell, type StoredRow, type TableState } from "./state.js";

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;
const MIN_TTL_S = 86_400;
const MAX_SCAN_ROWS = 5000;
const PK_TYPES: Record<number, CellValue["type"]> = { 1: "integer", 2: "string", 3: "blob" };
const STATUS = { ACTIVE: 1, LOADING: 3 } as const;
const INT64_MAX = (1n << 63n) - 1n;

export interface Consumed {
  read: number;
  write: number;
}

export interface Backend {
  tables: Map<string, TableState>;
  now(): number;
  /** How long a new table reports LOADING. */
  loadMs: number;
  /** Rows GetRange examines per call at most (the service's 5,000; lower to exercise paging). */
  scanLimit: number;
  /** Capacity units consumed so far. */
  consumed: Consumed;
}

type Req = Record<string, unknown>;

const cu = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));

function table(b: Backend, name: unknown): TableState {
  const t = typeof name === "string" ? b.tables.get(name) : undefined;
  if (!t) throw tableNotFound();
  return t;
}

function consumed(b: Backend, read: number, write: number): { capacityUnit: Consumed } {
  b.consumed.read += read;
  b.consumed.write += write;
  return { capacityUnit: { read, write } };
}

function checkPrimaryKey(t: TableState, cells: Cell[], allowInf = false): CellValue[] {
  if (cells.length !== t.primaryKey.length) throw invalid("Validate PK size fail. Input: " + cells.length + ", Meta: " + t.primaryKey.length + ".");
  return cells.map((c, i) => {
    const schema = t.primaryKey[i]!;
    if (c.name !== schema.name) throw invalid(`Validate PK name fail. Input: ${c.name}, Meta: ${schema.name}.`);
    const v = c.value;
    if (!v) throw invalid(`The value of primary key ${c.name} is missing.`);
    if (allowInf && (v.type === "inf_min" || v.type === "inf_max")) return v;
    if (v.type !== PK_TYPES[schema.type]) throw invalid(`Validate PK type fail. Input: ${v.type}, Meta: ${PK_TYPES[schema.type]}.`);
    if ((v.type === "string" && Buffer.byteLength(v.value) > 1024) || (v.type === "blob" && v.value.length > 1024))
      throw invalid(`The length of primary key ${c.name} exceeds 1024 bytes.`);
    return v;
  });
}

function checkColumnName(name: string): void {
  if (!TABLE_NAME.test(name)) throw invalid(`Invalid column name: '${name}'.`);
}

function view(t: TableState, key: CellValue[], cells: Map<string, StoredCell> | undefined): RowView {
  if (!cells) return undefined;
  const v = new Map<string, CellValue>(t.primaryKey.map((k, i) => [k.name, key[i]!]));
  for (const [name, c] of cells) v.set(name, c.value);
  return v;
}

function keyCells(t: TableState, key: CellValue[]): { name: string; value: CellValue }[] {
  return t.primaryKey.map((k, i) => ({ name: k.name, value: key[i]! }));
}

function rowOut(t: TableState, key: CellValue[], cells: Map<string, StoredCell>): Omit<Row, "deleteMarker"> {
  return {
    primaryKey: keyCells(t, key),
    attributes: [...cells].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, c]) => ({ name, value: c.value, timestamp: BigInt(c.ts) })),
  };
}

/** Runs the write's condition against the row; throws OTSConditionCheckFail (charging 1 + 1 CU). */
function check(b: Backend, t: TableState, key: CellValue[], condition: Req | undefined, cells: Map<string, StoredCell> | undefined): number {
  const c = condition as { rowExistence?: number; columnCondition?: Buffer } | undefined;
  if (!conditionHolds(c, view(t, key, cells))) {
    consumed(b, 1, 1);
    throw conditionFailed();
  }
  const checked = (c?.rowExistence ?? ROW_EXISTENCE.IGNORE) !== ROW_EXISTENCE.IGNORE || (c?.columnCondition?.length ?? 0) > 0;
  return checked ? cu(rowBytes(keyCells(t, key), undefined)) : 0;
}

function cellTs(c: Cell, now: number): number {
  return c.timestamp === undefined ? now : Number(c.timestamp);
}

export const operations: Record<string, (b: Backend, req: Req) => Req> = {
  CreateTable(b, req) {
    const meta = req.tableMeta as { tableName?: string; primaryKey?: { name?: string; type?: number }[] } | undefined;
    const name = meta?.tableName ?? "";
    if (!TABLE_NAME.test(name)) throw invalid(`Invalid table name: '${name}'.`);
    const pk = meta?.primaryKey ?? [];
    if (pk.length < 1 || pk.length > 4) throw invalid("The number of primary key columns must be in range: [1, 4].");
    for (const k of pk) {
      checkColumnName(k.name ?? "");
      if (!k.type || !PK_TYPES[k.type]) throw invalid(`Invalid primary key type: ${String(k.type)}.`);
    }
    const options = (req.tableOptions ?? {}) as { timeToLive?: number; maxVersions?: number };
    const ttl = options.timeToLive ?? -1;
    if (ttl !== -1 && ttl < MIN_TTL_S) throw invalid(`The value of time_to_live must be -1 or at least ${MIN_TTL_S}.`);
    if (b.tables.has(name)) throw new OtsError(409, "OTSObjectAlreadyExist", "Requested table already exists.");
    const now = b.now();
    b.tables.set(name, {
      name,
      primaryKey: pk.map((k) => ({ name: k.name!, type: k.type! })),
      ttlS: ttl,
      maxVersions: options.maxVersions ?? 1,
      createdAt: now,
      readyAt: now + b.loadMs,
      rows: new Map(),
    });
    return {};
  },

  DescribeTable(b, req) {
    const t = table(b, req.tableName);
    return {
      tableMeta: { tableName: t.name, primaryKey: t.primaryKey },
      reservedThroughputDetails: { capacityUnit: { read: 0, write: 0 }, lastIncreaseTime: Math.floor(t.createdAt / 1000) },
      tableOptions: { timeToLive: t.ttlS, maxVersions: t.maxVersions, deviationCellVersionInSec: 86_400, allowUpdate: true },
      tableStatus: b.now() < t.readyAt ? STATUS.LOADING : STATUS.ACTIVE,
    };
  },

  UpdateTable(b, req) {
    const t = table(b, req.tableName);
    const options = (req.tableOptions ?? {}) as { timeToLive?: number; maxVersions?: number };
    if (options.timeToLive !== undefined) {
      if (options.timeToLive !== -1 && options.timeToLive < MIN_TTL_S) throw invalid(`The value of time_to_live must be -1 or at least ${MIN_TTL_S}.`);
      t.ttlS = options.timeToLive;
    }
    if (options.maxVersions !== undefined) t.maxVersions = options.maxVersions;
    return {
      reservedThroughputDetails: { capacityUnit: { read: 0, write: 0 }, lastIncreaseTime: Math.floor(t.createdAt / 1000) },
      tableOptions: { timeToLive: t.ttlS, maxVersions: t.maxVersions },
    };
  },

  DeleteTable(b, req) {
    table(b, req.tableName);
    b.tables.delete(req.tableName as string);
    return {};
  },

  ListTable(b) {
    return { tableNames: [...b.tables.keys()] };
  },

  GetRow(b, req) {
    const t = table(b, req.tableName);
    const key = checkPrimaryKey(t, decodeRow(req.primaryKey as Buffer).primaryKey);
    const cells = liveRow(t, t.rows.get(keyString(key)), b.now());
    const filter = compileColumnCondition(req.filter as Buffer | undefined);
    const wanted = (req.columnsToGet as string[] | undefined) ?? [];
    const visible = cells && (!filter || filter(view(t, key, cells)));
    const out = visible ? new Map([...cells].filter(([n]) => wanted.length === 0 || wanted.includes(n))) : undefined;
    return {
      consumed: consumed(b, cu(rowBytes(keyCells(t, key), out)), 0),
      row: out ? encodeRows([rowOut(t, key, out)]) : Buffer.alloc(0),
    };
  },

  PutRow(b, req) {
    const t = table(b, req.tableName);
    const row = decodeRow(req.row as Buffer);
    const key = checkPrimaryKey(t, row.primaryKey);
    const now = b.now();
    const id = keyString(key);
    const read = check(b, t, key, req.condition as Req, liveRow(t, t.rows.get(id), now));
    const cells = new Map<string, StoredCell>();
    for (const c of row.attributes) {
      checkColumnName(c.name);
      if (!c.value) throw invalid(`The value of column ${c.name} is missing.`);
      cells.set(c.name, { value: c.value, ts: cellTs(c, now) });
    }
    t.rows.set(id, { key, cells, writtenAt: now });
    return { consumed: consumed(b, read, cu(rowBytes(keyCells(t, key), cells))) };
  },

  UpdateRow(b, req) {
    const t = table(b, req.tableName);
    const change = decodeRow(req.rowChange as Buffer);
    const key = checkPrimaryKey(t, change.primaryKey);
    const now = b.now();
    const id = keyString(key);
    const existing = liveRow(t, t.rows.get(id), now);
    const read = check(b, t, key, req.condition as Req, existing);
    const names = change.attributes.map((c) => c.name);
    if (new Set(names).size !== names.length) throw invalid("A column can only be changed once in one UpdateRow.");
    const cells = new Map(existing ?? []);
    const returned = new Map<string, StoredCell>();
    for (const c of change.attributes) {
      checkColumnName(c.name);
      if (c.op === OP.DELETE_ALL || c.op === OP.DELETE_ONE) {
        cells.delete(c.name);
      } else if (c.op === OP.INCREMENT) {
        if (c.value?.type !== "integer") throw invalid(`The increment value of column ${c.name} must be an integer.`);
        const current = cells.get(c.name)?.value ?? { type: "integer" as const, value: 0n };
        if (current.type !== "integer") throw invalid(`Column ${c.name} is not an INTEGER column and cannot be an atomic counter.`);
        const sum = current.value + c.value.value;
        if (sum > INT64_MAX || sum < -INT64_MAX - 1n) throw invalid(`Integer overflow in column ${c.name}.`);
        const cell = { value: { type: "integer" as const, value: sum }, ts: cellTs(c, now) };
        cells.set(c.name, cell);
        returned.set(c.name, cell);
      } else if (c.op === undefined) {
        if (!c.value) throw invalid(`The value of column ${c.name} is missing.`);
        cells.set(c.name, { value: c.value, ts: cellTs(c, now) });
      } else throw invalid(`Unsupported cell operation: ${c.op}.`);
    }
    if (existing || cells.size > 0) t.rows.set(id, { key, cells, writtenAt: now } satisfies StoredRow);
    const written = new Map(change.attributes.flatMap((c): [string, StoredCell][] => (c.value ? [[c.name, { value: c.value, ts: now }]] : [])));
    const content = req.returnContent as { returnType?: number; returnColumnNames?: string[] } | undefined;
    const afterModify = content?.returnType === 2;
    const back = new Map([...returned].filter(([n]) => (content?.returnColumnNames ?? []).includes(n)));
    return {
      consumed: consumed(b, read, cu(rowBytes(keyCells(t, key), written))),
      ...(afterModify && back.size ? { row: encodeRows([rowOut(t, key, back)]) } : {}),
    };
  },

  DeleteRow(b, req) {
    const t = table(b, req.tableName);
    const key = checkPrimaryKey(t, decodeRow(req.primaryKey as Buffer).primaryKey);
    const id = keyString(key);
    const read = check(b, t, key, req.condition as Req, liveRow(t, t.rows.get(id), b.now()));
    t.rows.delete(id);
    return { consumed: consumed(b, read, cu(rowBytes(keyCells(t, key), undefined))) };
  },

  GetRange(b, req) {
    const t = table(b, req.tableName);
    const start = checkPrimaryKey(t, decodeRow(req.inclusiveStartPrimaryKey as Buffer).primaryKey, true);
    const end = checkPrimaryKey(t, decodeRow(req.exclusiveEndPrimaryKey as Buffer).primaryKey, true);
    const backward = req.direction === 1;
    const order = compareKeys(start, end);
    if (backward ? order < 0 : order > 0) throw invalid(`The ${backward ? "start" : "end"} primary key must not be less than the ${backward ? "end" : "start"} primary key.`);
    const limit = typeof req.limit === "number" && req.limit > 0 ? Math.min(req.limit, MAX_SCAN_ROWS) : MAX_SCAN_ROWS;
    const filter = compileColumnCondition(req.filter as Buffer | undefined);
    const now = b.now();
    const inRange = (k: CellValue[]) =>
      backward ? compareKeys(k, start) <= 0 && compareKeys(k, end) > 0 : compareKeys(k, start) >= 0 && compareKeys(k, end) < 0;
    const candidates = [...t.rows.values()]
      .filter((r) => inRange(r.key))
      .sort((x, y) => (backward ? -1 : 1) * compareKeys(x.key, y.key));
    const rows: Omit<Row, "deleteMarker">[] = [];
    let scanned = 0;
    let bytes = 0;
    let next: CellValue[] | undefined;
    for (const r of candidates) {
      if (rows.length >= limit || scanned >= b.scanLimit) {
        next = r.key;
        break;
      }
      const cells = liveRow(t, r, now);
      if (!cells) continue;
      scanned++;
      bytes += rowBytes(keyCells(t, r.key), cells);
      if (!filter || filter(view(t, r.key, cells))) rows.push(rowOut(t, r.key, cells));
    }
    return {
      consumed: consumed(b, cu(bytes), 0),
      rows: rows.length ? encodeRows(rows) : Buffer.alloc(0),
      ...(next ? { nextStartPrimaryKey: encodeRows([{ primaryKey: keyCells(t, next), attributes: [] }]) } : {}),
    };
  },
};
