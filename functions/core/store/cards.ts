// AI card records per inbound message (`card#<messageKey>`): which card a message's answer went to
// and whether it was finalized, so a retry after a crash streams into the same card (never a second
// one) and a finalized card counts as the delivered reply. Kept a day, like idempotency records.
import { GetItemCommand, PutItemCommand, UpdateItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { z } from "zod";
import { fromItem, toAttr, toItem } from "./attributes.js";
import { call, isConditionalCheckFailed, type Table } from "./table.js";

export interface CardRecord {
  outTrackId: string;
  state: "created" | "finalized";
}

export interface CardRecordStoreOptions {
  now?: () => number;
  /** Default 1 day. */
  ttlSeconds?: number;
}

const RecordSchema = z.looseObject({
  outTrackId: z.string(),
  state: z.enum(["created", "finalized"]),
  expiresAt: z.number(),
});

export class CardRecordStore {
  private readonly now: () => number;
  private readonly ttlSeconds: number;

  constructor(
    private readonly table: Table,
    opts: CardRecordStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.ttlSeconds = opts.ttlSeconds ?? 86_400;
  }

  async get(messageKey: string): Promise<CardRecord | undefined> {
    const out = await call(
      this.table,
      "GetItem",
      this.table.client.send(new GetItemCommand({ TableName: this.table.name, Key: this.key(messageKey) })),
    );
    if (!out.Item) return undefined;
    const rec = RecordSchema.safeParse(fromItem(out.Item));
    if (!rec.success || rec.data.expiresAt <= Math.floor(this.now() / 1000)) return undefined;
    return { outTrackId: rec.data.outTrackId, state: rec.data.state };
  }

  /** Records a created card; never downgrades a finalized one. */
  async markCreated(messageKey: string, outTrackId: string): Promise<void> {
    const now = this.now();
    try {
      await call(
        this.table,
        "PutItem",
        this.table.client.send(
          new PutItemCommand({
            TableName: this.table.name,
            Item: { ...this.key(messageKey), ...toItem({ outTrackId, state: "created", expiresAt: this.expiry(now), updatedAt: now }) },
            ConditionExpression: "attribute_not_exists(pk) OR #s <> :fin",
            ExpressionAttributeNames: { "#s": "state" },
            ExpressionAttributeValues: { ":fin": toAttr("finalized") },
          }),
        ),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
    }
  }

  async markFinalized(messageKey: string, outTrackId: string): Promise<void> {
    const now = this.now();
    await call(
      this.table,
      "UpdateItem",
      this.table.client.send(
        new UpdateItemCommand({
          TableName: this.table.name,
          Key: this.key(messageKey),
          UpdateExpression: "SET #s = :fin, #o = :o, #e = :exp, #u = :now",
          ExpressionAttributeNames: { "#s": "state", "#o": "outTrackId", "#e": "expiresAt", "#u": "updatedAt" },
          ExpressionAttributeValues: {
            ":fin": toAttr("finalized"),
            ":o": toAttr(outTrackId),
            ":exp": toAttr(this.expiry(now)),
            ":now": toAttr(now),
          },
        }),
      ),
    );
  }

  private expiry(now: number): number {
    return Math.floor(now / 1000) + this.ttlSeconds;
  }

  private key(messageKey: string): Record<string, AttributeValue> {
    return { pk: { S: `card#${messageKey}` }, sk: { S: "card" } };
  }
}
