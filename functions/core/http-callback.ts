// The DingTalk HTTP callback, platform-free: verify → parse → claim → dispatch → answer in
// milliseconds. Hosts (FC 2.0, FC 3.0, the gateway) only adapt their request/response to this.
import { parseCallback } from "./dingtalk/inbound.js";
import { verifySignature } from "./dingtalk/sign.js";
import { ingest, type IngestDeps } from "./ingest.js";
import { emitTrace } from "./trace-events.js";

export const MAX_BODY_BYTES = 1024 * 1024;

export interface CallbackRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  /** Undefined when the host already knows the body exceeded MAX_BODY_BYTES. */
  body: Buffer | undefined;
  requestId?: string;
}

export interface CallbackResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface CallbackDeps extends IngestDeps {
  /** The app's Client Secret; undefined when DingTalk credentials are not configured. */
  secret: string | undefined;
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };
/** DingTalk's "no inline reply" body: the answer comes asynchronously from the worker. */
const NO_REPLY = JSON.stringify({ msgtype: "empty" });

function respond(status: number, error?: string, extra: Record<string, string> = {}): CallbackResponse {
  return { status, headers: { ...JSON_HEADERS, ...extra }, body: error ? JSON.stringify({ error }) : NO_REPLY };
}

function header(headers: CallbackRequest["headers"], name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
  return undefined;
}

export async function handleCallback(req: CallbackRequest, deps: CallbackDeps): Promise<CallbackResponse> {
  if (req.method.toUpperCase() !== "POST") return respond(405, "method not allowed: use POST", { allow: "POST" });
  if (!req.body || req.body.length > MAX_BODY_BYTES) return respond(413, "body larger than 1 MB");
  if (!deps.secret) {
    deps.log.error("callback received but DingTalk credentials are not configured", { requestId: req.requestId });
    return respond(503, "bot not configured: set DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET");
  }

  const check = verifySignature({
    timestamp: header(req.headers, "timestamp"),
    sign: header(req.headers, "sign"),
    secret: deps.secret,
    now: deps.now(),
  });
  if (!check.ok) {
    deps.log.warn("callback rejected", { requestId: req.requestId, reason: check.reason });
    emitTrace({ type: "callback.rejected", requestId: req.requestId, reason: check.reason });
    return respond(401, `signature check failed: ${check.reason}`);
  }

  let json: unknown;
  try {
    json = JSON.parse(req.body.toString("utf8"));
  } catch {
    return respond(400, "body is not valid JSON");
  }
  const parsed = parseCallback(json);
  if (!parsed.ok) return respond(400, `invalid callback body: ${parsed.reason}`);

  const result = await ingest(parsed.message, json as Record<string, unknown>, deps, req.requestId);
  switch (result.status) {
    case "accepted":
    case "duplicate":
      return respond(200);
    case "too_large":
      return respond(413, "message too large to process");
    case "unavailable":
      return respond(503, "temporarily unavailable, please retry", { "retry-after": "1" });
  }
}
