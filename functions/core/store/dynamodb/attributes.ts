// Marshalling between plain JSON-like values and DynamoDB AttributeValues (S, N, BOOL, NULL, L, M):
// the small subset our items use, so the store needs no extra SDK package.
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { Value } from "../items.js";

export type AttributeMap = Record<string, AttributeValue>;

/** Converts a plain value to an AttributeValue; object fields that are `undefined` are left out. */
export function toAttr(value: Value): AttributeValue {
  if (value === null) return { NULL: true };
  if (typeof value === "string") return { S: value };
  if (typeof value === "boolean") return { BOOL: value };
  if (typeof value === "number") return { N: String(value) };
  if (Array.isArray(value)) return { L: value.map(toAttr) };
  return { M: toItem(value) };
}

export function toItem(fields: { [key: string]: Value | undefined }): AttributeMap {
  const item: AttributeMap = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) item[k] = toAttr(v);
  return item;
}

/** Converts an AttributeValue back to a plain value; kinds we never write (sets, binary) become `undefined`. */
export function fromAttr(attr: AttributeValue): unknown {
  if (attr.S !== undefined) return attr.S;
  if (attr.N !== undefined) return Number(attr.N);
  if (attr.BOOL !== undefined) return attr.BOOL;
  if (attr.NULL !== undefined) return null;
  if (attr.L !== undefined) return attr.L.map(fromAttr);
  if (attr.M !== undefined) return fromItem(attr.M);
  return undefined;
}

export function fromItem(item: AttributeMap): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) out[k] = fromAttr(v);
  return out;
}
