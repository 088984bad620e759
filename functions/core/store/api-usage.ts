// DingTalk API usage per app in the table: a per-month call counter (atomic ADDs, per-API breakdown) and
// the "AI cards paused until" mark set after a 403/429. The counts are attributes of the month's org
// LLM usage item (pk `usage#llm#<YYYY-MM>`, sk `org`; Beijing-time months): `dtc:<app>` the app's
// calls, `dta:<app>:<api>` per API, so a turn's calls and its LLM usage go out in one write when they
// share the store's held adds. Months counted before that live on `usage#dingtalk#<app>` / `month#YYYY-MM`
// and are still read (and added). The pause: pk `usage#dingtalk#<app>`, sk `cardPause`.
import * as z from "zod";
import { silentLogger, type Logger } from "../log.js";
import { CoalescedAdds } from "./coalesced-adds.js";
import { MAX_ITEM_LIFETIME_S, type Item, type ItemKey, type ItemTable } from "./items.js";
import { KEEP_AFTER_MONTH_S } from "./llm-usage.js";
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
  /** The counter writes to share (the runtime's, with the LLM usage store); default: this store's own. */
  adds?: CoalescedAdds;
}

const BEIJING_OFFSET_MS = 8 * 3_600_000;
/** Attribute prefix of the per-API counts on the items written before the counts moved to the org's month item. */
const LEGACY_API_PREFIX = "api:";

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
  private readonly app: string;
  private readonly items: ItemTable;
  private readonly counts: CoalescedAdds;

  constructor(table: Table, opts: ApiUsageStoreOptions) {
    this.now = opts.now ?? Date.now;
    this.items = table.items(this.now);
    this.counts = opts.adds ?? new CoalescedAdds(this.items);
    this.log = opts.log ?? silentLogger;
    this.app = opts.app;
    this.pk = `usage#dingtalk#${opts.app}`;
  }

  /**
   * Counts `n` calls of `api` in the current month: one atomic ADD on the month's org usage item, no
   * read. While a count is being written, newer ones wait and go out together in the next write (many
   * jobs at once in one process make a few writes, not one per call). Resolves once this count is written.
   */
  record(api: string, n = 1): Promise<void> {
    const now = this.now();
    const month = monthKey(now);
    // As long as the LLM usage written to the same item (its month's end plus KEEP_AFTER_MONTH_S).
    const [y, m] = month.split("-").map(Number) as [number, number];
    const monthEndS = Math.floor((Date.UTC(y, m, 1) - BEIJING_OFFSET_MS) / 1000);
    const expiresAt = Math.min(monthEndS + KEEP_AFTER_MONTH_S, Math.floor(now / 1000) + MAX_ITEM_LIFETIME_S);
    return this.counts.add(orgMonthKey(month), { [`dtc:${this.app}`]: n, [`dta:${this.app}:${api}`]: n }, { expiresAt });
  }

  /** This month's count (zero when nothing was counted yet). */
  month(): Promise<MonthUsage> {
    return this.monthOf(monthKey(this.now()));
  }

  /** A month's count ("YYYY-MM", Beijing time; zero when nothing was counted or no longer kept). */
  async monthOf(month: string): Promise<MonthUsage> {
    const [item, legacy] = await Promise.all([this.items.get(orgMonthKey(month)), this.get(`month#${month}`)]);
    return this.countOf(month, item, legacy);
  }

  /**
   * This month's count and the pause in force, in two requests (what the card governor reads per
   * answer): the month's org item, and a Query of this app's own small partition (the pause and the
   * months counted there before, kept about 100 days).
   */
  async state(): Promise<{ month: MonthUsage; pause: CardPause | undefined }> {
    const month = monthKey(this.now());
    const [item, own] = await Promise.all([this.items.get(orgMonthKey(month)), this.items.query(this.pk, { limit: 20 })]);
    const find = (sk: string) => own.find((i) => i.sk === sk);
    return { month: this.countOf(month, item, find(`month#${month}`)), pause: this.pauseOf(find("cardPause")) };
  }

  private countOf(month: string, item: Item | undefined, legacy: Item | undefined): MonthUsage {
    const byApi: Record<string, number> = {};
    const count = (api: string, v: unknown) => {
      if (typeof v === "number") byApi[api] = (byApi[api] ?? 0) + v;
    };
    const own = `dta:${this.app}:`;
    for (const [k, v] of Object.entries(item ?? {})) if (k.startsWith(own)) count(k.slice(own.length), v);
    for (const [k, v] of Object.entries(legacy ?? {})) if (k.startsWith(LEGACY_API_PREFIX)) count(k.slice(LEGACY_API_PREFIX.length), v);
    const ownCalls = item?.[`dtc:${this.app}`];
    const calls = MonthSchema.parse(legacy ?? {}).calls + (typeof ownCalls === "number" ? ownCalls : 0);
    return { month, calls, byApi };
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
    return this.pauseOf(await this.get("cardPause"));
  }

  private pauseOf(item: Item | undefined): CardPause | undefined {
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

/** The month's org LLM usage item (store/llm-usage.ts), which also holds the apps' API-call counts. */
function orgMonthKey(month: string): ItemKey {
  return { pk: `usage#llm#${month}`, sk: "org" };
}
