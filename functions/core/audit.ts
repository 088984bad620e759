// The audit record of a turn: one `audit` log line (JSON, flat fields an SLS field index can hold) per
// message the worker handled, written by processJob where the job ends: who, which conversation, which
// model, tokens as the provider reported them (every tool round included), their cost from
// model_list[].price, the tools called and how the turn ended. The message and the reply are in it only
// with audit.include_content. A scheduled post's prompt writes one too (writePromptAudit).
import type { AgentOutcome } from "./agent.js";
import { parseCommand } from "./commands.js";
import type { AppConfig } from "./config.js";
import { costCny, priceOf, type TokenCounts } from "./cost.js";
import type { InboundMessage } from "./dingtalk/inbound.js";
import type { Logger } from "./log.js";
import type { ToolCallRecord } from "./tools/index.js";

export const AUDIT_MSG = "audit";

/** How a turn ended, as the audit line names it. */
export type AuditOutcome = "answered" | "command" | "refused" | "limited" | "unsupported" | "failed";

/** A finished job's outcome, or the error that ended an attempt (the queue may retry it). */
export type TurnEnd = { outcome: AgentOutcome } | { error: unknown };

/** Every kind of reply the agent gives, as an audit outcome (a new kind needs its line here). */
const OUTCOMES: Readonly<Record<Extract<AgentOutcome, { action: "replied" }>["kind"], AuditOutcome>> = {
  answer: "answered",
  command: "command",
  help: "command",
  refused: "refused",
  limited: "limited",
  unsupported: "unsupported",
  llm_error: "failed",
};

export interface AuditOptions {
  models: AppConfig["models"];
  audit: AppConfig["audit"];
  attempt: number;
}

/** The audit line's fields; undefined for a message that was no turn (a group message without @). */
export function auditFields(msg: InboundMessage, end: TurnEnd, opts: AuditOptions): Record<string, unknown> | undefined {
  const outcome = "outcome" in end ? end.outcome : undefined;
  if (outcome?.action === "ignored") return undefined;
  const promptTokens = outcome?.llm?.promptTokens ?? 0;
  const completionTokens = outcome?.llm?.completionTokens ?? 0;
  const model = outcome?.modelName ?? null;
  const spent = promptTokens + completionTokens > 0;
  const tools = outcome?.tools ?? [];
  const ended: AuditOutcome = outcome ? OUTCOMES[outcome.kind] : "failed";
  const command = ended === "command" ? parseCommand(msg.text) : undefined;
  return {
    staffId: msg.sender.staffId ?? null,
    ...(msg.sender.staffId ? {} : { senderId: msg.sender.id }),
    conversationId: msg.conversation.id,
    conversationType: msg.conversation.type,
    outcome: ended,
    ...(outcome?.limit ? { limit: outcome.limit } : {}),
    ...(outcome?.errorKind ? { errorKind: outcome.errorKind } : {}),
    ...("error" in end ? { errorKind: "job" } : {}),
    ...(command ? { command: command.name } : {}),
    ...figures(model, { promptTokens, completionTokens }, spent ? turnCost(outcome?.llm?.cost, opts.models, model, { promptTokens, completionTokens }) : 0, tools),
    attempt: opts.attempt,
    ...(opts.audit.includeContent ? { text: msg.text, ...(outcome?.reply !== undefined ? { reply: outcome.reply } : {}) } : {}),
  };
}

type AuditedCall = Pick<ToolCallRecord, "name" | "ok" | "error">;

/** The fields every audit line has: model, tokens, cost, tools. */
function figures(model: string | null, tokens: TokenCounts, cost: number | null, tools: readonly AuditedCall[]): Record<string, unknown> {
  return {
    model,
    promptTokens: tokens.promptTokens,
    completionTokens: tokens.completionTokens,
    costCny: cost,
    tools: tools.map((t) => (t.ok ? `${t.name}:ok` : `${t.name}:error${t.error ? `:${t.error}` : ""}`)),
    toolCalls: tools.length,
    toolErrors: tools.filter((t) => !t.ok).length,
  };
}

/** How a scheduled post's prompt (the bot's own turn, no person's) ended and what it spent. */
export interface PromptEnd {
  schedule: string;
  conversation: { id: string; type: "direct" | "group" };
  outcome: Extract<AuditOutcome, "answered" | "limited" | "failed">;
  limit?: string;
  errorKind?: string;
  model: string | undefined;
  tokens: TokenCounts;
  /** As the turn's meter priced each call. */
  cost: { micros: number; unpriced: boolean };
  tools: readonly AuditedCall[];
}

/** The audit line of a scheduled post's prompt: `staffId` null, `schedule` its name. */
export function writePromptAudit(log: Logger, end: PromptEnd): void {
  const spent = end.tokens.promptTokens + end.tokens.completionTokens > 0;
  log.info(AUDIT_MSG, {
    staffId: null,
    schedule: end.schedule,
    conversationId: end.conversation.id,
    conversationType: end.conversation.type,
    outcome: end.outcome,
    ...(end.limit ? { limit: end.limit } : {}),
    ...(end.errorKind ? { errorKind: end.errorKind } : {}),
    ...figures(end.model ?? null, end.tokens, spent ? turnCost(end.cost, [], null, end.tokens) : 0, end.tools),
  });
}

/**
 * CNY of a turn: each LLM call at its own endpoint's price as the agent metered it, else the answering
 * model's price over all tokens; null (unknown) when a call had no price.
 */
function turnCost(metered: { micros: number; unpriced: boolean } | undefined, models: AppConfig["models"], model: string | null, tokens: TokenCounts): number | null {
  if (metered) return metered.unpriced ? null : metered.micros / 1e6;
  return costCny(priceOf(models, model ?? undefined), tokens);
}

/** Writes the turn's audit line (nothing for a message that was no turn). */
export function writeAudit(log: Logger, msg: InboundMessage, end: TurnEnd, opts: AuditOptions): void {
  const fields = auditFields(msg, end, opts);
  if (fields) log.info(AUDIT_MSG, fields);
}
