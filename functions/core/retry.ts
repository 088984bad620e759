// Retries with capped exponential backoff and jitter: the one policy behind DingTalk API calls, the
// gateway's job retries, Stream reconnects, conversation write races and waiting for a new table.

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Backoff {
  /** Delay before the first retry (before jitter); each further retry doubles it. */
  baseMs: number;
  maxMs: number;
  /**
   * "half" (default): uniform in [d/2, d), spread out but never much sooner than planned; "full":
   * uniform in [0, d) (AWS's "full jitter", best for many writers racing on one item); "none": d.
   */
  jitter?: "half" | "full" | "none";
}

/** The delay before retry number `retry` (1 = the first retry): min(maxMs, baseMs·2^(retry−1)), jittered. */
export function backoffDelay(retry: number, b: Backoff, random: () => number = Math.random): number {
  const d = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(retry - 1, 30));
  switch (b.jitter ?? "half") {
    case "none":
      return d;
    case "full":
      return Math.floor(random() * d);
    case "half":
      return Math.round(d * (0.5 + random() / 2));
  }
}

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /** How long to wait before retry number `retry` after `err`. */
  delayMs: (retry: number, err: unknown) => number;
  /** Whether `err` is worth another attempt (default: every error). */
  retryable?: (err: unknown) => boolean;
  /** Called before each wait, e.g. to log the failure. */
  onRetry?: (info: { err: unknown; attempt: number; delayMs: number }) => void;
  sleep?: Sleep;
}

/**
 * Runs `fn` (given the 1-based attempt number) until it resolves, the error is not retryable, or the
 * attempts are used up; then rethrows the last error.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const sleep = opts.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.attempts || (opts.retryable && !opts.retryable(err))) throw err;
      const delayMs = opts.delayMs(attempt, err);
      opts.onRetry?.({ err, attempt, delayMs });
      await sleep(delayMs);
    }
  }
}

export interface PollOptions<T> {
  timeoutMs: number;
  /** Waits between reads (default: 25 ms doubling up to 1 s, no jitter). */
  backoff?: Backoff;
  /** The error to throw once `timeoutMs` has passed, given the last value read. */
  timedOut: (last: T) => Error;
  sleep?: Sleep;
}

const POLL: Backoff = { baseMs: 25, maxMs: 1000, jitter: "none" };

/** Reads again (after `first`) until `done` holds, backing off between reads; throws `timedOut` past the deadline. */
export async function pollUntil<T, D extends T>(first: T, read: () => Promise<T>, done: (value: T) => value is D, opts: PollOptions<T>): Promise<D> {
  const sleep = opts.sleep ?? realSleep;
  const deadline = Date.now() + opts.timeoutMs;
  let value = first;
  for (let poll = 1; !done(value); poll++) {
    if (Date.now() >= deadline) throw opts.timedOut(value);
    await sleep(backoffDelay(poll, opts.backoff ?? POLL));
    value = await read();
  }
  return value;
}
