// The table's item operations in one place for every store: keys as pk/sk strings, plain values in
// and out, outages mapped to TableUnavailableError, and a failed condition answered as "not written"
// instead of an exception. Only the names and values an expression uses are sent (DynamoDB refuses others).
import { DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { fromItem, toItem, type Plain } from "./attributes.js";
import { call, isConditionalCheckFailed, type Table } from "./table.js";

export interface ItemKey {
  pk: string;
  sk: string;
}

export interface Expression {
  /** ConditionExpression; absent: unconditional. */
  condition?: string;
  /** `#alias` → attribute name; aliases the expressions do not use are left out. */
  names?: Record<string, string>;
  /** `:name` → value; names the expressions do not use are left out. */
  values?: Record<string, Plain | undefined>;
}

function keyOf(key: ItemKey): Record<string, AttributeValue> {
  return { pk: { S: key.pk }, sk: { S: key.sk } };
}

function used<T>(map: Record<string, T | undefined> | undefined, text: string): Record<string, T> | undefined {
  if (!map) return undefined;
  const out = Object.fromEntries(
    Object.entries(map).filter(([alias, v]) => v !== undefined && new RegExp(`${alias}(?![\\w])`).test(text)),
  ) as Record<string, T>;
  return Object.keys(out).length > 0 ? out : undefined;
}

function expressionParts(text: string, e: Expression) {
  const values = used(e.values, text);
  return {
    ...(e.condition ? { ConditionExpression: e.condition } : {}),
    ExpressionAttributeNames: used(e.names, text),
    ExpressionAttributeValues: values && toItem(values),
  };
}

/** Runs a conditional write: true when written, false when the condition failed. */
async function written(table: Table, action: string, send: Promise<unknown>): Promise<boolean> {
  try {
    await call(table, action, send);
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}

export async function getItem(table: Table, key: ItemKey): Promise<Record<string, unknown> | undefined> {
  const out = await call(table, "GetItem", table.client.send(new GetItemCommand({ TableName: table.name, Key: keyOf(key) })));
  return out.Item ? fromItem(out.Item) : undefined;
}

export function putItem(table: Table, key: ItemKey, fields: Record<string, Plain | undefined>, e: Expression = {}): Promise<boolean> {
  const item = { ...keyOf(key), ...toItem(fields) };
  return written(table, "PutItem", table.client.send(new PutItemCommand({ TableName: table.name, Item: item, ...expressionParts(e.condition ?? "", e) })));
}

export function deleteItem(table: Table, key: ItemKey, e: Expression = {}): Promise<boolean> {
  return written(table, "DeleteItem", table.client.send(new DeleteItemCommand({ TableName: table.name, Key: keyOf(key), ...expressionParts(e.condition ?? "", e) })));
}

export function updateItem(table: Table, key: ItemKey, update: string, e: Expression = {}): Promise<boolean> {
  const command = new UpdateItemCommand({
    TableName: table.name,
    Key: keyOf(key),
    UpdateExpression: update,
    ...expressionParts(`${update} ${e.condition ?? ""}`, e),
  });
  return written(table, "UpdateItem", table.client.send(command));
}

/** An update that returns the item as written; undefined when the condition failed. */
export async function updateItemReturning(
  table: Table,
  key: ItemKey,
  update: string,
  e: Expression = {},
): Promise<Record<string, unknown> | undefined> {
  try {
    const out = await call(
      table,
      "UpdateItem",
      table.client.send(
        new UpdateItemCommand({
          TableName: table.name,
          Key: keyOf(key),
          UpdateExpression: update,
          ReturnValues: "ALL_NEW",
          ...expressionParts(`${update} ${e.condition ?? ""}`, e),
        }),
      ),
    );
    return out.Attributes ? fromItem(out.Attributes) : undefined;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return undefined;
    throw err;
  }
}
