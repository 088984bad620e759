// Table errors every backend shares: TableUnavailableError (outages hosts map to 503), the network
// failures every client surfaces the same way, and endpoints made safe for logs and messages.
import { describeError } from "../log.js";

/** The table does not exist (not created yet, or deleted). */
export class TableMissingError extends Error {
  constructor(name: string, options?: { cause?: unknown }) {
    super(`table "${name}" does not exist`, options);
    this.name = "TableMissingError";
  }
}

/** The table cannot be reached or is overloaded (network, timeout, 5xx, throttling). Hosts map it to 503. */
export class TableUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TableUnavailableError";
  }
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** True when `err` (or an error it wraps) is a network failure. */
export function isNetworkError(err: unknown, depth = 0): boolean {
  if (typeof err !== "object" || err === null || depth > 5) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
  if (err instanceof AggregateError) return err.errors.some((x) => isNetworkError(x, depth + 1));
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && isNetworkError(cause, depth + 1);
}

export function errorName(err: unknown): string {
  const name = typeof err === "object" && err !== null ? (err as { name?: unknown }).name : undefined;
  return typeof name === "string" ? name : "";
}

/** A short reason for an error message: name, code and message, at most 300 characters. */
export function reason(err: unknown): string {
  const d = describeError(err);
  let code = d.code;
  if (!code && err instanceof AggregateError) code = describeError(err.errors[0]).code;
  const head = code && !d.message.includes(code) ? `${code} ` : "";
  return `${d.name}: ${head}${d.message || "(no message)"}`.slice(0, 300);
}

/** The endpoint without userinfo, query or fragment, safe for logs and error messages. */
export function safeEndpoint(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(invalid endpoint)";
  }
}

export function isLoopback(endpoint: string): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname.replace(/^\[|\]$/g, "").toLowerCase();
  } catch {
    return false;
  }
  return host === "localhost" || host.endsWith(".localhost") || host === "::1" || host === "0.0.0.0" || /^127\./.test(host);
}

/**
 * Awaits one backend call: outages (as `isUnavailable` tells) become TableUnavailableError naming the
 * table and the action; other errors pass through unchanged.
 */
export async function callTable<T>(
  where: { name: string; endpoint: string },
  action: string,
  isUnavailable: (err: unknown) => boolean,
  p: Promise<T>,
): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof TableUnavailableError || !isUnavailable(err)) throw err;
    throw new TableUnavailableError(`table "${where.name}" at ${safeEndpoint(where.endpoint)} is unavailable (${action}: ${reason(err)})`, {
      cause: err,
    });
  }
}
