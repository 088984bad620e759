// The DingTalk API-call governor: decides per answer whether a streaming AI card may be used (card
// mode not paused, and this month's counted calls below CARD_BUDGET_SHARE of the budget), and pauses
// card mode for 30 minutes after a 403/429 from a card API. Anything unclear → plain markdown.
import { isCardQuotaError } from "./dingtalk/cards.js";
import { describeError, type Logger } from "./log.js";
import type { ApiUsageStore, CardPause, MonthUsage } from "./store/api-usage.js";

/** Cards stop once this share of the monthly budget is used; the rest is kept for plain replies. */
export const CARD_BUDGET_SHARE = 0.9;
export const CARD_PAUSE_MS = 30 * 60_000;

export type CardDecision = { card: true } | { card: false; reason: "paused" | "budget" | "unavailable" };

export interface CardGovernorOptions {
  usage: Pick<ApiUsageStore, "state" | "pauseCards">;
  /** api_monthly_budget. */
  budget: number;
  now: () => number;
  log: Logger;
  pauseMs?: number;
}

export interface QuotaStatus {
  month: MonthUsage;
  budget: number;
  pause: CardPause | undefined;
}

export class CardGovernor {
  private readonly pauseMs: number;

  constructor(private readonly opts: CardGovernorOptions) {
    this.pauseMs = opts.pauseMs ?? CARD_PAUSE_MS;
  }

  /** May this answer use a card? Reads the pause mark and this month's count (table trouble → no). */
  async decide(): Promise<CardDecision> {
    try {
      const { pause, month } = await this.opts.usage.state();
      if (pause) return { card: false, reason: "paused" };
      if (month.calls >= this.opts.budget * CARD_BUDGET_SHARE) {
        this.opts.log.info("dingtalk: near the monthly API budget, answering without a card", {
          calls: month.calls,
          budget: this.opts.budget,
        });
        return { card: false, reason: "budget" };
      }
      return { card: true };
    } catch (err) {
      this.opts.log.warn("dingtalk: cannot read API usage, answering without a card", { error: describeError(err) });
      return { card: false, reason: "unavailable" };
    }
  }

  /** After a card API failed: pauses card mode on 403/429. Resolves true when it paused. */
  async reportCardError(err: unknown): Promise<boolean> {
    if (!isCardQuotaError(err)) return false;
    try {
      await this.opts.usage.pauseCards(this.opts.now() + this.pauseMs, `${err.api}: ${err.code}`);
    } catch (e) {
      this.opts.log.warn("dingtalk: could not record the card pause", { error: describeError(e) });
    }
    return true;
  }

  /** For `/usage`: this month's calls, the budget and any pause in force. */
  async status(): Promise<QuotaStatus> {
    const { month, pause } = await this.opts.usage.state();
    return { month, budget: this.opts.budget, pause };
  }
}
