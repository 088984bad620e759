// The agent's answer to a scheduled prompt, kept (`fire-answer#<firing key>`) until its firing is done,
// so an attempt that retries after some parts went out sends the rest of the same answer, not of a new one.
import type { ItemTable } from "./items.js";
import type { Table } from "./table.js";

const KEEP_S = 2 * 86_400;

export class FiringAnswers {
  private readonly items: ItemTable;
  private readonly now: () => number;

  constructor(table: Table, opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
    this.items = table.items(this.now);
  }

  async get(key: string): Promise<string | undefined> {
    const item = await this.items.get({ pk: `fire-answer#${key}`, sk: "answer" });
    return typeof item?.text === "string" ? item.text : undefined;
  }

  async put(key: string, text: string): Promise<void> {
    await this.items.put({ pk: `fire-answer#${key}`, sk: "answer" }, { text, expiresAt: Math.floor(this.now() / 1000) + KEEP_S });
  }
}
