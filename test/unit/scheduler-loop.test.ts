// The gateway's scheduler loop on fake timers: a tick at start, then one every interval after the last
// one ended (never two at once), a failing tick logged and the loop going on, nothing after stop.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../functions/core/log.js";
import { SchedulerLoop } from "../../functions/core/proactive/scheduler.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("SchedulerLoop", () => {
  it("ticks at start and every interval, one at a time, and stops", async () => {
    const lines: string[] = [];
    const seen: number[] = [];
    let release: (() => void) | undefined;
    let fail = false;
    const loop = new SchedulerLoop({
      intervalMs: 10_000,
      now: () => Date.now(),
      log: createLogger({ write: (l) => lines.push(l) }),
      tick: (now) => {
        seen.push(now);
        if (fail) return Promise.reject(new Error("table down"));
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    loop.start();
    expect(seen).toHaveLength(1);
    // A slow tick: no second one starts while it runs.
    await vi.advanceTimersByTimeAsync(30_000);
    expect(seen).toHaveLength(1);
    release!();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toHaveLength(2);

    fail = true;
    release!();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(seen).toHaveLength(3);
    expect(lines.some((l) => l.includes("scheduler: tick failed") && l.includes("table down"))).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(seen).toHaveLength(4);

    await loop.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(seen).toHaveLength(4);
  });
});
