// Pending `/forget` requests: `/forget` records one (`forget#<robot>:<person>`, sk the chat's
// conversation id) that lives `ttlSeconds` (default 10 minutes); `/forget confirm` in the same chat
// within that time carries the deletion out and then clears it.
import type { ItemKey, ItemTable } from "./items.js";
import type { Table } from "./table.js";

export const FORGET_CONFIRM_SECONDS = 600;

export interface ForgetRequestStoreOptions {
  now?: () => number;
  ttlSeconds?: number;
}

export class ForgetRequestStore {
  readonly ttlSeconds: number;
  private readonly now: () => number;
  private readonly items: ItemTable;

  constructor(table: Table, opts: ForgetRequestStoreOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.items = table.items(this.now);
    this.ttlSeconds = opts.ttlSeconds ?? FORGET_CONFIRM_SECONDS;
  }

  /** Records (or renews) the request. */
  async ask(person: string, conversationId: string): Promise<void> {
    const now = this.now();
    await this.items.put(this.key(person, conversationId), { askedAt: now, expiresAt: Math.floor(now / 1000) + this.ttlSeconds });
  }

  /** Whether a request from this chat is still open. */
  async pending(person: string, conversationId: string): Promise<boolean> {
    return (await this.items.get(this.key(person, conversationId))) !== undefined;
  }

  async clear(person: string, conversationId: string): Promise<void> {
    await this.items.delete(this.key(person, conversationId));
  }

  private key(person: string, conversationId: string): ItemKey {
    return { pk: `forget#${person}`, sk: conversationId };
  }
}
