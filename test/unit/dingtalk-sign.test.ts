// Callback signature: the documented vector, and every way a tampered or stale request is refused.
import { describe, expect, it } from "vitest";
import { MAX_CLOCK_SKEW_MS, signTimestamp, verifySignature } from "../../functions/core/dingtalk/sign.js";

const SECRET = "this is a secret";
const TS = "1577262236757";
const SIGN = "DJrE6qdyVGCQz9z5r2MDuNcNAhwYnuAkyj13cx169CA=";
const NOW = Number(TS) + 1_000;

describe("dingtalk signature", () => {
  it("matches the reference test vector", () => {
    expect(signTimestamp(TS, SECRET)).toBe(SIGN);
    expect(verifySignature({ timestamp: TS, sign: SIGN, secret: SECRET, now: NOW })).toEqual({ ok: true });
  });

  it("accepts a clock function and the edges of the one-hour window", () => {
    expect(verifySignature({ timestamp: TS, sign: SIGN, secret: SECRET, now: () => NOW })).toEqual({ ok: true });
    const early = Number(TS) - MAX_CLOCK_SKEW_MS;
    const late = Number(TS) + MAX_CLOCK_SKEW_MS;
    expect(verifySignature({ timestamp: TS, sign: SIGN, secret: SECRET, now: early }).ok).toBe(true);
    expect(verifySignature({ timestamp: TS, sign: SIGN, secret: SECRET, now: late }).ok).toBe(true);
  });

  it("rejects stale timestamps in both directions", () => {
    const past = verifySignature({ timestamp: TS, sign: SIGN, secret: SECRET, now: Number(TS) + MAX_CLOCK_SKEW_MS + 1 });
    const future = verifySignature({ timestamp: TS, sign: SIGN, secret: SECRET, now: Number(TS) - MAX_CLOCK_SKEW_MS - 1 });
    expect(past).toEqual({ ok: false, reason: "stale" });
    expect(future).toEqual({ ok: false, reason: "stale" });
  });

  it("rejects a sign made for another timestamp or secret", () => {
    const otherTs = String(Number(TS) + 1);
    expect(verifySignature({ timestamp: otherTs, sign: SIGN, secret: SECRET, now: NOW })).toEqual({ ok: false, reason: "mismatch" });
    expect(verifySignature({ timestamp: TS, sign: SIGN, secret: "another secret", now: NOW })).toEqual({ ok: false, reason: "mismatch" });
    const flipped = (SIGN[0] === "D" ? "E" : "D") + SIGN.slice(1);
    expect(verifySignature({ timestamp: TS, sign: flipped, secret: SECRET, now: NOW })).toEqual({ ok: false, reason: "mismatch" });
  });

  it("treats a wrong-length sign as a mismatch without throwing", () => {
    for (const sign of ["x", SIGN.slice(0, -1), SIGN + "A", "短"])
      expect(verifySignature({ timestamp: TS, sign, secret: SECRET, now: NOW })).toEqual({ ok: false, reason: "mismatch" });
  });

  it("reports missing and malformed headers", () => {
    expect(verifySignature({ timestamp: undefined, sign: SIGN, secret: SECRET, now: NOW })).toEqual({ ok: false, reason: "missing" });
    expect(verifySignature({ timestamp: TS, sign: "", secret: SECRET, now: NOW })).toEqual({ ok: false, reason: "missing" });
    expect(verifySignature({ timestamp: TS, sign: null, secret: SECRET, now: NOW })).toEqual({ ok: false, reason: "missing" });
    for (const timestamp of ["1577262236757.0", " 1577262236757", "-1577262236757", "1e12", "abc", "12345678901234567"])
      expect(verifySignature({ timestamp, sign: SIGN, secret: SECRET, now: NOW })).toEqual({ ok: false, reason: "malformed" });
    expect(verifySignature({ timestamp: [TS, TS], sign: SIGN, secret: SECRET, now: NOW })).toEqual({ ok: false, reason: "malformed" });
  });
});
