// Item attributes as Tablestore columns. Column names may only hold letters, digits and `_` and may
// not start with a digit (https://help.aliyun.com/knowledge_detail/38580.html), so other names are
// escaped reversibly: `_` + the name with every byte outside [A-Za-z0-9] as `_xx`. Values: strings,
// booleans, whole numbers (INTEGER) and other numbers (DOUBLE) as themselves; null, lists and maps as
// JSON in a BINARY column (never confused with a string).
import TableStore from "tablestore";
import type { Scalar, Value } from "../items.js";

const PLAIN_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const MAX_COLUMN_NAME = 255;

/** The column that holds attribute `name`. */
export function columnName(name: string): string {
  if (PLAIN_NAME.test(name)) return name;
  let out = "_";
  for (const byte of Buffer.from(name, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9]/.test(c) ? c : `_${byte.toString(16).padStart(2, "0")}`;
  }
  if (out.length > MAX_COLUMN_NAME) throw new TypeError(`attribute name "${name.slice(0, 40)}…" is too long for a Tablestore column once escaped`);
  return out;
}

/** The attribute a column holds (the inverse of columnName). */
export function attributeName(column: string): string {
  if (!column.startsWith("_")) return column;
  const bytes: number[] = [];
  for (let i = 1; i < column.length; i++) {
    if (column[i] === "_") {
      bytes.push(parseInt(column.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(column.charCodeAt(i));
  }
  return Buffer.from(bytes).toString("utf8");
}

/** A scalar as the SDK writes it: whole numbers as INTEGER (Long), other numbers as DOUBLE. */
export function toScalarColumn(v: Scalar): TableStore.ColumnValue {
  return typeof v === "number" && Number.isSafeInteger(v) ? TableStore.Long.fromNumber(v) : v;
}

export function toColumn(v: Value): TableStore.ColumnValue {
  if (v === null || typeof v === "object") return Buffer.from(JSON.stringify(v), "utf8");
  return toScalarColumn(v);
}

function isInt64(v: unknown): v is TableStore.Int64 {
  return typeof v === "object" && v !== null && typeof (v as { toNumber?: unknown }).toNumber === "function" && !Buffer.isBuffer(v);
}

/** A column value as read back; undefined for what we never write. */
export function fromColumn(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return JSON.parse(v.toString("utf8")) as unknown;
  if (isInt64(v)) return v.toNumber();
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  return undefined;
}

/** A decoded row as an item: its key and attributes. */
export function fromRow(row: TableStore.DecodedRow): Record<string, unknown> | undefined {
  if (!row.primaryKey?.length) return undefined;
  const item: Record<string, unknown> = {};
  for (const { name, value } of row.primaryKey) item[name] = value;
  for (const { columnName: column, columnValue } of row.attributes ?? []) item[attributeName(column)] = fromColumn(columnValue);
  return item;
}
