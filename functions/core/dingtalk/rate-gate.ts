// The app's DingTalk API rate (channels.dingtalk.api_qps): every OpenAPI call takes a slot first.
// Calls that deliver something the user must get ("final": a reply part, a card's creation or its
// final text) wait their turn and are never dropped; intermediate AI-card updates take a slot only
// when one is free now, leaving headroom for finals, and are skipped otherwise (the card streamer
// sends the latest text on its next update). DingTalk limits a standard org's app to 20 calls per
// second per API ("调用频次与限流", open.dingtalk.com/document/development/how-to-process-api-throttling-on-the-dingtalk-server).
import { realSleep, type Sleep } from "../retry.js";

export type CallPriority = "final" | "update";

export interface RateGate {
  /** Resolves true once the call may go; false only for an "update" that should be skipped. */
  take(priority: CallPriority): Promise<boolean>;
}

/** Slots per window held back from intermediate updates (at least one). */
export function updateHeadroom(perWindow: number): number {
  return Math.max(1, Math.floor(perWindow / 5));
}

export interface LocalRateGateOptions {
  /** Calls per second for the whole process. */
  qps: number;
  now?: () => number;
  sleep?: Sleep;
}

/**
 * One process's gate: at most `qps` calls in any sliding second. Finals queue in order; updates go
 * only while more than the headroom is free and no final is waiting.
 */
export class LocalRateGate implements RateGate {
  private readonly starts: number[] = [];
  private waiting = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly sleep: Sleep;

  constructor(private readonly opts: LocalRateGateOptions) {
    if (!(opts.qps >= 1)) throw new RangeError("api_qps must be at least 1");
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? realSleep;
  }

  async take(priority: CallPriority): Promise<boolean> {
    if (priority === "update") {
      this.forget();
      if (this.waiting > 0 || this.starts.length >= this.opts.qps - updateHeadroom(this.opts.qps)) return false;
      this.starts.push(this.now());
      return true;
    }
    this.waiting++;
    const turn = this.queue.then(() => this.slot());
    this.queue = turn;
    try {
      await turn;
      return true;
    } finally {
      this.waiting--;
    }
  }

  /** Waits until the sliding second has room, then takes it (one final at a time, in order). */
  private async slot(): Promise<void> {
    for (;;) {
      this.forget();
      if (this.starts.length < this.opts.qps) {
        this.starts.push(this.now());
        return;
      }
      await this.sleep(Math.max(1, this.starts[0]! + 1000 - this.now()));
    }
  }

  private forget(): void {
    const since = this.now() - 1000;
    while (this.starts.length > 0 && this.starts[0]! <= since) this.starts.shift();
  }
}
