// AI card records per inbound message (`card#<messageKey>`): which card a message's answer went to
// and whether it was finalized, so a retry after a crash streams into the same card (never a second
// one) and a finalized card counts as the delivered reply. Kept a day, like idempotency records.
import * as z from "zod";
import { absent, exists, ne, or, type ItemKey, type ItemTable } from "./items.js";
import type { Table } from "./table.js";

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
});

export class CardRecordStore {
  private readonly now: () => number;
  private readonly ttlSeconds: number;
  private readonly items: ItemTable;

  constructor(table: Table, opts: CardRecordStoreOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.items = table.items(this.now);
    this.ttlSeconds = opts.ttlSeconds ?? 86_400;
  }

  async get(messageKey: string): Promise<CardRecord | undefined> {
    const item = await this.items.get(this.key(messageKey));
    const rec = item && RecordSchema.safeParse(item);
    if (!rec?.success) return undefined;
    return { outTrackId: rec.data.outTrackId, state: rec.data.state };
  }

  /** Records a created card; never downgrades a finalized one. */
  async markCreated(messageKey: string, outTrackId: string): Promise<void> {
    const now = this.now();
    await this.items.put(
      this.key(messageKey),
      { outTrackId, state: "created", expiresAt: this.expiry(now), updatedAt: now },
      { if: or(absent, ne("state", "finalized")) },
    );
  }

  async markFinalized(messageKey: string, outTrackId: string): Promise<void> {
    const now = this.now();
    await this.items.update(this.key(messageKey), { set: { state: "finalized", outTrackId, expiresAt: this.expiry(now), updatedAt: now } });
  }

  /** `/forget`: deletes the message's card record; resolves true when there was one. */
  delete(messageKey: string): Promise<boolean> {
    return this.items.delete(this.key(messageKey), { if: exists });
  }

  private expiry(now: number): number {
    return Math.floor(now / 1000) + this.ttlSeconds;
  }

  private key(messageKey: string): ItemKey {
    return { pk: `card#${messageKey}`, sk: "card" };
  }
}
