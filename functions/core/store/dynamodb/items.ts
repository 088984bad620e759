// The item contract on the DynamoDB API (dynalite, PolarDB's DynamoDB endpoint, AWS), portable subset
// only: GetItem, PutItem, UpdateItem, DeleteItem and Query with expressions; no transactions, no
// ConsistentRead, no Scan, no legacy parameters. A failed condition resolves to false.
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { callTable, errorName, TableMissingError } from "../errors.js";
import { TTL_ATTRIBUTE, type Condition, type Fields, type Item, type ItemBackend, type ItemKey, type SortKeyRange, type Update } from "../items.js";
import { fromItem, toItem } from "./attributes.js";
import { isConditionalCheckFailed, isDynamoUnavailable } from "./errors.js";
import { Expressions } from "./expressions.js";

function keyOf(key: ItemKey): Record<string, AttributeValue> {
  return { pk: { S: key.pk }, sk: { S: key.sk } };
}

export class DynamoItems implements ItemBackend {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly where: { name: string; endpoint: string },
  ) {}

  private async send<T>(action: string, p: Promise<T>): Promise<T> {
    try {
      return await callTable(this.where, action, isDynamoUnavailable, p);
    } catch (err) {
      if (errorName(err) === "ResourceNotFoundException") throw new TableMissingError(this.where.name, { cause: err });
      throw err;
    }
  }

  /** Runs a conditional write: true when written, false when the condition failed. */
  private async written(action: string, p: Promise<unknown>): Promise<boolean> {
    try {
      await this.send(action, p);
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  async get(key: ItemKey): Promise<Item | undefined> {
    const out = await this.send("GetItem", this.client.send(new GetItemCommand({ TableName: this.where.name, Key: keyOf(key) })));
    return out.Item ? fromItem(out.Item) : undefined;
  }

  put(key: ItemKey, fields: Fields, condition: Condition | undefined, nowS: number): Promise<boolean> {
    const x = new Expressions(nowS);
    const command = new PutItemCommand({
      TableName: this.where.name,
      Item: { ...toItem(fields), ...keyOf(key) },
      ...(condition ? { ConditionExpression: x.condition(condition) } : {}),
      ...x.parts(),
    });
    return this.written("PutItem", this.client.send(command));
  }

  async update(key: ItemKey, update: Update, condition: Condition | undefined, nowS: number, returnItem: boolean): Promise<boolean | Item> {
    const x = new Expressions(nowS);
    const command = new UpdateItemCommand({
      TableName: this.where.name,
      Key: keyOf(key),
      UpdateExpression: x.update(update),
      ...(condition ? { ConditionExpression: x.condition(condition) } : {}),
      ...(returnItem ? { ReturnValues: "ALL_NEW" as const } : {}),
      ...x.parts(),
    });
    try {
      const out = await this.send("UpdateItem", this.client.send(command));
      return returnItem && out.Attributes ? fromItem(out.Attributes) : true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  delete(key: ItemKey, condition: Condition | undefined, nowS: number): Promise<boolean> {
    const x = new Expressions(nowS);
    const command = new DeleteItemCommand({
      TableName: this.where.name,
      Key: keyOf(key),
      ...(condition ? { ConditionExpression: x.condition(condition) } : {}),
      ...x.parts(),
    });
    return this.written("DeleteItem", this.client.send(command));
  }

  /** Pages until `limit` live items are found: DynamoDB applies Limit before the expiry filter. */
  async query(pk: string, opts: { sk?: SortKeyRange; limit: number; descending: boolean }, nowS: number): Promise<Item[]> {
    const items: Item[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const x = new Expressions(nowS);
      const command = new QueryCommand({
        TableName: this.where.name,
        KeyConditionExpression: x.keyCondition(pk, opts.sk),
        FilterExpression: `${x.name(TTL_ATTRIBUTE)} > ${x.value(nowS)}`,
        ScanIndexForward: !opts.descending,
        Limit: opts.limit - items.length,
        ...(start ? { ExclusiveStartKey: start } : {}),
        ...x.parts(),
      });
      const out = await this.send("Query", this.client.send(command));
      for (const i of out.Items ?? []) items.push(fromItem(i));
      start = out.LastEvaluatedKey;
    } while (start && items.length < opts.limit);
    return items;
  }
}
