// The playground's event log for the page: numbered events in a bounded buffer, long-polled with
// `wait(after)`. An event published with a key replaces the older one with that key in place (a
// card's or a trace's latest state is all a page needs), so a reloaded page replays a compact history
// in the order things first appeared.
import { randomUUID } from "node:crypto";
import type { PlaygroundEvent, PlaygroundEventBody } from "./protocol.js";

interface Stored {
  event: PlaygroundEvent;
  key: string | undefined;
}

export class EventHub {
  /** Identifies this run: a page polling with numbers from an earlier run must start over. */
  readonly epoch = randomUUID();
  private readonly buffer: Stored[] = [];
  private seq = 0;
  private readonly waiters = new Set<() => void>();
  private isClosed = false;

  constructor(
    private readonly opts: { max?: number; now?: () => number } = {},
  ) {}

  get last(): number {
    return this.seq;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  publish(body: PlaygroundEventBody, key?: string): PlaygroundEvent {
    const event: PlaygroundEvent = { ...body, seq: ++this.seq, at: (this.opts.now ?? Date.now)() };
    const i = key === undefined ? -1 : this.buffer.findIndex((s) => s.key === key);
    if (i >= 0) this.buffer[i] = { event, key };
    else this.buffer.push({ event, key });
    const max = this.opts.max ?? 2000;
    if (this.buffer.length > max) this.buffer.splice(0, this.buffer.length - max);
    for (const wake of [...this.waiters]) wake();
    return event;
  }

  since(after: number): PlaygroundEvent[] {
    return this.buffer.filter((s) => s.event.seq > after).map((s) => s.event);
  }

  /** Events after `after`; when there are none yet, waits up to `timeoutMs` for some (or for close). */
  wait(after: number, timeoutMs: number): Promise<PlaygroundEvent[]> {
    const ready = this.since(after);
    if (ready.length > 0 || this.isClosed || timeoutMs <= 0) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(this.since(after));
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** Answers every waiting poll now; later polls return at once. */
  close(): void {
    this.isClosed = true;
    for (const wake of [...this.waiters]) wake();
  }
}
