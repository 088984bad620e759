// Plays DingTalk's part of the HTTP callback: signs a body with the (playground) app secret the way
// DingTalk does and posts it to the gateway's POST /callback, timing the acknowledgement.
import { signTimestamp } from "../core/dingtalk/sign.js";
import { describeError } from "../core/log.js";

export interface PostedCallback {
  status: number;
  requestId: string | undefined;
  ackMs: number;
  /** The gateway's error text for a refused callback, or why nothing answered. */
  error?: string;
}

export interface PostCallbackOptions {
  url: string;
  secret: string;
  body: Record<string, unknown>;
  now?: () => number;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export async function postCallback(opts: PostCallbackOptions): Promise<PostedCallback> {
  const now = opts.now ?? (() => performance.now());
  const timestamp = String(Date.now());
  const started = now();
  try {
    const res = await (opts.fetch ?? fetch)(`${opts.url}/callback`, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8", timestamp, sign: signTimestamp(timestamp, opts.secret) },
      body: JSON.stringify(opts.body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    const ackMs = Math.round((now() - started) * 10) / 10;
    const requestId = res.headers.get("x-request-id") ?? undefined;
    return { status: res.status, requestId, ackMs, ...(res.ok ? {} : { error: errorOf(text) }) };
  } catch (err) {
    return { status: 0, requestId: undefined, ackMs: Math.round(now() - started), error: describeError(err).message };
  }
}

function errorOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === "string") return body.error;
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 200);
}
