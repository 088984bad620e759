// The worker's job, platform-free: re-acquire the message's claim, build the job's Replier over the
// claim (each delivered part is recorded on it; the whole reply going out completes it in the same
// write), run the agent once, write the turn's audit line (audit.ts; an attempt that fails writes one
// too). Safe under retries: a retry after a crash finishes the message, and neither a reply nor a part
// of one that was already sent is sent again.
import { answerScope, handleMessage, replyTarget, type AgentDeps, type AgentOutcome } from "./agent.js";
import { writeAudit, type TurnEnd } from "./audit.js";
import type { AppConfig } from "./config.js";
import { canDeliverCard } from "./dingtalk/cards.js";
import { parseCallback } from "./dingtalk/inbound.js";
import { JobSchema } from "./job.js";
import { describeError } from "./log.js";
import { Replier, type ReplyLedger } from "./replier.js";
import type { IdempotencyStore } from "./store/idempotency.js";
import { emitTrace } from "./trace-events.js";

export interface WorkerDeps extends AgentDeps {
  /** `audit`: what each turn's audit line holds (default: no content). */
  config: AgentDeps["config"] & Partial<Pick<AppConfig, "audit">>;
  idempotency: IdempotencyStore;
  /**
   * Waits for side records the job started without waiting on them (DingTalk API-call counts), so they
   * are written before the job returns: an FC instance may be frozen right after.
   */
  settle?: () => Promise<void>;
}

export type JobOutcome =
  | { status: "invalid"; reason: string }
  | { status: "skipped"; reason: "completed" | "in_progress" | "already_sent" }
  | { status: "done"; outcome: AgentOutcome };

/** Throws only when a retry may succeed (table, DingTalk or network trouble); the host lets its queue retry. */
export async function processJob(input: unknown, deps: WorkerDeps): Promise<JobOutcome> {
  try {
    return await runJob(input, deps);
  } finally {
    await deps.settle?.();
  }
}

async function runJob(input: unknown, deps: WorkerDeps): Promise<JobOutcome> {
  const job = JobSchema.safeParse(input);
  if (!job.success) {
    deps.log.error("invalid job dropped", { issues: job.error.issues.length });
    return { status: "invalid", reason: "job does not match the schema" };
  }
  const { claim, requestId } = job.data;
  const parsed = parseCallback(job.data.body);
  if (!parsed.ok) {
    deps.log.error("invalid message in job dropped", { requestId, reason: parsed.reason });
    return { status: "invalid", reason: parsed.reason };
  }
  const msg = parsed.message;
  const log = deps.log.child({ requestId, msgId: msg.msgId });
  const started = deps.now();

  // An answer's reads (its conversation, and with AI cards the API budget) go alongside the claim
  // renewal: one table round trip before the LLM, not two. A job that turns out not to hold the claim
  // drops them. The renewal also records that this attempt may make the message's AI card, so a retry
  // finishes that card instead of answering another way (the claim record is the card record).
  const scope = answerScope(msg, deps.config);
  const target = replyTarget(msg, deps.config.dingtalk.credentials?.robotCode ?? "");
  const conversation = scope === undefined ? undefined : deps.conversations.load(scope);
  conversation?.catch(() => undefined);
  const cardReads = scope === undefined ? undefined : deps.cards?.lookUp();
  const mayCard = cardReads !== undefined && canDeliverCard(target);
  const held = await deps.idempotency.resume(claim.key, claim.token, { card: mayCard });
  if (held.status !== "claimed") {
    log.info("job skipped", { state: held.status });
    return { status: "skipped", reason: held.status };
  }
  const token = held.token;
  const previous = held.progress ?? { sent: false, sentParts: [] };
  if (previous.sent) {
    await deps.idempotency.complete(claim.key, token, { replyId: previous.replyId });
    log.info("reply was already sent by an earlier attempt", { attempt: held.attempt });
    return { status: "skipped", reason: "already_sent" };
  }

  // The reply going out completes the message in the same write (nothing after it can fail the job).
  let completed = false;
  const ledger: ReplyLedger = {
    delivered: previous.sentParts,
    ...(previous.card ? { card: previous.card } : {}),
    recordParts: (digests, opts) => deps.idempotency.recordParts(claim.key, token, digests, opts),
    markSent: async (result, digests) => {
      await deps.idempotency.complete(claim.key, token, { replyId: result.processQueryKey, sentParts: digests });
      completed = true;
    },
  };
  const replier = new Replier(target, claim.key, { ...deps, log }, ledger);
  if (cardReads) replier.lookAhead(cardReads);
  const audit = (end: TurnEnd) =>
    writeAudit(log, msg, end, { models: deps.config.models, audit: deps.config.audit ?? { includeContent: false }, attempt: held.attempt });
  let outcome: AgentOutcome;
  try {
    outcome = await handleMessage(msg, { ...deps, log }, { requestId, replier, ...(conversation ? { conversation } : {}) });
  } catch (err) {
    log.error("job failed", { attempt: held.attempt, error: describeError(err) });
    audit({ error: err });
    throw err;
  }
  audit({ outcome });
  if (!completed) await deps.idempotency.complete(claim.key, token);
  const queuedMs = started - job.data.receivedAt;
  const totalMs = deps.now() - started;
  log.info("job done", {
    action: outcome.action,
    ...(outcome.action === "replied"
      ? { kind: outcome.kind, route: outcome.route, model: outcome.modelName, llm: outcome.llm, sendMs: outcome.sendMs, ...(outcome.tools ? { tools: outcome.tools } : {}) }
      : {}),
    queuedMs,
    totalMs,
    attempt: held.attempt,
    conversation: msg.conversation.id,
  });
  emitTrace({ type: "job.done", requestId, msgId: msg.msgId, outcome, queuedMs, totalMs });
  return { status: "done", outcome };
}
