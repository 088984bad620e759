// Accepting a parsed message, whichever way it arrived (HTTP callback or Stream frame): claim its id
// in the table so redeliveries are dropped, then dispatch the job to the worker.
import type { InboundMessage } from "./dingtalk/inbound.js";
import { MAX_JOB_BYTES, type Dispatch, type Job } from "./job.js";
import { describeError, type Logger } from "./log.js";
import type { IdempotencyStore } from "./store/idempotency.js";

export interface IngestDeps {
  idempotency: Pick<IdempotencyStore, "claim" | "release">;
  dispatch: Dispatch;
  robotCode: string;
  now: () => number;
  log: Logger;
}

export type IngestResult =
  | { status: "accepted"; key: string }
  | { status: "duplicate"; key: string; state: "in_progress" | "completed" }
  | { status: "invalid"; key: string; reason: string }
  | { status: "too_large"; key: string }
  | { status: "unavailable"; key: string; error: string };

/** Longest id (UTF-8 bytes) that goes into a table key; DynamoDB allows 2,048 bytes per partition key. */
export const MAX_ID_BYTES = 512;
/** The latest message time that can be stored (the largest JavaScript date; DynamoDB numbers stop at ~1e126). */
const MAX_TIME_MS = 8.64e15;

export function messageKey(msg: InboundMessage, robotCode: string): string {
  return `${msg.robotCode ?? robotCode}:${msg.msgId}`;
}

/** Why the table could never hold this message (so no retry can help), or undefined when it can. */
export function unstorable(msg: InboundMessage): string | undefined {
  const ids: Record<string, string | undefined> = {
    msgId: msg.msgId,
    robotCode: msg.robotCode,
    conversationId: msg.conversation.id,
    senderId: msg.sender.id,
    senderStaffId: msg.sender.staffId,
  };
  for (const [field, id] of Object.entries(ids))
    if (id !== undefined && Buffer.byteLength(id, "utf8") > MAX_ID_BYTES) return `field ${field} is longer than ${MAX_ID_BYTES} bytes`;
  if (!(msg.createdAt <= MAX_TIME_MS)) return "field createAt is not a possible time";
  return undefined;
}

/**
 * Claims then dispatches. A message whose ids or time the table cannot hold is "invalid" (nothing is
 * claimed; no retry could help). Table or dispatch failures come back as "unavailable" (the sender should
 * retry; a dispatch failure releases the claim so the retry can run), never as a thrown error.
 */
export async function ingest(
  msg: InboundMessage,
  body: Record<string, unknown>,
  deps: IngestDeps,
  requestId?: string,
): Promise<IngestResult> {
  const key = messageKey(msg, deps.robotCode);
  const problem = unstorable(msg);
  if (problem) {
    deps.log.warn("message refused: it cannot be stored", { requestId, reason: problem });
    return { status: "invalid", key, reason: problem };
  }
  const log = deps.log.child({ msgId: msg.msgId, requestId });
  let token: string;
  try {
    const claim = await deps.idempotency.claim(key);
    if (claim.status !== "claimed") {
      log.info("duplicate delivery dropped", { state: claim.status });
      return { status: "duplicate", key, state: claim.status };
    }
    token = claim.token;
  } catch (err) {
    log.error("claim failed", { error: describeError(err) });
    return { status: "unavailable", key, error: "table unavailable" };
  }

  const job: Job = { v: 1, body, claim: { key, token }, requestId, receivedAt: deps.now() };
  if (Buffer.byteLength(JSON.stringify(job)) > MAX_JOB_BYTES) {
    log.warn("message too large to dispatch");
    await deps.idempotency.release(key, token).catch(() => undefined);
    return { status: "too_large", key };
  }
  try {
    await deps.dispatch(job);
  } catch (err) {
    log.error("dispatch failed", { error: describeError(err) });
    await deps.idempotency.release(key, token).catch(() => undefined);
    return { status: "unavailable", key, error: "dispatch failed" };
  }
  log.info("message accepted", { conversation: msg.conversation.id, kind: msg.kind });
  return { status: "accepted", key };
}
