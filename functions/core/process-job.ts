// The worker's job, platform-free: re-acquire the message's claim, run the agent once, record each
// delivered part and then that the reply went out, complete. Safe under retries: a retry after a crash
// finishes the message, and neither a reply nor a part of one that was already sent is sent again.
import { createHash } from "node:crypto";
import { handleMessage, type AgentDeps, type AgentOutcome } from "./agent.js";
import { parseCallback } from "./dingtalk/inbound.js";
import { JobSchema } from "./job.js";
import { describeError } from "./log.js";
import type { OutgoingMessage, ReplyTarget, SendResult } from "./dingtalk/outgoing.js";
import type { IdempotencyStore, SendProgress } from "./store/idempotency.js";

export interface WorkerDeps extends AgentDeps {
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

  const held = await deps.idempotency.resume(claim.key, claim.token);
  if (held.status !== "claimed") {
    log.info("job skipped", { state: held.status });
    return { status: "skipped", reason: held.status };
  }
  const token = held.token;
  const previous = held.progress ?? { sent: false, sentParts: [] };
  if (previous.sent) {
    await deps.idempotency.complete(claim.key, token, previous.replyId);
    log.info("reply was already sent by an earlier attempt", { attempt: held.attempt });
    return { status: "skipped", reason: "already_sent" };
  }

  const parts = new PartRecorder(deps, claim.key, token, previous, log);
  let outcome: AgentOutcome;
  try {
    outcome = await handleMessage(msg, { ...deps, send: parts.send, log }, {
      requestId,
      onSent: (r) => deps.idempotency.markSent(claim.key, token, r.processQueryKey, parts.delivered),
    });
  } catch (err) {
    log.error("job failed", { attempt: held.attempt, error: describeError(err) });
    throw err;
  }
  await deps.idempotency.complete(claim.key, token);
  log.info("job done", {
    action: outcome.action,
    ...(outcome.action === "replied"
      ? { kind: outcome.kind, route: outcome.route, model: outcome.modelName, llm: outcome.llm, sendMs: outcome.sendMs }
      : {}),
    queuedMs: started - job.data.receivedAt,
    totalMs: deps.now() - started,
    attempt: held.attempt,
    conversation: msg.conversation.id,
  });
  return { status: "done", outcome };
}

const digest = (message: OutgoingMessage) => createHash("sha256").update(JSON.stringify(message)).digest("base64url").slice(0, 22);

/**
 * Wraps `send` so each delivered message is recorded (by digest) on the claim — lazily, just before
 * the next send, or with `markSent` after the last — and a retry skips the leading messages an
 * earlier attempt already delivered, but only while they are identical, so a retry that produces a
 * different reply sends all of it.
 */
class PartRecorder {
  readonly delivered: string[] = [];
  private recorded: number;
  private replaying: boolean;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly key: string,
    private readonly token: string,
    private readonly previous: SendProgress,
    private readonly log: WorkerDeps["log"],
  ) {
    this.recorded = previous.sentParts.length;
    this.replaying = previous.sentParts.length > 0;
  }

  readonly send = async (target: ReplyTarget, message: OutgoingMessage): Promise<SendResult> => {
    const d = digest(message);
    if (this.replaying && this.previous.sentParts[this.delivered.length] === d) {
      this.delivered.push(d);
      this.log.info("part already delivered by an earlier attempt, not resent", { part: this.delivered.length });
      return { route: "webhook" };
    }
    this.replaying = false;
    if (this.delivered.length > this.recorded) {
      await this.deps.idempotency.recordParts(this.key, this.token, [...this.delivered]);
      this.recorded = this.delivered.length;
    }
    const result = await this.deps.send(target, message);
    this.delivered.push(d);
    return result;
  };
}
