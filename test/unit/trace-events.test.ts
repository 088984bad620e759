// The core's trace event channel: subscribers get every event until they unsubscribe, a throwing
// subscriber never reaches the emitter, and the core emits where a message's way is decided.
import { afterEach, describe, expect, it } from "vitest";
import { handleCallback } from "../../functions/core/http-callback.js";
import { silentLogger } from "../../functions/core/log.js";
import { emitTrace, subscribeTrace, type TraceEvent } from "../../functions/core/trace-events.js";

const stops: (() => void)[] = [];
afterEach(() => stops.splice(0).forEach((stop) => stop()));

function listen(): TraceEvent[] {
  const seen: TraceEvent[] = [];
  stops.push(subscribeTrace((e) => seen.push(e)));
  return seen;
}

describe("trace events", () => {
  it("reach every subscriber until it unsubscribes", () => {
    const a = listen();
    const b: TraceEvent[] = [];
    const stopB = subscribeTrace((e) => b.push(e));
    emitTrace({ type: "job.failed", requestId: "r1", attempts: 4, error: "boom" });
    stopB();
    emitTrace({ type: "callback.rejected", requestId: "r2", reason: "mismatch" });
    expect(a.map((e) => e.type)).toEqual(["job.failed", "callback.rejected"]);
    expect(b.map((e) => e.type)).toEqual(["job.failed"]);
  });

  it("a throwing subscriber neither stops the emitter nor the other subscribers", () => {
    stops.push(
      subscribeTrace(() => {
        throw new Error("observer bug");
      }),
    );
    const seen = listen();
    expect(() => emitTrace({ type: "callback.rejected", reason: "expired" })).not.toThrow();
    expect(seen).toHaveLength(1);
  });

  it("the HTTP callback emits callback.rejected for a bad signature, with the request it belongs to", async () => {
    const seen = listen();
    const res = await handleCallback(
      { method: "POST", headers: { timestamp: String(Date.now()), sign: "bad" }, body: Buffer.from("{}"), requestId: "req-7" },
      {
        secret: "s3cret-value",
        now: () => Date.now(),
        log: silentLogger,
        robotCode: "robot",
        idempotency: { claim: () => Promise.reject(new Error("not reached")), release: () => Promise.resolve() },
        dispatch: () => Promise.reject(new Error("not reached")),
      },
    );
    expect(res.status).toBe(401);
    expect(seen).toEqual([{ type: "callback.rejected", requestId: "req-7", reason: expect.any(String) as string }]);
  });
});
