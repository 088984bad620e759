// Inbound callback signature (reference §1): sign = base64(HMAC-SHA256(secret, timestamp + "\n" + secret)),
// compared in constant time, with the timestamp at most one hour away from now in either direction.
import { createHmac, timingSafeEqual } from "node:crypto";

export const MAX_CLOCK_SKEW_MS = 60 * 60 * 1000;

export type SignatureFailure = "missing" | "malformed" | "stale" | "mismatch";
export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailure };

/** A header value as HTTP frameworks hand it over (repeated headers arrive as arrays). */
export type HeaderValue = string | string[] | undefined | null;

export interface VerifySignatureInput {
  /** The `timestamp` header, verbatim (ms since epoch, digits only). */
  timestamp: HeaderValue;
  /** The `sign` header. */
  sign: HeaderValue;
  /** The app's Client Secret (AppSecret). */
  secret: string;
  /** The current time in ms, or a clock. */
  now: number | (() => number);
}

/** The `sign` DingTalk sends with `timestamp` for an app whose Client Secret is `secret`. */
export function signTimestamp(timestamp: string, secret: string): string {
  return createHmac("sha256", Buffer.from(secret, "utf8"))
    .update(`${timestamp}\n${secret}`, "utf8")
    .digest("base64");
}

export function verifySignature(input: VerifySignatureInput): SignatureCheck {
  const { timestamp, sign, secret } = input;
  if (!timestamp || !sign || !secret) return { ok: false, reason: "missing" };
  if (typeof timestamp !== "string" || typeof sign !== "string") return { ok: false, reason: "malformed" };
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, reason: "malformed" };
  const now = typeof input.now === "function" ? input.now() : input.now;
  if (Math.abs(now - Number(timestamp)) > MAX_CLOCK_SKEW_MS) return { ok: false, reason: "stale" };
  const expected = Buffer.from(signTimestamp(timestamp, secret), "utf8");
  const given = Buffer.from(sign, "utf8");
  if (given.length !== expected.length) {
    timingSafeEqual(expected, expected);
    return { ok: false, reason: "mismatch" };
  }
  return timingSafeEqual(given, expected) ? { ok: true } : { ok: false, reason: "mismatch" };
}
