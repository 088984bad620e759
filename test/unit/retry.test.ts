// The one retry/backoff helper: delays double up to the cap with the chosen jitter; retry() stops on
// success, on a non-retryable error and after the last attempt, and waits the planned delay between.
import { describe, expect, it } from "vitest";
import { backoffDelay, pollUntil, retry } from "../../functions/core/retry.js";

describe("backoffDelay", () => {
  it("doubles from the base up to the cap", () => {
    const b = { baseMs: 100, maxMs: 1000, jitter: "none" as const };
    expect([1, 2, 3, 4, 5, 6, 100].map((n) => backoffDelay(n, b))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it("jitters: half keeps [d/2, d), full spans [0, d)", () => {
    const b = { baseMs: 100, maxMs: 1000 };
    expect(backoffDelay(3, b, () => 0)).toBe(200);
    expect(backoffDelay(3, b, () => 0.999)).toBe(400);
    expect(backoffDelay(3, { ...b, jitter: "full" }, () => 0)).toBe(0);
    expect(backoffDelay(3, { ...b, jitter: "full" }, () => 0.5)).toBe(200);
  });
});

describe("retry", () => {
  const noSleep = { sleep: () => Promise.resolve() };

  it("returns the first success, passing the attempt number", async () => {
    const seen: number[] = [];
    const value = await retry(
      (attempt) => {
        seen.push(attempt);
        return attempt < 3 ? Promise.reject(new Error(`fail ${attempt}`)) : Promise.resolve("ok");
      },
      { attempts: 5, delayMs: () => 0, ...noSleep },
    );
    expect(value).toBe("ok");
    expect(seen).toEqual([1, 2, 3]);
  });

  it("rethrows the last error after the last attempt, waiting the planned delays in between", async () => {
    const waits: number[] = [];
    const retries: number[] = [];
    const run = retry(
      (attempt) => Promise.reject(new Error(`fail ${attempt}`)),
      {
        attempts: 3,
        delayMs: (n) => n * 10,
        onRetry: ({ attempt, delayMs }) => retries.push(attempt, delayMs),
        sleep: (ms) => {
          waits.push(ms);
          return Promise.resolve();
        },
      },
    );
    await expect(run).rejects.toThrow("fail 3");
    expect(waits).toEqual([10, 20]);
    expect(retries).toEqual([1, 10, 2, 20]);
  });

  it("stops at once on an error that is not retryable", async () => {
    let calls = 0;
    const run = retry(
      () => {
        calls++;
        return Promise.reject(new TypeError("bad request"));
      },
      { attempts: 5, retryable: (err) => !(err instanceof TypeError), delayMs: () => 0, ...noSleep },
    );
    await expect(run).rejects.toThrow(TypeError);
    expect(calls).toBe(1);
  });
});

describe("pollUntil", () => {
  const isReady = (s: string | undefined): s is string => s === "ready";

  it("reads again, waiting 25, 50, 100 … ms, until the value is done", async () => {
    const values = ["creating", "creating", "ready"];
    const waits: number[] = [];
    const value = await pollUntil(undefined, () => Promise.resolve(values.shift()), isReady, {
      timeoutMs: 60_000,
      timedOut: () => new Error("late"),
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    expect(value).toBe("ready");
    expect(waits).toEqual([25, 50, 100]);
  });

  it("returns a first value that is already done without reading, and throws timedOut past the deadline", async () => {
    let reads = 0;
    const read = () => {
      reads++;
      return Promise.resolve("creating");
    };
    expect(await pollUntil("ready", read, isReady, { timeoutMs: 0, timedOut: () => new Error("late") })).toBe("ready");
    expect(reads).toBe(0);
    await expect(pollUntil("creating", read, isReady, { timeoutMs: 0, timedOut: (last) => new Error(`still ${last}`) })).rejects.toThrow("still creating");
  });
});
