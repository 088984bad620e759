// DingTalk API usage per app in the table: a per-month call counter (atomic ADD, one item per
// Beijing-time month, per-API breakdown) and the "AI cards paused until" mark set after a 403/429.
// Items: pk `usage#dingtalk#<app>`, sk `month#YYYY-MM` | `cardPause`; both carry `expiresAt`.
import * as z from "zod";
import { silentLogger, type Logger } from "../log.js";
import { CoalescedAdds } from "./coalesced-adds.js";
import type { Item, ItemKey, ItemTable } from "./items.js";
import type { Table } from "./table.js";

export interface MonthUsage {
  /** "YYYY-MM" in Beijing time (UTC+8), the month DingTalk's quota counts in. */
  month: string;
  calls: number;
  /** Calls per API name (e.g. "card.streaming"), as counted by this app. */
  byApi: Record<string, number>;
}

export interface CardPause {
  /** ms since epoch. */
  until: number;
  reason: string;
}

export interface ApiUsageStoreOptions {
  /** The app whose calls are counted (its client id / robot code). */
  app: string;
  now?: () => number;
  log?: Logger;
}

const BEIJING_OFFSET_MS = 8 * 3_600_000;
/** Month items outlive their month by about a quarter, for looking back. */
const MONTH_ITEM_TTL_S = 100 * 86_400;
const API_PREFIX = "api:";

/** The quota month of a moment: "YYYY-MM" in UTC+8. */
export function monthKey(now: number): string {
  return new Date(now + BEIJING_OFFSET_MS).toISOString().slice(0, 7);
}

const MonthSchema = z.looseObject({ calls: z.number().catch(0) });
const PauseSchema = z.looseObject({ until: z.number(), reason: z.string().catch("") });

export class ApiUsageStore {
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly pk: string;
  private readonly items: ItemTable;
  private readonly counts: CoalescedAdds;

  constructor(table: Table, opts: ApiUsageStoreOptions) {
    this.now = opts.now ?? Date.now;
    this.items = table.items(this.now);
    this.counts = new CoalescedAdds(this.items);
    this.log = opts.log ?? silentLogger;
    this.pk = `usage#dingtalk#${opts.app}`;
  }

  /**
   * Counts `n` calls of `api` in the current month: one atomic ADD, no read. While a count is being
   * written, newer ones wait and go out together in the next write (many jobs at once in one process
   * make a few writes, not one per call). Resolves once this count is written.
   */
  record(api: string, n = 1): Promise<void> {
    const now = this.now();
    return this.counts.add(
      this.key(`month#${monthKey(now)}`),
      { calls: n, [`${API_PREFIX}${api}`]: n },
      { expiresAt: Math.floor(now / 1000) + MONTH_ITEM_TTL_S, updatedAt: now },
    );
  }

  /** This month's count (zero when nothing was counted yet). */
  month(): Promise<MonthUsage> {
    return this.monthOf(monthKey(this.now()));
  }

  /** A month's count ("YYYY-MM", Beijing time; zero when nothing was counted or no longer kept). */
  async monthOf(month: string): Promise<MonthUsage> {
    const item = await this.get(`month#${month}`);
    if (!item) return { month, calls: 0, byApi: {} };
    const parsed = MonthSchema.parse(item);
    const byApi: Record<string, number> = {};
    for (const [k, v] of Object.entries(item)) if (k.startsWith(API_PREFIX) && typeof v === "number") byApi[k.slice(API_PREFIX.length)] = v;
    return { month, calls: parsed.calls, byApi };
  }

  /** Pauses AI cards until `until` (ms); a later pause replaces an earlier one. */
  async pauseCards(until: number, reason: string): Promise<void> {
    const fields = { until, reason: reason.slice(0, 200), expiresAt: Math.floor(until / 1000) + 86_400, updatedAt: this.now() };
    await this.items.put(this.key("cardPause"), fields);
    this.log.warn("dingtalk: AI cards paused", { until: new Date(until).toISOString(), reason });
  }

  /** Lifts a pause at once (operators, tests). */
  async resumeCards(): Promise<void> {
    await this.pauseCards(this.now(), "resumed");
  }

  /** The pause in force now, if any. */
  async cardPause(): Promise<CardPause | undefined> {
    const item = await this.get("cardPause");
    if (!item) return undefined;
    const parsed = PauseSchema.safeParse(item);
    if (!parsed.success || parsed.data.until <= this.now()) return undefined;
    return { until: parsed.data.until, reason: parsed.data.reason };
  }

  private get(sk: string): Promise<Item | undefined> {
    return this.items.get(this.key(sk));
  }

  private key(sk: string): ItemKey {
    return { pk: this.pk, sk };
  }
}
