// The double's tables: schema, options (time_to_live, max_versions) and rows of cells, each cell with
// the version timestamp (ms) it was written at. Cells older than the table's time_to_live are gone for
// every read and condition, as Tablestore documents for TTL ("data that has expired is not returned"
// https://www.alibabacloud.com/help/en/tablestore/developer-reference/tableoptions); a row with no
// live cell does not exist. Primary keys compare column by column: integers numerically, strings and
// binaries by their bytes, INF_MIN/INF_MAX below/above everything.
import type { CellValue } from "./plainbuffer.js";

export interface StoredCell {
  value: CellValue;
  /** Version timestamp, ms. */
  ts: number;
}

export interface StoredRow {
  key: CellValue[];
  cells: Map<string, StoredCell>;
  /** When the row was last written (a row with only a primary key lives by this). */
  writtenAt: number;
}

export interface TableState {
  name: string;
  primaryKey: { name: string; type: number }[];
  /** Seconds; -1: forever. */
  ttlS: number;
  maxVersions: number;
  createdAt: number;
  /** Until then DescribeTable reports LOADING. */
  readyAt: number;
  rows: Map<string, StoredRow>;
}

export function keyString(key: CellValue[]): string {
  return JSON.stringify(key.map((v) => ("value" in v ? [v.type, Buffer.isBuffer(v.value) ? v.value.toString("hex") : String(v.value)] : [v.type])));
}

function rank(v: CellValue): number {
  return v.type === "inf_min" ? -1 : v.type === "inf_max" ? 1 : 0;
}

/** Orders two values of a primary key column; undefined when their types differ. */
export function compareValues(a: CellValue, b: CellValue): number | undefined {
  if (rank(a) || rank(b)) return rank(a) - rank(b);
  if (a.type !== b.type) return undefined;
  switch (a.type) {
    case "integer":
      return a.value === (b as typeof a).value ? 0 : a.value < (b as typeof a).value ? -1 : 1;
    case "double":
      return Math.sign(a.value - (b as typeof a).value);
    case "boolean":
      return Number(a.value) - Number((b as typeof a).value);
    case "string":
      return Buffer.compare(Buffer.from(a.value, "utf8"), Buffer.from((b as typeof a).value, "utf8"));
    case "blob":
      return Buffer.compare(a.value, (b as typeof a).value);
  }
}

export function compareKeys(a: CellValue[], b: CellValue[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const c = compareValues(a[i]!, b[i]!) ?? 0;
    if (c !== 0) return c;
  }
  return 0;
}

export function isLiveCell(table: TableState, ts: number, now: number): boolean {
  return table.ttlS < 0 || ts + table.ttlS * 1000 > now;
}

/** The row's live attribute cells, or undefined when the row does not exist (or has expired). */
export function liveRow(table: TableState, row: StoredRow | undefined, now: number): Map<string, StoredCell> | undefined {
  if (!row) return undefined;
  const cells = new Map([...row.cells].filter(([, c]) => isLiveCell(table, c.ts, now)));
  if (cells.size > 0) return cells;
  return row.cells.size === 0 && isLiveCell(table, row.writtenAt, now) ? cells : undefined;
}

/** Bytes a row counts for in capacity units: names and values of primary key and attribute cells. */
export function rowBytes(key: { name: string; value: CellValue }[], cells: Map<string, StoredCell> | undefined): number {
  const size = (v: CellValue) => (v.type === "string" ? Buffer.byteLength(v.value) : v.type === "blob" ? v.value.length : v.type === "boolean" ? 1 : 8);
  let n = 0;
  for (const k of key) n += Buffer.byteLength(k.name) + size(k.value);
  for (const [name, c] of cells ?? []) n += Buffer.byteLength(name) + size(c.value);
  return n;
}
