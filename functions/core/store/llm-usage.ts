// LLM usage counters in the table, per month of the org's time zone (agents.defaults.timezone):
// - the org: pk `usage#llm#<YYYY-MM>`, sk `org`: totals plus per-model attributes (anonymous; kept by /forget),
//   and the DingTalk apps' API-call counts (store/api-usage.ts);
// - each user: pk `usage#llm#<YYYY-MM>#user`, sk `<staff id>`: month totals, per-day attributes
//   (`t_DD` tokens, `c_DD` µCNY, `u_DD` unpriced tokens) and the per-minute message counter (`rm`, `rc`);
// - each group: pk `usage#llm#<YYYY-MM>#group`, sk `<conversation id>`: as a user, without the counter.
// A turn's usage is written with one atomic ADD update per item (2 in 1:1 chats, 3 in groups; turns
// ending while an item's write is in flight share its next write; with held adds, the org's goes out
// with the turn's API-call counts at `flush()`); a report lists a month's users or groups with a Query
// of their partition.
import * as z from "zod";
import { dayKey, monthKey, nextMonthStart } from "../time-zone.js";
import { CoalescedAdds } from "./coalesced-adds.js";
import { and, compare, eq, ne, MAX_ITEM_LIFETIME_S, type Item, type ItemKey, type ItemTable } from "./items.js";
import type { Table } from "./table.js";

/** Month items are kept this long after their month ends (reports look back up to 11 months). */
export const KEEP_AFTER_MONTH_S = 335 * 86_400;
/** How many months `forgetUser` looks back (every month whose items may still be kept). */
const FORGET_MONTHS = 13;

export interface Figures {
  /** Prompt + completion tokens. */
  tokens: number;
  input: number;
  output: number;
  /** µCNY of the priced part. */
  cost: number;
  /** Tokens of models without a price. */
  unpriced: number;
  /** Turns that called the LLM. */
  turns: number;
}

export interface DayFigures {
  tokens: number;
  cost: number;
  unpriced: number;
}

/** A user's or group's month. */
export interface SubjectMonth extends Figures {
  id: string;
  /** The user's nick or the group's title, as last seen. */
  name?: string;
  /** Per local day of the month ("01".."31"). */
  days: Record<string, DayFigures>;
}

export interface ModelFigures {
  input: number;
  output: number;
  cost: number;
  unpriced: number;
  /** LLM calls (tool rounds and fallbacks each count). */
  calls: number;
}

export interface OrgMonth extends Figures {
  month: string;
  models: Record<string, ModelFigures>;
}

/** One LLM call of a turn. */
export interface CallUsage {
  modelName: string;
  promptTokens: number;
  completionTokens: number;
  /** µCNY; undefined when the model has no price. */
  cost: number | undefined;
}

export interface TurnUsage {
  /** Who the turn was for; absent for the bot's own turns (a scheduled prompt), counted in the org's totals only. */
  user?: { id: string; name?: string };
  group?: { id: string; name?: string };
  calls: readonly CallUsage[];
}

export interface LlmUsageStoreOptions {
  timeZone: string;
  now?: () => number;
  /** The counter writes to share (the runtime's, with the DingTalk API-call counter); default: this store's own. */
  adds?: CoalescedAdds;
}

const num = z.number().finite().catch(0);
const FiguresSchema = z.looseObject({
  tokens: num.default(0),
  input: num.default(0),
  output: num.default(0),
  cost: num.default(0),
  unpriced: num.default(0),
  turns: num.default(0),
  name: z.string().optional().catch(undefined),
});

const MODEL_FIELDS = { mi: "input", mo: "output", mc: "cost", mu: "unpriced", mn: "calls" } as const;

function figuresOf(item: Item | undefined): z.infer<typeof FiguresSchema> {
  return FiguresSchema.parse(item ?? {});
}

function dayOf(item: Item, dd: string): DayFigures {
  const n = (k: string) => (typeof item[k] === "number" ? item[k] : 0);
  return { tokens: n(`t_${dd}`), cost: n(`c_${dd}`), unpriced: n(`u_${dd}`) };
}

function subjectOf(item: Item): SubjectMonth {
  const f = figuresOf(item);
  const days: Record<string, DayFigures> = {};
  for (const k of Object.keys(item)) {
    const m = /^t_(\d\d)$/.exec(k);
    if (m) days[m[1]!] = dayOf(item, m[1]!);
  }
  const { tokens, input, output, cost, unpriced, turns } = f;
  return { id: String(item.sk), ...(f.name ? { name: f.name } : {}), tokens, input, output, cost, unpriced, turns, days };
}

/** Sums a turn's calls. */
export function turnFigures(calls: readonly CallUsage[]): Omit<Figures, "turns"> {
  const out = { tokens: 0, input: 0, output: 0, cost: 0, unpriced: 0 };
  for (const c of calls) {
    out.input += c.promptTokens;
    out.output += c.completionTokens;
    out.tokens += c.promptTokens + c.completionTokens;
    if (c.cost === undefined) out.unpriced += c.promptTokens + c.completionTokens;
    else out.cost += c.cost;
  }
  return out;
}

export class LlmUsageStore {
  private readonly now: () => number;
  private readonly items: ItemTable;
  private readonly adds: CoalescedAdds;
  readonly timeZone: string;

  constructor(table: Table, opts: LlmUsageStoreOptions) {
    this.now = opts.now ?? Date.now;
    this.items = table.items(this.now);
    this.adds = opts.adds ?? new CoalescedAdds(this.items);
    this.timeZone = opts.timeZone;
  }

  /** Writes the counts held so far (this store's and any other sharing its adds); resolves once written. */
  flush(): Promise<void> {
    return this.adds.flush();
  }

  /** "YYYY-MM" and "DD" of now in the org's zone. */
  today(): { month: string; day: string } {
    const now = this.now();
    return { month: monthKey(now, this.timeZone), day: dayKey(now, this.timeZone).slice(8) };
  }

  /**
   * Adds a turn's usage: one atomic update per item (org, user, and the group when there is one). The
   * adds are taken at once; with held adds they are written at the next `flush()` (or the hold's end).
   */
  async record(turn: TurnUsage): Promise<void> {
    if (turn.calls.length === 0) return;
    const { month, day } = this.today();
    const f = turnFigures(turn.calls);
    const expiresAt = this.expiresAt();
    const totals = { tokens: f.tokens, input: f.input, output: f.output, cost: f.cost, unpriced: f.unpriced, turns: 1 };
    const perDay = { [`t_${day}`]: f.tokens, [`c_${day}`]: f.cost, [`u_${day}`]: f.unpriced };
    const models: Record<string, number> = {};
    const bump = (k: string, n: number) => (models[k] = (models[k] ?? 0) + n);
    for (const c of turn.calls) {
      bump(`mi:${c.modelName}`, c.promptTokens);
      bump(`mo:${c.modelName}`, c.completionTokens);
      bump(`mn:${c.modelName}`, 1);
      if (c.cost === undefined) bump(`mu:${c.modelName}`, c.promptTokens + c.completionTokens);
      else bump(`mc:${c.modelName}`, c.cost);
    }
    const subject = (key: ItemKey, who: { name?: string }) =>
      this.adds.add(key, { ...totals, ...perDay }, { expiresAt, ...(who.name ? { name: who.name.slice(0, 100) } : {}) });
    await Promise.all([
      this.adds.add(this.orgKey(month), { ...totals, ...models }, { expiresAt }),
      ...(turn.user ? [subject(this.userKey(month, turn.user.id), turn.user)] : []),
      ...(turn.group ? [subject(this.groupKey(month, turn.group.id), turn.group)] : []),
    ]);
  }

  /**
   * Takes one of the user's `max` messages of the current minute with a conditional update (atomic on
   * every backend): allowed with the user's month item (today's tokens for the daily limit), or not
   * when the minute's messages are used up. One update for the minute's first message, two otherwise.
   */
  async takeMessage(userId: string, max: number): Promise<{ allowed: true; user: SubjectMonth } | { allowed: false }> {
    const key = this.userKey(this.today().month, userId);
    const minute = Math.floor(this.now() / 60_000);
    const first = await this.items.update(key, { set: { rm: minute, rc: 1, expiresAt: this.expiresAt() } }, { if: ne("rm", minute), returnItem: true });
    if (first) return { allowed: true, user: subjectOf(first) };
    // The minute has messages: one more while under `max` (a failure means used up, or another host's clock is in the next minute).
    const next = await this.items.update(key, { add: { rc: 1 } }, { if: and(eq("rm", minute), compare("rc", "<", max)), returnItem: true });
    return next ? { allowed: true, user: subjectOf(next) } : { allowed: false };
  }

  /** A user's month ("YYYY-MM"; default this month); zeros when nothing was counted. */
  async user(id: string, month = this.today().month): Promise<SubjectMonth> {
    return this.subject(this.userKey(month, id));
  }

  /** A group's month; zeros when nothing was counted. */
  async group(id: string, month = this.today().month): Promise<SubjectMonth> {
    return this.subject(this.groupKey(month, id));
  }

  /** The org's month; zeros when nothing was counted. */
  async org(month = this.today().month): Promise<OrgMonth> {
    const item = await this.items.get(this.orgKey(month));
    const f = figuresOf(item);
    const models: Record<string, ModelFigures> = {};
    for (const [k, v] of Object.entries(item ?? {})) {
      const m = /^(m[iocun]):(.+)$/.exec(k);
      if (!m || typeof v !== "number") continue;
      const figures = (models[m[2]!] ??= { input: 0, output: 0, cost: 0, unpriced: 0, calls: 0 });
      figures[MODEL_FIELDS[m[1] as keyof typeof MODEL_FIELDS]] = v;
    }
    const { tokens, input, output, cost, unpriced, turns } = f;
    return { month, tokens, input, output, cost, unpriced, turns, models };
  }

  /** Every user with usage in the month. */
  users(month: string): Promise<SubjectMonth[]> {
    return this.all(`usage#llm#${month}#user`);
  }

  /** Every group with usage in the month. */
  groups(month: string): Promise<SubjectMonth[]> {
    return this.all(`usage#llm#${month}#group`);
  }

  /**
   * Deletes a user's usage details (their per-month items, nick and per-minute counter included) for
   * every month still kept; the org's anonymous totals and the groups' figures stay. Resolves to the
   * number of months that had details.
   */
  async forgetUser(id: string): Promise<number> {
    const now = this.now();
    const months = new Set<string>();
    const t = new Date(now);
    for (let i = 0; i < FORGET_MONTHS; i++) months.add(monthKey(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() - i, 15), this.timeZone));
    months.add(monthKey(now, this.timeZone));
    const deleted = await Promise.all([...months].map((m) => this.items.delete(this.userKey(m, id), { if: { row: "exists" } })));
    return deleted.filter(Boolean).length;
  }

  private async subject(key: ItemKey): Promise<SubjectMonth> {
    const item = await this.items.get(key);
    return item ? subjectOf(item) : { id: key.sk, tokens: 0, input: 0, output: 0, cost: 0, unpriced: 0, turns: 0, days: {} };
  }

  private async all(pk: string): Promise<SubjectMonth[]> {
    return (await this.items.queryAll(pk)).map(subjectOf);
  }

  private expiresAt(): number {
    const now = this.now();
    const until = Math.floor(nextMonthStart(now, this.timeZone) / 1000) + KEEP_AFTER_MONTH_S;
    return Math.min(until, Math.floor(now / 1000) + MAX_ITEM_LIFETIME_S);
  }

  private orgKey(month: string): ItemKey {
    return { pk: `usage#llm#${month}`, sk: "org" };
  }

  private userKey(month: string, id: string): ItemKey {
    return { pk: `usage#llm#${month}#user`, sk: id };
  }

  private groupKey(month: string, id: string): ItemKey {
    return { pk: `usage#llm#${month}#group`, sk: id };
  }
}
