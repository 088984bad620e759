// Worker jobs exactly as the callback makes them: the message's id claimed in the table (the real
// IdempotencyStore), then the Job envelope the worker's FC event carries.
import { parseCallback } from "../../../functions/core/dingtalk/inbound.js";
import { messageKey } from "../../../functions/core/ingest.js";
import type { Job } from "../../../functions/core/job.js";
import type { IdempotencyStore } from "../../../functions/core/store/idempotency.js";

export async function claimJob(idempotency: IdempotencyStore, body: Record<string, unknown>, robotCode: string): Promise<string> {
  const parsed = parseCallback(body);
  if (!parsed.ok) throw new Error(`bench message does not parse: ${parsed.reason}`);
  const key = messageKey(parsed.message, robotCode);
  const claim = await idempotency.claim(key);
  if (claim.status !== "claimed") throw new Error(`cannot claim ${key}: ${claim.status}`);
  const job: Job = { v: 1, body, claim: { key, token: claim.token }, requestId: `bench-${parsed.message.msgId}`, receivedAt: Date.now() };
  return JSON.stringify(job);
}
