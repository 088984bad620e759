// JSON-over-fetch for DingTalk's APIs: timeouts, zod-checked responses, one error type that reads
// both error shapes (new API `{code,message,requestid}` + non-2xx; legacy HTTP 200 + `errcode`),
// and bounded retries with exponential backoff and jitter on 5xx, network errors and throttling.
import type * as z from "zod";
import { describeError, redact, silentLogger, type Logger } from "../log.js";
import { backoffDelay, realSleep, retry, type Sleep } from "../retry.js";
import type { CallPriority, RateGate } from "./rate-gate.js";

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** New-API codes and legacy errcodes that mean "too many calls, slow down". */
export const THROTTLE_CODES: ReadonlySet<string> = new Set([
  "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
  "Forbidden.AccessDenied.QpsLimitForApi",
  "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi",
  "send.too.fast",
  "flowControlled",
  "90018",
  "90002",
  "90006",
  "410100",
  "660026",
]);

/** Transient server-side failures worth another attempt. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set(["system.error", "unknownError", "-1", "network", "timeout"]);

/** Our code for an intermediate call the app's rate gate skipped (nothing was sent). */
export const RATE_SKIPPED = "rateGate.skipped";

/** Codes meaning the access token is bad or expired (refresh once, then retry). */
export const AUTH_CODES: ReadonlySet<string> = new Set(["InvalidAuthentication", "40001", "40014", "42001", "88"]);

export interface DingTalkApiErrorInfo {
  /** Which call failed, e.g. "robot.groupMessages.send" (never a URL with a token in it). */
  api: string;
  /** HTTP status; 0 for network errors and timeouts. */
  status: number;
  /** DingTalk's `code`, the legacy `errcode` as a string, or ours: "network", "timeout", "invalidResponse", "http_<status>". */
  code: string;
  message: string;
  requestId: string | undefined;
  retryable: boolean;
  throttled: boolean;
}

export class DingTalkApiError extends Error {
  readonly api: string;
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;
  readonly retryable: boolean;
  readonly throttled: boolean;

  constructor(info: DingTalkApiErrorInfo) {
    super(redact(`${info.api}: ${info.code}${info.message ? ` (${info.message})` : ""}${info.status ? ` [HTTP ${info.status}]` : ""}`));
    this.name = "DingTalkApiError";
    this.api = info.api;
    this.status = info.status;
    this.code = info.code;
    this.requestId = info.requestId;
    this.retryable = info.retryable;
    this.throttled = info.throttled;
  }

  get isAuthError(): boolean {
    return AUTH_CODES.has(this.code) || this.status === 401;
  }
}

/** Builds the error for a code, deciding retryable/throttled from the code and status. */
export function apiError(api: string, status: number, code: string, message: string, requestId?: string): DingTalkApiError {
  const throttled = THROTTLE_CODES.has(code) || status === 429;
  const retryable = throttled || TRANSIENT_CODES.has(code) || status >= 500;
  return new DingTalkApiError({ api, status, code, message: redact(message).slice(0, 300), requestId, retryable, throttled });
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;
}

/** The error a response body describes, if any (legacy errcode ≠ 0, new-API code on non-2xx, IP ban). */
export function errorFromBody(api: string, status: number, body: unknown): DingTalkApiError | undefined {
  const b = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const requestId = str(b.requestid) ?? str(b.requestId) ?? str(b.request_id);
  const errcode = str(b.errcode);
  if (errcode !== undefined && errcode !== "0") {
    const sub = str(b.sub_code);
    const code = errcode === "88" && sub ? sub : errcode;
    return apiError(api, status, code, str(b.sub_msg) ?? str(b.errmsg) ?? "", requestId);
  }
  if (b.punish !== undefined && b.status !== undefined) {
    const e = apiError(api, status, "ipBlocked", "DingTalk blocked this IP for too many calls; wait a few minutes", requestId);
    return new DingTalkApiError({ ...infoOf(e), throttled: true, retryable: false });
  }
  if (status >= 200 && status < 300) return undefined;
  return apiError(api, status, str(b.code) ?? `http_${status}`, str(b.message) ?? "", requestId);
}

function infoOf(e: DingTalkApiError): DingTalkApiErrorInfo {
  return { api: e.api, status: e.status, code: e.code, message: "", requestId: e.requestId, retryable: e.retryable, throttled: e.throttled };
}

export interface HttpOptions {
  fetch?: FetchLike;
  sleep?: Sleep;
  random?: () => number;
  log?: Logger;
  /** Per attempt. */
  timeoutMs?: number;
  maxAttempts?: number;
  /** First backoff step; throttling starts at twice this. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Called once per HTTP attempt with the API's name (e.g. "card.streaming"), to count calls against
   * DingTalk's monthly quota. Runs alongside the request (`countsSettled()` awaits the ones under
   * way); its failure is logged, never thrown.
   */
  onCall?: (api: string) => Promise<void> | void;
  /** The app's API rate (channels.dingtalk.api_qps): every attempt of a gated request takes a slot first. */
  gate?: RateGate;
}

export interface JsonRequest<S extends z.ZodType> {
  api: string;
  method?: "GET" | "POST" | "PUT";
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  schema: S;
  /** Turns a 2xx body into an error (e.g. per-user flow control inside a successful response). */
  check?: (data: z.output<S>) => DingTalkApiError | undefined;
  /** Override the client's attempt limit (1 = no retries). */
  maxAttempts?: number;
  /** How the rate gate treats it (default "final": waits its turn); `false`: not gated (token calls). */
  priority?: CallPriority | false;
}

export class DingTalkHttp {
  private readonly fetch: FetchLike;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly log: Logger;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly onCall: HttpOptions["onCall"];
  private readonly gate: RateGate | undefined;
  private readonly counting = new Set<Promise<void>>();

  constructor(opts: HttpOptions = {}) {
    this.onCall = opts.onCall;
    this.gate = opts.gate;
    this.fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.sleep = opts.sleep ?? realSleep;
    this.random = opts.random ?? Math.random;
    this.log = opts.log ?? silentLogger;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 4);
    this.baseDelayMs = opts.baseDelayMs ?? 500;
    this.maxDelayMs = opts.maxDelayMs ?? 8_000;
  }

  /** Backoff before attempt `attempt + 1`: exponential, capped, jittered; throttling starts twice as long. */
  delayFor(attempt: number, err: DingTalkApiError): number {
    const baseMs = err.throttled ? this.baseDelayMs * 2 : this.baseDelayMs;
    return backoffDelay(attempt, { baseMs, maxMs: this.maxDelayMs }, this.random);
  }

  request<S extends z.ZodType>(req: JsonRequest<S>): Promise<z.output<S>> {
    return retry(() => this.once(req), {
      attempts: Math.max(1, req.maxAttempts ?? this.maxAttempts),
      retryable: (err) => err instanceof DingTalkApiError && err.retryable,
      delayMs: (attempt, err) => this.delayFor(attempt, err as DingTalkApiError),
      onRetry: ({ err, attempt, delayMs }) => {
        const e = err as DingTalkApiError;
        this.log.warn("dingtalk: call failed, retrying", { api: req.api, code: e.code, status: e.status, attempt, delayMs });
      },
      sleep: this.sleep,
    });
  }

  /**
   * One attempt: takes a slot from the rate gate (an intermediate call it skips throws RATE_SKIPPED),
   * then counts the call without making the reply wait for the table (the count is a side record).
   */
  private async once<S extends z.ZodType>(req: JsonRequest<S>): Promise<z.output<S>> {
    const priority = req.priority ?? "final";
    const release = this.gate && priority ? await this.gate.take(priority) : undefined;
    if (this.gate && priority && !release) throw apiError(req.api, 0, RATE_SKIPPED, "skipped: the app's API rate is fully used");
    const counted = this.count(req.api);
    this.counting.add(counted);
    void counted.finally(() => this.counting.delete(counted));
    try {
      return await this.exchange(req);
    } finally {
      release?.();
    }
  }

  /**
   * Resolves once the call counts started so far are written (or have failed and were logged); counts
   * started later (other jobs' calls on a shared client) are not waited for.
   */
  async countsSettled(): Promise<void> {
    await Promise.all([...this.counting]);
  }

  private async count(api: string): Promise<void> {
    if (!this.onCall) return;
    try {
      await this.onCall(api);
    } catch (err) {
      this.log.warn("dingtalk: could not count the API call", { api, error: describeError(err) });
    }
  }

  private async exchange<S extends z.ZodType>(req: JsonRequest<S>): Promise<z.output<S>> {
    const headers: Record<string, string> = { accept: "application/json", ...req.headers };
    if (req.body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    let text: string;
    try {
      res = await this.fetch(req.url, {
        method: req.method ?? (req.body === undefined ? "GET" : "POST"),
        headers,
        ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const name = err instanceof Error ? err.name : "";
      if (name === "TimeoutError" || name === "AbortError")
        throw apiError(req.api, 0, "timeout", `no answer within ${this.timeoutMs} ms`);
      const cause = err instanceof Error && err.cause instanceof Error ? (err.cause as NodeJS.ErrnoException).code : undefined;
      throw apiError(req.api, 0, "network", cause ?? (err instanceof Error ? err.message : "fetch failed"));
    }
    let body: unknown;
    try {
      body = text === "" ? {} : JSON.parse(text);
    } catch {
      if (res.status >= 200 && res.status < 300) throw apiError(req.api, res.status, "invalidResponse", "answer is not JSON");
      throw apiError(req.api, res.status, `http_${res.status}`, "answer is not JSON");
    }
    const bodyError = errorFromBody(req.api, res.status, body);
    if (bodyError) throw bodyError;
    const parsed = req.schema.safeParse(body);
    if (!parsed.success) {
      const field = parsed.error.issues[0]?.path.map(String).join(".");
      throw apiError(req.api, res.status, "invalidResponse", `unexpected answer${field ? ` (field ${field})` : ""}`);
    }
    const data: z.output<S> = parsed.data;
    const checkError = req.check?.(data);
    if (checkError) throw checkError;
    return data;
  }
}
