// The time-bucket index of due firings: one partition per 10 minutes (`due#<bucket start, ISO>`), sort
// key `<due time, 13 digits>#<reminder id>#<owner>`, so one scheduler run finds what is due with a Query
// per bucket (no Scan). A cursor item remembers the earliest bucket that may still hold something
// unfinished, so a run after downtime walks back to it.
import * as z from "zod";
import { absent, compare, missing, or, MAX_ITEM_LIFETIME_S, type ItemTable } from "./items.js";
import type { Table } from "./table.js";

export const BUCKET_MS = 600_000;
/** Due entries outlive their time by this much (a run after downtime still finds them). */
const ENTRY_RETENTION_S = 30 * 86_400;
const CURSOR_KEY = { pk: "due#cursor", sk: "cursor" };

/** A reminder's firing due at `dueAt`. */
export interface DueEntry {
  dueAt: number;
  owner: string;
  id: string;
}

const EntrySchema = z.looseObject({ dueAt: z.number(), owner: z.string().min(1), id: z.string().min(1) });

export const bucketOf = (ms: number): number => Math.floor(ms / BUCKET_MS) * BUCKET_MS;
const pad = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(13, "0");
const bucketPk = (bucket: number) => `due#${new Date(bucket).toISOString().slice(0, 16)}`;
const entryKey = (e: DueEntry) => ({ pk: bucketPk(bucketOf(e.dueAt)), sk: `${pad(e.dueAt)}#${e.id}#${e.owner}` });

export class DueIndex {
  private readonly items: ItemTable;
  private readonly now: () => number;

  constructor(table: Table, opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
    this.items = table.items(this.now);
  }

  async add(e: DueEntry): Promise<void> {
    const nowS = Math.floor(this.now() / 1000);
    const expiresAt = Math.min(Math.floor(e.dueAt / 1000) + ENTRY_RETENTION_S, nowS + MAX_ITEM_LIFETIME_S - 60);
    await this.items.put(entryKey(e), { dueAt: e.dueAt, owner: e.owner, id: e.id, expiresAt });
  }

  async remove(e: DueEntry): Promise<void> {
    await this.items.delete(entryKey(e));
  }

  /** The entries of the bucket starting at `bucket` that are due at or before `untilMs`, earliest first. */
  async dueIn(bucket: number, untilMs: number): Promise<DueEntry[]> {
    const items = await this.items.queryAll(bucketPk(bucket), { to: `${pad(untilMs)}#\uffff` });
    return items.flatMap((item) => {
      const e = EntrySchema.safeParse(item);
      return e.success ? [{ dueAt: e.data.dueAt, owner: e.data.owner, id: e.data.id }] : [];
    });
  }

  /** The earliest bucket that may hold unfinished entries, or undefined before the first run. */
  async cursor(): Promise<number | undefined> {
    const item = await this.items.get(CURSOR_KEY);
    return typeof item?.bucket === "number" ? item.bucket : undefined;
  }

  /** Moves the cursor forward to `bucket` (never back: a slower concurrent run cannot undo a faster one). */
  async advance(bucket: number): Promise<void> {
    await this.items.update(CURSOR_KEY, { set: { bucket, expiresAt: this.cursorExpiry() } }, { if: or(missing("bucket"), compare("bucket", "<", bucket)) });
  }

  /** Puts the cursor at `bucket` unless there is one: before the first entry, so no run starts past it. */
  async ensureCursor(bucket: number): Promise<void> {
    await this.items.put(CURSOR_KEY, { bucket, expiresAt: this.cursorExpiry() }, { if: absent });
  }

  private cursorExpiry(): number {
    return Math.floor(this.now() / 1000) + MAX_ITEM_LIFETIME_S - 60;
  }
}
