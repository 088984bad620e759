// Accepting a parsed message, whichever way it arrived (HTTP callback or Stream frame): claim its id
// in the table so redeliveries are dropped, then dispatch the job to the worker.
import { randomUUID } from "node:crypto";
import type { InboundMessage } from "./dingtalk/inbound.js";
import { MAX_JOB_BYTES, type Dispatch, type Job } from "./job.js";
import { describeError, type Logger } from "./log.js";
import type { IdempotencyStore } from "./store/idempotency.js";
import { emitTrace } from "./trace-events.js";

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
  | { status: "too_large"; key: string }
  /** `token`: the claim token that was tried (its write may have landed; pass it again on a retry). */
  | { status: "unavailable"; key: string; error: string; token: string };

export function messageKey(msg: InboundMessage, robotCode: string): string {
  return `${msg.robotCode ?? robotCode}:${msg.msgId}`;
}

/**
 * Claims (with the token `tried`, fresh by default) then dispatches (the inbound schema already
 * refused ids and times the table cannot hold).
 * Table or dispatch failures come back as "unavailable" (the sender should
 * retry; a dispatch failure releases the claim so the retry can run), never as a thrown error.
 */
export async function ingest(
  msg: InboundMessage,
  body: Record<string, unknown>,
  deps: IngestDeps,
  requestId?: string,
  tried: string = randomUUID(),
): Promise<IngestResult> {
  const key = messageKey(msg, deps.robotCode);
  const log = deps.log.child({ msgId: msg.msgId, requestId });
  let token: string;
  try {
    const claim = await deps.idempotency.claim(key, tried);
    if (claim.status !== "claimed") {
      log.info("duplicate delivery dropped", { state: claim.status });
      emitTrace({ type: "message.duplicate", requestId, msgId: msg.msgId, state: claim.status });
      return { status: "duplicate", key, state: claim.status };
    }
    token = claim.token;
  } catch (err) {
    log.error("claim failed", { error: describeError(err) });
    return { status: "unavailable", key, error: "table unavailable", token: tried };
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
    return { status: "unavailable", key, error: "dispatch failed", token };
  }
  log.info("message accepted", { conversation: msg.conversation.id, kind: msg.kind });
  emitTrace({ type: "message.accepted", requestId, msgId: msg.msgId, conversation: msg.conversation.id, kind: msg.kind });
  return { status: "accepted", key };
}
