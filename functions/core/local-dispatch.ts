// An in-process stand-in for FC's async invocation, used by the gateway for message jobs and firings:
// jobs are queued and acknowledged at once, run with bounded concurrency (optionally fewer at once in
// their opening stretch), and retried with backoff when they throw.
import type { Job } from "./job.js";
import { describeError, type Logger } from "./log.js";
import { backoffDelay, realSleep, retry, type Sleep } from "./retry.js";
import { emitTrace } from "./trace-events.js";

/** Handed to each run: `leave()` ends the job's opening stretch (see `openingConcurrency`); idempotent. */
export interface Opening {
  leave(): void;
}

export interface LocalDispatcherOptions<J extends QueuedJob = Job> {
  run: (job: J, opening: Opening) => Promise<unknown>;
  log: Logger;
  /** Jobs running at once (LLM calls mostly wait, so this can be high). */
  concurrency?: number;
  /**
   * Jobs at once in their opening stretch: from the start of an attempt until it calls
   * `opening.leave()` (or ends). Default: no limit beyond `concurrency`. With a limit, a burst takes
   * a few jobs through their start before beginning the next ones, instead of advancing every job one
   * step at a time so that all of them reach the end of their start together.
   */
  openingConcurrency?: number;
  /**
   * Longest an attempt keeps its place in the opening stretch (default 250 ms), so that one waiting on
   * something slow before its `leave()` (a media download) does not hold back the jobs behind it.
   */
  openingMaxMs?: number;
  /** Retries after the first attempt, like FC's maxAsyncRetryAttempts. */
  retries?: number;
  /** Jobs waiting beyond this are refused (the caller answers 503 and DingTalk retries). */
  maxQueued?: number;
  /** Delay before retry number `retry` (default: 0.5 s doubling up to 30 s, jittered). */
  backoffMs?: (retry: number) => number;
  sleep?: Sleep;
}

export class QueueFullError extends Error {
  constructor() {
    super("dispatch queue is full");
    this.name = "QueueFullError";
  }
}

/** What the dispatcher queues: message jobs, or firings (proactive/firing.ts). */
export interface QueuedJob {
  requestId?: string | undefined;
}

export class LocalDispatcher<J extends QueuedJob = Job> {
  private readonly queue: J[] = [];
  private running = 0;
  private opening = 0;
  private readonly openingWaiters: (() => void)[] = [];
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly opts: Required<Omit<LocalDispatcherOptions<J>, "run" | "log">> & Pick<LocalDispatcherOptions<J>, "run" | "log">;

  constructor(options: LocalDispatcherOptions<J>) {
    this.opts = {
      concurrency: 100,
      openingConcurrency: Infinity,
      openingMaxMs: 250,
      retries: 3,
      maxQueued: 2000,
      backoffMs: (n) => backoffDelay(n, { baseMs: 500, maxMs: 30_000 }),
      sleep: realSleep,
      ...options,
    };
  }

  readonly dispatch = (job: J): Promise<void> => {
    if (this.closed) return Promise.reject(new Error("dispatcher is shutting down"));
    if (this.queue.length >= this.opts.maxQueued) return Promise.reject(new QueueFullError());
    this.queue.push(job);
    this.pump();
    return Promise.resolve();
  };

  get pending(): number {
    return this.queue.length + this.running;
  }

  /** Stops accepting jobs; resolves true when everything queued has finished, false on timeout. */
  async close(timeoutMs: number): Promise<boolean> {
    this.closed = true;
    if (this.pending === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const done = await Promise.race([this.idle().then(() => true), timeout]);
    clearTimeout(timer);
    return done;
  }

  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.opts.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      void this.runWithRetries(job).finally(() => {
        this.running--;
        this.pump();
        if (this.pending === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }
  }

  /** One attempt: waits for a place in the opening stretch (at once when one is free), then runs. */
  private attempt(job: J): Promise<unknown> {
    if (this.opening < this.opts.openingConcurrency) {
      this.opening++;
      return this.runOpened(job);
    }
    return new Promise<void>((resolve) => this.openingWaiters.push(resolve)).then(() => this.runOpened(job));
  }

  /** Runs with a place in the opening stretch, handed on (or given back) at `leave()`, the end or `openingMaxMs`. */
  private async runOpened(job: J): Promise<unknown> {
    let left = false;
    let timer: NodeJS.Timeout | undefined;
    const opening: Opening = {
      leave: () => {
        if (left) return;
        left = true;
        clearTimeout(timer);
        const next = this.openingWaiters.shift();
        if (next) next();
        else this.opening--;
      },
    };
    if (this.opts.openingConcurrency !== Infinity) timer = setTimeout(() => opening.leave(), this.opts.openingMaxMs).unref();
    try {
      return await this.opts.run(job, opening);
    } finally {
      opening.leave();
    }
  }

  private async runWithRetries(job: J): Promise<void> {
    const { log, retries } = this.opts;
    try {
      await retry(() => this.attempt(job), {
        attempts: retries + 1,
        delayMs: (n) => this.opts.backoffMs(n),
        onRetry: ({ err, attempt }) => log.warn("job failed, will retry", { requestId: job.requestId, attempt, error: describeError(err) }),
        sleep: this.opts.sleep,
      });
    } catch (err) {
      log.error("job failed after all retries", { requestId: job.requestId, attempt: retries + 1, error: describeError(err) });
      emitTrace({ type: "job.failed", requestId: job.requestId, attempts: retries + 1, error: describeError(err).message });
    }
  }
}
