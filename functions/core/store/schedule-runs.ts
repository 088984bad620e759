// Per configured schedule, the latest occurrence that is finished (sent, or given up with the reason):
// one partition (`schedule-runs`, sort key the schedule's name), read with one Query per scheduler run,
// so a run claims an occurrence only when it is newer than that.
import * as z from "zod";
import { compare, missing, or, MAX_ITEM_LIFETIME_S, type ItemTable } from "./items.js";
import type { Table } from "./table.js";

const PK = "schedule-runs";

export interface ScheduleRun {
  /** The latest occurrence finished (epoch ms). */
  done: number;
  /** Set when that occurrence was given up. */
  error?: string;
}

const RunSchema = z.looseObject({ done: z.number(), error: z.string().optional() });

export class ScheduleRuns {
  private readonly items: ItemTable;
  private readonly now: () => number;

  constructor(table: Table, opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
    this.items = table.items(this.now);
  }

  /** Every schedule's run record, by name. */
  async all(): Promise<Map<string, ScheduleRun>> {
    const out = new Map<string, ScheduleRun>();
    for (const item of await this.items.queryAll(PK)) {
      const run = RunSchema.safeParse(item);
      if (run.success) out.set(String(item.sk), { done: run.data.done, ...(run.data.error ? { error: run.data.error } : {}) });
    }
    return out;
  }

  /** Records `occurrence` as finished unless a later one already is (`error`: given up, and why). */
  async finish(name: string, occurrence: number, error?: string): Promise<void> {
    const expiresAt = Math.floor(this.now() / 1000) + MAX_ITEM_LIFETIME_S - 60;
    await this.items.update(
      { pk: PK, sk: name },
      { set: { done: occurrence, expiresAt, ...(error ? { error } : {}) }, ...(error ? {} : { remove: ["error"] }) },
      { if: or(missing("done"), compare("done", "<", occurrence)) },
    );
  }
}
