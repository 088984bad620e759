// Reminders people set in chat: one item per reminder in its setter's partition (`reminders#<owner>`,
// for the per-user limit and /forget), a pointer per conversation (`reminders-in#<where>`, for
// /reminders there and cancelling by id), and the due entry of its next firing (store/due.ts). Every
// change is a conditional put on `version`, so a firing and a cancel never overwrite each other.
import { randomInt } from "node:crypto";
import * as z from "zod";
import { RecipientsSchema, type Recipients } from "../proactive/config.js";
import { bucketOf, DueIndex } from "./due.js";
import { absent, eq, MAX_ITEM_LIFETIME_S, type ItemTable } from "./items.js";
import type { Table } from "./table.js";

export type ReminderStatus = "active" | "done" | "failed" | "cancelled";

/** When a reminder fires: once at a moment, or on a 5-field cron in a time zone. */
export type ReminderTiming = { at: number } | { cron: string; timezone: string };

export interface Reminder {
  /** Short and typable (`/reminders cancel k3x9m2`); unique within its conversation. */
  id: string;
  /** Who set it: the staff id, else DingTalk's sender id. */
  owner: string;
  ownerNick?: string;
  /** The conversation it belongs to: `dm:<staffId>` or `group:<openConversationId>`. */
  where: string;
  /** Where it is sent: the setter (1:1) or the group. */
  to: Recipients;
  robotCode: string;
  text: string;
  timing: ReminderTiming;
  status: ReminderStatus;
  /** Active: the next firing. */
  nextAt?: number;
  /** Occurrences delivered. */
  fired: number;
  lastFiredAt?: number;
  /** Failed: why, in words for people. */
  error?: string;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export type NewReminder = Pick<Reminder, "owner" | "where" | "to" | "robotCode" | "text" | "timing" | "nextAt"> & Partial<Pick<Reminder, "ownerNick">>;

/** The setter already has as many active reminders as allowed. */
export class ReminderLimitError extends Error {
  constructor(readonly limit: number) {
    super(`at most ${limit} active reminders per person`);
    this.name = "ReminderLimitError";
  }
}

const ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";
const ID_LENGTH = 6;
/** How long a reminder stays listed after it finished (done or cancelled) or failed. */
const KEEP_FINISHED_S = 7 * 86_400;
const KEEP_FAILED_S = 30 * 86_400;
/** An active reminder outlives its next firing by this much (a run after downtime still finds it). */
const KEEP_AFTER_DUE_S = 30 * 86_400;
const MAX_LISTED = 200;

const ReminderSchema = z.looseObject({
  id: z.string().min(1),
  owner: z.string().min(1),
  ownerNick: z.string().optional(),
  where: z.string().min(1),
  to: RecipientsSchema,
  robotCode: z.string(),
  text: z.string(),
  timing: z.union([z.object({ at: z.number() }), z.object({ cron: z.string(), timezone: z.string() })]),
  status: z.enum(["active", "done", "failed", "cancelled"]),
  nextAt: z.number().optional(),
  fired: z.number().int().nonnegative().catch(0),
  lastFiredAt: z.number().optional(),
  error: z.string().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  version: z.number().int(),
});

const PointerSchema = z.looseObject({ owner: z.string().min(1) });

const recordKey = (owner: string, id: string) => ({ pk: `reminders#${owner}`, sk: id });
const pointerKey = (where: string, id: string) => ({ pk: `reminders-in#${where}`, sk: id });

export function newReminderId(): string {
  let id = "";
  for (let i = 0; i < ID_LENGTH; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

export class ReminderStore {
  private readonly items: ItemTable;
  private readonly now: () => number;
  readonly due: DueIndex;

  constructor(table: Table, opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
    this.items = table.items(this.now);
    this.due = new DueIndex(table, { now: this.now });
  }

  /**
   * Stores a new active reminder and its first due entry. Throws ReminderLimitError when the setter has
   * `maxActive` active reminders already (undefined: no limit).
   */
  async create(input: NewReminder, maxActive: number | undefined): Promise<Reminder> {
    if (maxActive !== undefined && (await this.activeCount(input.owner)) >= maxActive) throw new ReminderLimitError(maxActive);
    const now = this.now();
    for (let round = 0; round < 5; round++) {
      const r: Reminder = { ...input, id: newReminderId(), status: "active", fired: 0, createdAt: now, updatedAt: now, version: 1 };
      // The pointer claims the id in its conversation; the due entry goes before the record (a due entry
      // without a record is dropped when it comes due; a record without one would never fire).
      const expiresAt = this.expiryOf(r);
      if (!(await this.items.put(pointerKey(r.where, r.id), { owner: r.owner, expiresAt }, { if: absent }))) continue;
      if (r.nextAt !== undefined) {
        await this.due.ensureCursor(bucketOf(now));
        await this.due.add({ dueAt: r.nextAt, owner: r.owner, id: r.id });
      }
      await this.items.put(recordKey(r.owner, r.id), this.fields(r), { if: absent });
      return r;
    }
    throw new Error("could not find a free reminder id");
  }

  async get(owner: string, id: string): Promise<Reminder | undefined> {
    return this.parse(await this.items.get(recordKey(owner, id)));
  }

  /** The reminder with this id in this conversation. */
  async find(where: string, id: string): Promise<Reminder | undefined> {
    const pointer = PointerSchema.safeParse(await this.items.get(pointerKey(where, id)));
    return pointer.success ? this.get(pointer.data.owner, id) : undefined;
  }

  /** The conversation's reminders (finished ones while they are kept), active first by next time. */
  async listIn(where: string): Promise<Reminder[]> {
    const pointers = await this.items.query(`reminders-in#${where}`, { limit: MAX_LISTED });
    const found = await Promise.all(
      pointers.map((p) => {
        const parsed = PointerSchema.safeParse(p);
        return parsed.success ? this.get(parsed.data.owner, String(p.sk)) : Promise.resolve(undefined);
      }),
    );
    return sortForListing(found.filter((r): r is Reminder => r !== undefined && r.where === where));
  }

  /** Everything the person set, in any conversation. */
  async listFor(owner: string): Promise<Reminder[]> {
    const items = await this.items.query(`reminders#${owner}`, { limit: 1000 });
    return sortForListing(items.map((i) => this.parse(i)).filter((r): r is Reminder => r !== undefined));
  }

  async activeCount(owner: string): Promise<number> {
    return (await this.listFor(owner)).filter((r) => r.status === "active").length;
  }

  /**
   * Writes `next` over `prev` if nobody changed it since (false otherwise), moving its due entry when
   * the next firing moved. Bumps the version and `updatedAt`.
   */
  async save(prev: Reminder, next: Omit<Reminder, "version" | "updatedAt">): Promise<Reminder | undefined> {
    const r: Reminder = { ...next, version: prev.version + 1, updatedAt: this.now() };
    if (r.status !== "active") delete r.nextAt;
    const moved = r.nextAt !== prev.nextAt;
    if (moved && r.nextAt !== undefined) await this.due.add({ dueAt: r.nextAt, owner: r.owner, id: r.id });
    if (!(await this.items.put(recordKey(r.owner, r.id), this.fields(r), { if: eq("version", prev.version) }))) {
      if (moved && r.nextAt !== undefined) await this.due.remove({ dueAt: r.nextAt, owner: r.owner, id: r.id });
      return undefined;
    }
    if (moved && prev.nextAt !== undefined) await this.due.remove({ dueAt: prev.nextAt, owner: r.owner, id: r.id });
    await this.items.put(pointerKey(r.where, r.id), { owner: r.owner, expiresAt: this.expiryOf(r) });
    return r;
  }

  /** Deletes every reminder the person set (with pointers and due entries); resolves to how many. */
  async deleteAllFor(owner: string): Promise<number> {
    const all = await this.listFor(owner);
    await Promise.all(
      all.map(async (r) => {
        if (r.nextAt !== undefined) await this.due.remove({ dueAt: r.nextAt, owner: r.owner, id: r.id });
        await this.items.delete(pointerKey(r.where, r.id));
        await this.items.delete(recordKey(r.owner, r.id));
      }),
    );
    return all.length;
  }

  private fields(r: Reminder) {
    return { ...r, expiresAt: this.expiryOf(r) };
  }

  private expiryOf(r: Reminder): number {
    const nowS = Math.floor(this.now() / 1000);
    const keep = r.status === "active" ? Math.floor((r.nextAt ?? this.now()) / 1000) - nowS + KEEP_AFTER_DUE_S : r.status === "failed" ? KEEP_FAILED_S : KEEP_FINISHED_S;
    return nowS + Math.min(keep, MAX_ITEM_LIFETIME_S - 60);
  }

  private parse(item: Record<string, unknown> | undefined): Reminder | undefined {
    if (!item) return undefined;
    const r = ReminderSchema.safeParse(item);
    if (!r.success) return undefined;
    const { expiresAt: _e, pk: _p, sk: _s, ...rest } = r.data;
    return rest;
  }
}

const STATUS_ORDER: Record<ReminderStatus, number> = { active: 0, failed: 1, done: 2, cancelled: 3 };

/** Active ones first, soonest first; then failed, done and cancelled ones, latest change first. */
function sortForListing(list: Reminder[]): Reminder[] {
  const when = (r: Reminder) => (r.status === "active" ? (r.nextAt ?? 0) : -r.updatedAt);
  return list.sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || when(a) - when(b) || a.id.localeCompare(b.id));
}
