// The gateway's in-process dispatcher: with `openingConcurrency`, only that many attempts are in their
// opening stretch at once (until `leave()`, their end or `openingMaxMs`); the next waiting job starts
// as a place is handed on, a failed attempt gives its place back and its retry queues again; without
// it, every job starts at once.
import { describe, expect, it, vi } from "vitest";
import { LocalDispatcher, type Opening } from "../../functions/core/local-dispatch.js";
import { silentLogger } from "../../functions/core/log.js";

interface Running {
  opening: Opening;
  finish(): void;
  fail(err: Error): void;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function recorder() {
  const started: string[] = [];
  const running = new Map<string, Running>();
  const run = (job: { requestId?: string }, opening: Opening) =>
    new Promise<void>((resolve, reject) => {
      const id = job.requestId!;
      started.push(id);
      running.set(id, { opening, finish: resolve, fail: reject });
    });
  return { started, running, run };
}

const noWait = { backoffMs: () => 0, sleep: () => Promise.resolve() };

describe("LocalDispatcher opening stretch", () => {
  it("starts at most openingConcurrency jobs until one leaves its opening or ends", async () => {
    const r = recorder();
    const d = new LocalDispatcher<{ requestId?: string }>({ run: r.run, log: silentLogger, openingConcurrency: 2, openingMaxMs: 600_000, ...noWait });
    for (const id of ["a", "b", "c", "d", "e"]) await d.dispatch({ requestId: id });
    await settle();
    expect(r.started).toEqual(["a", "b"]);

    r.running.get("a")!.opening.leave();
    await settle();
    expect(r.started).toEqual(["a", "b", "c"]);

    r.running.get("a")!.opening.leave();
    r.running.get("a")!.finish();
    await settle();
    expect(r.started).toEqual(["a", "b", "c"]);

    r.running.get("b")!.finish();
    await settle();
    expect(r.started).toEqual(["a", "b", "c", "d"]);
    expect(d.pending).toBe(3);

    r.running.get("c")!.fail(new Error("table down"));
    await settle();
    expect(r.started).toEqual(["a", "b", "c", "d", "e"]);

    r.running.get("d")!.opening.leave();
    await settle();
    expect(r.started).toEqual(["a", "b", "c", "d", "e", "c"]);

    for (const id of ["c", "d", "e"]) r.running.get(id)!.finish();
    await d.idle();
    expect(d.pending).toBe(0);
  });

  it("without openingConcurrency every job starts at once", async () => {
    const r = recorder();
    const d = new LocalDispatcher<{ requestId?: string }>({ run: r.run, log: silentLogger, ...noWait });
    for (const id of ["a", "b", "c", "d", "e"]) await d.dispatch({ requestId: id });
    await settle();
    expect(r.started).toEqual(["a", "b", "c", "d", "e"]);
    for (const job of r.running.values()) job.finish();
    await d.idle();
  });
});

describe("LocalDispatcher opening stretch, time limit", () => {
  it("hands a place on after openingMaxMs when the attempt has not left by then", async () => {
    vi.useFakeTimers();
    try {
      const r = recorder();
      const d = new LocalDispatcher<{ requestId?: string }>({ run: r.run, log: silentLogger, openingConcurrency: 1, openingMaxMs: 250, ...noWait });
      for (const id of ["a", "b", "c"]) await d.dispatch({ requestId: id });
      await vi.advanceTimersByTimeAsync(249);
      expect(r.started).toEqual(["a"]);
      await vi.advanceTimersByTimeAsync(1);
      expect(r.started).toEqual(["a", "b"]);
      r.running.get("b")!.opening.leave();
      await vi.advanceTimersByTimeAsync(0);
      expect(r.started).toEqual(["a", "b", "c"]);
      r.running.get("a")!.opening.leave();
      for (const job of r.running.values()) job.finish();
      await d.idle();
      expect(d.pending).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
