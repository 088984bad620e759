// LLM errors: the LlmError class and classifyError, which maps real providers' failure shapes
// (OpenAI, DashScope/Qwen, Zhipu, DeepSeek, Moonshot, network and SDK errors) to one LlmErrorKind.
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import { ZodError } from "zod";
import { redact } from "../log.js";
import type { AttemptRecord, LlmErrorKind } from "./types.js";

export class LlmError extends Error {
  readonly kind: LlmErrorKind;
  readonly status?: number;
  readonly modelName?: string;
  readonly attempts: AttemptRecord[];
  /** True when the caller's AbortSignal ended the chat. */
  readonly aborted: boolean;

  constructor(
    kind: LlmErrorKind,
    message: string,
    opts: { status?: number; modelName?: string; attempts?: AttemptRecord[]; aborted?: boolean } = {},
  ) {
    super(message);
    this.name = "LlmError";
    this.kind = kind;
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.modelName !== undefined) this.modelName = opts.modelName;
    this.attempts = opts.attempts ?? [];
    this.aborted = opts.aborted ?? false;
  }
}

/** Kinds after which trying another endpoint is pointless: the same request would fail anywhere. */
export const FINAL_KINDS: ReadonlySet<LlmErrorKind> = new Set(["moderation", "context_length", "bad_request"]);

type ApiErr = APIError<number | undefined, Headers | undefined, object | undefined>;

interface Facts {
  status: number | undefined;
  code: string;
  type: string;
  text: string;
}

function str(v: unknown): string {
  return typeof v === "string" || typeof v === "number" ? String(v) : "";
}

function factsOf(err: ApiErr): Facts {
  const body = err.error as Record<string, unknown> | string | undefined | null;
  const inner = typeof body === "object" && body !== null ? body : {};
  return {
    status: err.status,
    code: str(err.code ?? inner.code),
    type: str(err.type ?? inner.type),
    text: `${err.message} ${typeof body === "string" ? body : str(inner.message)}`,
  };
}

const MODERATION_CODES = new Set([
  "data_inspection_failed", // DashScope compatible mode
  "datainspectionfailed", // DashScope native
  "1301", // Zhipu
  "content_filter", // Moonshot (type), Azure OpenAI (code)
  "content_policy_violation",
  "sensitive_words_detected",
]);
const MODERATION_TEXT =
  /data[_ ]?inspection[_ ]?failed|inappropriate content|considered high risk|content exists risk|unsafe or sensitive|不安全或敏感|敏感内容|content management policy|safety system/i;

const QUOTA_CODES = new Set([
  "arrearage", // DashScope: account overdue
  "insufficient_quota", // OpenAI
  "insufficient_balance",
  "exceeded_current_quota_error", // Moonshot
  "billing_not_active",
  "1113", // Zhipu: account in arrears (sent with HTTP 429)
  "1304", // Zhipu: daily call limit reached
  "1308", // Zhipu: usage cap reached until reset
  "1309", // Zhipu: plan expired
  "1310", // Zhipu: weekly/monthly cap
]);
const QUOTA_TEXT =
  /arrearage|good standing|insufficient[ _](account[ _])?balance|insufficient[ _]quota|exceeded your current quota|欠费|余额不足/i;

const CONTEXT_CODES = new Set([
  "context_length_exceeded", // OpenAI
  "1261", // Zhipu: prompt too long
  "string_above_max_length",
  "tokens_too_long",
  "characters_too_long",
]);
const CONTEXT_TEXT =
  /maximum context length|context[ _]length|exceeded model token limit|input token length too long|range of input length|prompt is too long|prompt 超长|input is too long|too many (input )?tokens/i;

const AUTH_CODES = new Set(["invalid_api_key", "invalidapikey", "1000", "1001", "1002", "1003", "1004"]);
const AUTH_TYPES = new Set(["invalid_authentication_error", "incorrect_api_key_error", "authentication_error"]);

const RATE_CODES = new Set(["1302", "1303", "1305", "1312", "rate_limit_exceeded", "limit_requests"]);
const RATE_TYPES = new Set(["rate_limit_reached_error", "engine_overloaded_error", "rate_limit_error"]);

const NOT_FOUND_CODES = new Set(["1211", "model_not_found"]);

const NETWORK_CODES =
  /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|ETIMEDOUT|UND_ERR_\w+)$/;

function classifyApiError(err: ApiErr): LlmErrorKind {
  const f = factsOf(err);
  const code = f.code.toLowerCase();
  const type = f.type.toLowerCase();
  if (MODERATION_CODES.has(code) || MODERATION_CODES.has(type) || MODERATION_TEXT.test(f.text)) return "moderation";
  if (code.startsWith("throttling") || RATE_CODES.has(code) || RATE_TYPES.has(type)) return "rate_limit";
  if (QUOTA_CODES.has(code) || QUOTA_CODES.has(type) || f.status === 402 || QUOTA_TEXT.test(f.text)) return "quota";
  if (CONTEXT_CODES.has(code) || f.status === 413) return "context_length";
  if (f.status !== 429 && CONTEXT_TEXT.test(f.text)) return "context_length";
  if (AUTH_CODES.has(code) || AUTH_TYPES.has(type) || f.status === 401 || f.status === 403) return "auth";
  if (NOT_FOUND_CODES.has(code) || f.status === 404) return "other";
  if (f.status === 429) return "rate_limit";
  if (f.status === 408) return "timeout";
  if (f.status === undefined || f.status >= 500 || f.status === 409) return "server";
  if (f.status >= 400) return "bad_request";
  return "other";
}

function causeChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  let cur: unknown = err;
  while (cur && out.length < 5) {
    out.push(cur);
    cur = (cur as { cause?: unknown }).cause;
  }
  return out;
}

/** Maps any thrown value from an LLM call to the kind that decides retry, fallback or stop. */
export function classifyError(err: unknown): LlmErrorKind {
  if (err instanceof LlmError) return err.kind;
  if (err instanceof APIConnectionTimeoutError) return "timeout";
  if (err instanceof APIUserAbortError) return "other";
  if (err instanceof APIConnectionError) return "network";
  if (err instanceof APIError) return classifyApiError(err as ApiErr);
  if (err instanceof ZodError || err instanceof SyntaxError) return "server";
  for (const e of causeChain(err)) {
    const code = str((e as { code?: unknown }).code);
    if (NETWORK_CODES.test(code)) return code === "ETIMEDOUT" ? "timeout" : "network";
    if (e instanceof Error && e.name === "TimeoutError") return "timeout";
    if (e instanceof TypeError && /fetch failed|terminated|socket/i.test(e.message)) return "network";
  }
  return "other";
}

/** The HTTP status behind an error, when there was one. */
export function statusOf(err: unknown): number | undefined {
  if (err instanceof LlmError) return err.status;
  if (err instanceof APIError) return (err as ApiErr).status;
  return undefined;
}

const KEY_LIKE = /\b(?:sk|ak|pk)-[A-Za-z0-9*._-]{4,}|\bbearer\s+[A-Za-z0-9*._~+/=-]{4,}/gi;
const MASKED_KEY = /[A-Za-z0-9._-]{0,12}\*{3,}[A-Za-z0-9._-]{0,12}/g;
const LONG_TOKEN = /[A-Za-z0-9*._-]{32,}/g;

/** A short description safe for logs and users: registered secrets masked, key-like strings removed. */
export function scrubDetail(text: string, max = 200): string {
  const clean = redact(text).replace(KEY_LIKE, "***")
    .replace(LONG_TOKEN, "***")
    .replace(MASKED_KEY, "***").replace(/\s+/g, " ").trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** The provider's own error message (not the raw body), scrubbed. */
export function detailOf(err: unknown): string {
  if (err instanceof APIError && !(err instanceof APIConnectionError)) {
    const body = err.error as Record<string, unknown> | string | undefined | null;
    const msg = typeof body === "string" ? body : typeof body === "object" && body ? str(body.message) : "";
    const code = str(err.code);
    return scrubDetail([code, msg || err.message].filter(Boolean).join(": "));
  }
  if (err instanceof Error) {
    const causes = causeChain(err).slice(1);
    const code = causes.map((c) => str((c as { code?: unknown }).code)).find(Boolean);
    const first = causes[0];
    const causeText = code ?? (first instanceof Error ? first.message : "");
    return scrubDetail(`${err.message}${causeText ? ` (${causeText})` : ""}`);
  }
  return scrubDetail(String(err));
}
