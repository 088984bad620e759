// FC's async invocation queue in miniature: each accepted event runs in the background, failed
// runs are retried up to the function's maxAsyncRetryAttempts with exponential backoff, and events
// older than maxAsyncEventAgeInSeconds are dropped. Every event is recorded for tests.

export type AsyncOutcome = "pending" | "succeeded" | "failed" | "expired" | "aborted";

export interface AsyncInvocationRecord {
  requestId: string;
  serviceName: string;
  functionName: string;
  qualifier: string;
  payload: Buffer;
  /** double clock (ms) when the event was accepted */
  enqueuedAt: number;
  /** runs started so far (1 = no retry yet) */
  attempts: number;
  outcome: AsyncOutcome;
  /** one message per failed run */
  errors: string[];
  /** the successful run's result */
  result?: Buffer;
  finishedAt?: number;
}

export type RunResult = { ok: true; body: Buffer } | { ok: false; message: string };

export interface AsyncQueueOptions {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** delay before retry number `retry` (1-based) */
  retryDelayMs: (retry: number) => number;
  limits: (record: AsyncInvocationRecord) => { maxRetries: number; maxAgeMs: number };
  run: (record: AsyncInvocationRecord) => Promise<RunResult>;
}

export class AsyncQueue {
  readonly records: AsyncInvocationRecord[] = [];
  private active = 0;
  private closed = false;
  private waiters: (() => void)[] = [];

  constructor(private readonly opts: AsyncQueueOptions) {}

  enqueue(event: Pick<AsyncInvocationRecord, "requestId" | "serviceName" | "functionName" | "qualifier" | "payload">): AsyncInvocationRecord {
    const record: AsyncInvocationRecord = {
      ...event,
      enqueuedAt: this.opts.now(),
      attempts: 0,
      outcome: "pending",
      errors: [],
    };
    this.records.push(record);
    this.active++;
    setImmediate(() => {
      this.process(record)
        .catch((err: unknown) => {
          record.outcome = "failed";
          record.errors.push(`queue error: ${err instanceof Error ? err.message : String(err)}`);
        })
        .finally(() => this.settle(record));
    });
    return record;
  }

  /** Resolves when no event is pending (immediately when the queue is empty). */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops retrying; pending events end as "aborted" after their current run. */
  close(): Promise<void> {
    this.closed = true;
    return this.idle();
  }

  private settle(record: AsyncInvocationRecord): void {
    record.finishedAt = this.opts.now();
    this.active--;
    if (this.active === 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
  }

  private async process(record: AsyncInvocationRecord): Promise<void> {
    for (;;) {
      if (this.closed) {
        record.outcome = "aborted";
        return;
      }
      const { maxRetries, maxAgeMs } = this.opts.limits(record);
      if (this.opts.now() - record.enqueuedAt > maxAgeMs) {
        record.outcome = "expired";
        return;
      }
      record.attempts++;
      const result = await this.opts.run(record);
      if (result.ok) {
        record.outcome = "succeeded";
        record.result = result.body;
        return;
      }
      record.errors.push(result.message);
      const retriesDone = record.attempts - 1;
      if (retriesDone >= maxRetries) {
        record.outcome = "failed";
        return;
      }
      await this.opts.sleep(this.opts.retryDelayMs(retriesDone + 1));
    }
  }
}
