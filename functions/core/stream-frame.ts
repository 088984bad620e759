// The Stream-mode entry point, beside http-callback.ts: a robot CALLBACK frame's data in → parse →
// claim → dispatch → ACK or not. A frame is ACKed only once its message is claimed (or known as a
// duplicate, or can never be processed); when the claim cannot be made (table unreachable, throttled
// past retries, dispatch refused) it is not ACKed, so DingTalk redelivers it. The token of a failed
// claim is kept for the redelivery: a claim whose write landed although its answer was lost is then
// recognised as this gateway's own instead of as another attempt in progress.
import { parseCallback } from "./dingtalk/inbound.js";
import { ingest, messageKey, type IngestDeps } from "./ingest.js";

export interface StreamFrame {
  /** The frame's `headers.messageId` (what the ACK names). */
  messageId: string;
  /** The frame's `data`: the robot message JSON as a string. */
  data: string;
}

/** Failed claims remembered at most (oldest forgotten first). */
const MAX_REMEMBERED = 1000;

export class StreamIngest {
  private readonly failedClaims = new Map<string, string>();

  constructor(private readonly deps: IngestDeps) {}

  /** Resolves true when the frame may be ACKed; never throws. */
  async handle(frame: StreamFrame): Promise<boolean> {
    const log = this.deps.log.child({ messageId: frame.messageId });
    let body: unknown;
    try {
      body = JSON.parse(frame.data);
    } catch {
      log.warn("dingtalk: robot frame data is not JSON; acknowledged and dropped");
      return true;
    }
    const parsed = parseCallback(body);
    if (!parsed.ok) {
      log.warn("dingtalk: invalid robot message in stream frame; acknowledged and dropped", { reason: parsed.reason });
      return true;
    }
    const key = messageKey(parsed.message, this.deps.robotCode);
    const result = await ingest(parsed.message, body as Record<string, unknown>, this.deps, frame.messageId, this.failedClaims.get(key));
    this.failedClaims.delete(key);
    switch (result.status) {
      case "accepted":
      case "duplicate":
        return true;
      case "too_large":
        log.error("dingtalk: message too large to process; acknowledged and dropped", { msgId: parsed.message.msgId });
        return true;
      case "unavailable":
        this.remember(key, result.token);
        log.warn("dingtalk: message not acknowledged, DingTalk will redeliver it", { msgId: parsed.message.msgId, reason: result.error });
        return false;
    }
  }

  private remember(key: string, token: string): void {
    this.failedClaims.set(key, token);
    if (this.failedClaims.size > MAX_REMEMBERED) this.failedClaims.delete(this.failedClaims.keys().next().value!);
  }
}
