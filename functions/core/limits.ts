// Spending limits (config `limits`): before a turn calls the LLM, whether the sender, their group or the
// org is at or over a limit (admins are exempt), read with at most one table request per limited item,
// in parallel; and the turn's meter, which notes every LLM call's usage (tool rounds and fallbacks
// included) with its cost, for one counter write per item when the turn ends.
import type { Caller } from "./access.js";
import type { AppConfig, LimitsConfig } from "./config.js";
import { costMicroCny } from "./cost.js";
import type { ChatRequest, ChatResult, LlmClient } from "./llm/index.js";
import type { CallUsage, LlmUsageStore, SubjectMonth, TurnUsage } from "./store/llm-usage.js";
import { nextDayStart, nextMonthStart } from "./time-zone.js";

export type LimitName = "user_daily_tokens" | "group_daily_tokens" | "org_monthly_tokens" | "user_messages_per_minute";

export type LimitVerdict = { ok: true } | { ok: false; limit: LimitName; max: number; resetsAt: number };

export interface LimitSubject {
  caller: Caller;
  /** The group conversation's id; absent in 1:1 chats. */
  groupId?: string;
}

/** Whether any limit can apply to this sender. */
export function isLimited(limits: LimitsConfig, who: LimitSubject): boolean {
  if (who.caller.admin) return false;
  return limits.userDailyTokens > 0 || limits.userMessagesPerMinute > 0 || limits.orgMonthlyTokens > 0 || (!!who.groupId && limits.groupDailyTokens > 0);
}

/**
 * The limits check of one message that is about to reach the LLM; a message within the per-minute
 * limit takes one of the minute's messages. Table requests, in parallel: the user's item (the
 * per-minute counter's conditional update, a second one after the minute's first message; or one read
 * for the daily limit alone), the group's and the org's item when they are limited; none for admins.
 */
export async function checkLimits(store: Pick<LlmUsageStore, "takeMessage" | "user" | "group" | "org" | "today">, limits: LimitsConfig, who: LimitSubject, now: number, timeZone: string): Promise<LimitVerdict> {
  if (!isLimited(limits, who)) return { ok: true };
  const { day } = store.today();
  const used = (s: SubjectMonth) => s.days[day]?.tokens ?? 0;
  const userRead =
    limits.userMessagesPerMinute > 0
      ? store.takeMessage(who.caller.id, limits.userMessagesPerMinute)
      : limits.userDailyTokens > 0
        ? store.user(who.caller.id).then((user) => ({ allowed: true as const, user }))
        : undefined;
  const groupRead = who.groupId && limits.groupDailyTokens > 0 ? store.group(who.groupId) : undefined;
  const orgRead = limits.orgMonthlyTokens > 0 ? store.org() : undefined;
  const [user, group, org] = await Promise.all([userRead, groupRead, orgRead]);
  const tomorrow = nextDayStart(now, timeZone);
  if (user && !user.allowed)
    return { ok: false, limit: "user_messages_per_minute", max: limits.userMessagesPerMinute, resetsAt: (Math.floor(now / 60_000) + 1) * 60_000 };
  if (org && org.tokens >= limits.orgMonthlyTokens) return { ok: false, limit: "org_monthly_tokens", max: limits.orgMonthlyTokens, resetsAt: nextMonthStart(now, timeZone) };
  if (user?.allowed && limits.userDailyTokens > 0 && used(user.user) >= limits.userDailyTokens)
    return { ok: false, limit: "user_daily_tokens", max: limits.userDailyTokens, resetsAt: tomorrow };
  if (group && used(group) >= limits.groupDailyTokens) return { ok: false, limit: "group_daily_tokens", max: limits.groupDailyTokens, resetsAt: tomorrow };
  return { ok: true };
}

/** The org's monthly limit alone, for the bot's own turns (a scheduled post's prompt): one read when it is set. */
export async function checkOrgLimit(store: Pick<LlmUsageStore, "org">, limits: LimitsConfig, now: number, timeZone: string): Promise<LimitVerdict> {
  if (limits.orgMonthlyTokens <= 0 || (await store.org()).tokens < limits.orgMonthlyTokens) return { ok: true };
  return { ok: false, limit: "org_monthly_tokens", max: limits.orgMonthlyTokens, resetsAt: nextMonthStart(now, timeZone) };
}

/** Notes the usage and cost of every LLM call of one turn. */
export class TurnMeter {
  readonly calls: CallUsage[] = [];

  constructor(private readonly models: AppConfig["models"]) {}

  /** The LLM client as the turn uses it: every answered call is noted. */
  wrap(llm: Pick<LlmClient, "chat">): Pick<LlmClient, "chat"> {
    return {
      chat: async (request: ChatRequest) => {
        const result = await llm.chat(request);
        this.note(result);
        return result;
      },
    };
  }

  note(result: Pick<ChatResult, "modelName" | "usage" | "attempts">): void {
    const { promptTokens, completionTokens } = result.usage;
    if (promptTokens + completionTokens === 0) return;
    const endpoint = this.models[result.attempts.at(-1)?.endpoint ?? -1];
    this.calls.push({ modelName: result.modelName || endpoint?.name || "?", promptTokens, completionTokens, cost: costMicroCny(endpoint?.price, { promptTokens, completionTokens }) ?? undefined });
  }

  /** Tokens of every call noted so far, and the model of the last one. */
  spent(): { modelName: string | undefined; promptTokens: number; completionTokens: number } {
    const sum = (f: (c: CallUsage) => number) => this.calls.reduce((s, c) => s + f(c), 0);
    return { modelName: this.calls.at(-1)?.modelName, promptTokens: sum((c) => c.promptTokens), completionTokens: sum((c) => c.completionTokens) };
  }

  /** µCNY of the turn's priced calls, and whether some call had no price. */
  cost(): { micros: number; unpriced: boolean } {
    return { micros: this.calls.reduce((s, c) => s + (c.cost ?? 0), 0), unpriced: this.calls.some((c) => c.cost === undefined) };
  }

  usage(who: Omit<TurnUsage, "calls">): TurnUsage {
    return { ...who, calls: this.calls };
  }
}
