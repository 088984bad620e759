// The scheduler: one `tick(now)` finds what is due — reminders' firings by a Query per 10-minute bucket
// from the cursor on, and each configured schedule's latest occurrence newer than its last finished
// run — claims each occurrence with a conditional write (two schedulers, or a retried one, never send
// twice) and hands each claimed one to `dispatch` (FC: an async worker invoke; the gateway: in-process).
// `SchedulerLoop` runs ticks in a long-lived host (the gateway) every few seconds.
import { randomUUID } from "node:crypto";
import { describeError, type Logger } from "../log.js";
import { BUCKET_MS, bucketOf, type DueIndex } from "../store/due.js";
import type { IdempotencyStore } from "../store/idempotency.js";
import type { ScheduleRuns } from "../store/schedule-runs.js";
import type { ScheduleConfig } from "./config.js";
import { firingKey, MAX_LATE_MS, type Firing, type FiringJob } from "./firing.js";
import { CronSchedule } from "./time.js";

/** Buckets one tick reads from the cursor on (a run after days of downtime catches up over several ticks). */
const MAX_BUCKETS_PER_TICK = 200;
/** The cursor stays this far behind now, so an entry written by a host whose clock is a little behind is not passed over. */
const CURSOR_LAG_MS = 60_000;
/** A schedule seen for the first time counts occurrences from this long ago (so one that just came due is not lost, and older ones are not sent). */
const FIRST_SIGHT_MS = 120_000;
/** Claims and dispatches at once. */
const PARALLEL = 8;

export interface SchedulerDeps {
  due: DueIndex;
  runs: ScheduleRuns;
  /** Claims of firings (prefix "fire"). */
  claims: IdempotencyStore;
  schedules: readonly ScheduleConfig[];
  dispatch: (job: FiringJob) => Promise<void>;
  log: Logger;
}

export interface TickResult {
  /** Occurrences claimed and handed to dispatch. */
  dispatched: number;
  /** Due but claimed by another run (being sent, or waiting to be tried again). */
  busy: number;
  /** Due entries whose firing had already finished (removed). */
  stale: number;
  /** Dispatches that failed (the claim's lease runs out and a later tick tries again). */
  failed: number;
}

export async function tick(deps: SchedulerDeps, now: number, requestId?: string): Promise<TickResult> {
  const result: TickResult = { dispatched: 0, busy: 0, stale: 0, failed: 0 };
  const firings: { firing: Firing; done?: () => Promise<void> }[] = [];

  // Reminders: the buckets from the cursor on (at most MAX_BUCKETS_PER_TICK), and always the last 24 h,
  // so after long downtime what can still be sent goes out on the next run.
  const current = bucketOf(now);
  // No cursor yet: no reminder was ever set (the first one puts it).
  const start = (await deps.due.cursor()) ?? current - BUCKET_MS;
  const catchUpEnd = Math.min(current, start + (MAX_BUCKETS_PER_TICK - 1) * BUCKET_MS);
  const recentStart = Math.max(start, bucketOf(now - MAX_LATE_MS) - BUCKET_MS);
  const buckets = new Set<number>();
  for (let b = start; b <= catchUpEnd; b += BUCKET_MS) buckets.add(b);
  for (let b = recentStart; b <= current; b += BUCKET_MS) buckets.add(b);
  let earliestBusy: number | undefined;
  for (const bucket of [...buckets].sort((a, b) => a - b)) {
    const entries = await deps.due.dueIn(bucket, now);
    if (entries.length > 0 && earliestBusy === undefined) earliestBusy = bucket;
    for (const e of entries) firings.push({ firing: { type: "reminder", owner: e.owner, id: e.id, dueAt: e.dueAt }, done: () => deps.due.remove(e) });
  }

  // Schedules: the latest occurrence, when newer than the last finished one.
  if (deps.schedules.length > 0) {
    const runs = await deps.runs.all();
    for (const s of deps.schedules) {
      const latest = new CronSchedule(s.cron, s.timezone).latest(now);
      const run = runs.get(s.name);
      if (!run) {
        await deps.runs.finish(s.name, now - FIRST_SIGHT_MS);
        if (latest === undefined || latest <= now - FIRST_SIGHT_MS) continue;
      } else if (latest === undefined || latest <= run.done) continue;
      if (now - latest > MAX_LATE_MS) {
        await deps.runs.finish(s.name, latest, "missed: more than 24 h late");
        continue;
      }
      firings.push({ firing: { type: "schedule", name: s.name, occurrence: latest }, done: () => deps.runs.finish(s.name, latest) });
    }
  }

  await inParallel(firings, PARALLEL, async ({ firing, done }) => {
    const key = firingKey(firing);
    const claim = await deps.claims.claim(key);
    if (claim.status === "completed") {
      result.stale++;
      await done?.();
      return;
    }
    if (claim.status === "in_progress") {
      result.busy++;
      return;
    }
    try {
      await deps.dispatch({ v: 1, kind: "firing", firing, claim: { key, token: claim.token }, firedAt: now, requestId: requestId ?? randomUUID() });
      result.dispatched++;
    } catch (err) {
      result.failed++;
      deps.log.warn("scheduler: dispatch failed; the next run tries again", { firing: key, error: describeError(err) });
    }
  });

  // Past buckets with nothing left in them need not be read again (a gap not read yet stays ahead).
  const readUpTo = catchUpEnd + BUCKET_MS < recentStart ? catchUpEnd + BUCKET_MS : bucketOf(now - CURSOR_LAG_MS);
  const next = Math.min(earliestBusy ?? readUpTo, readUpTo);
  if (next > start) await deps.due.advance(next);
  if (result.dispatched + result.busy + result.failed > 0) deps.log.info("scheduler: tick", { ...result });
  return result;
}

async function inParallel<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface SchedulerLoopOptions {
  tick: (now: number) => Promise<unknown>;
  /** Between the end of one tick and the start of the next; at most 10 s (issue 13). */
  intervalMs: number;
  now: () => number;
  log: Logger;
}

/** Ticks every `intervalMs` in a long-lived host, one tick at a time, starting at once. */
export class SchedulerLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: SchedulerLoopOptions) {}

  start(): void {
    this.stopped = false;
    void this.runNow();
  }

  /** Runs a tick now (or waits for the one running) and schedules the next. */
  runNow(): Promise<void> {
    this.running ??= this.opts
      .tick(this.opts.now())
      .then(
        () => undefined,
        (err: unknown) => this.opts.log.warn("scheduler: tick failed", { error: describeError(err) }),
      )
      .finally(() => {
        this.running = undefined;
        clearTimeout(this.timer);
        if (!this.stopped) this.timer = setTimeout(() => void this.runNow(), this.opts.intervalMs).unref();
      });
    return this.running;
  }

  /** Stops ticking; resolves once a tick in progress has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
