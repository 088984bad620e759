// The tool journal in the table: one item per inbound message (`tools#<messageKey>`, sk `journal`)
// holding its side-effecting calls, kept a day like the message's idempotency record, so a job retried
// after a crash finds what an earlier attempt already did.
import * as z from "zod";
import { exists, type ItemKey, type ItemTable } from "../store/items.js";
import type { Table } from "../store/table.js";
import type { JournalEntry, ToolJournal } from "./journal.js";

const EntrySchema = z.object({
  key: z.string(),
  state: z.enum(["started", "done"]),
  content: z.string().optional(),
  ok: z.boolean().optional(),
});
const ItemSchema = z.looseObject({ entries: z.array(z.unknown()).catch([]) });

export class ToolJournalStore {
  private readonly items: ItemTable;
  private readonly now: () => number;

  constructor(
    table: Table,
    opts: { now?: () => number; ttlSeconds?: number } = {},
    private readonly ttlSeconds = opts.ttlSeconds ?? 86_400,
  ) {
    this.now = opts.now ?? Date.now;
    this.items = table.items(this.now);
  }

  /** `/forget`: deletes the message's journal (its calls' results); resolves true when there was one. */
  delete(messageKey: string): Promise<boolean> {
    return this.items.delete(this.key(messageKey), { if: exists });
  }

  forMessage(messageKey: string): ToolJournal {
    const key = this.key(messageKey);
    return {
      load: async () => {
        const parsed = ItemSchema.safeParse(await this.items.get(key));
        if (!parsed.success) return [];
        return parsed.data.entries.flatMap((e) => {
          const entry = EntrySchema.safeParse(e);
          return entry.success ? [entry.data] : [];
        });
      },
      save: async (entries: JournalEntry[]) => {
        await this.items.put(key, {
          entries: entries.map((e) => ({ key: e.key, state: e.state, content: e.content, ok: e.ok })),
          expiresAt: Math.floor(this.now() / 1000) + this.ttlSeconds,
        });
      },
    };
  }

  private key(messageKey: string): ItemKey {
    return { pk: `tools#${messageKey}`, sk: "journal" };
  }
}
