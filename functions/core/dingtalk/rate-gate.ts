// The app's DingTalk API rate (channels.dingtalk.api_qps): every OpenAPI call takes a slot first.
// Calls that deliver something the user must get ("final": a reply part, a card's creation or its
// final text) wait their turn and are never dropped; intermediate AI-card updates take a slot only
// when one is free now, leaving headroom for finals, and are skipped otherwise (the card streamer
// sends the latest text on its next update). DingTalk limits a standard org's app to 20 calls per
// second per API ("调用频次与限流", open.dingtalk.com/document/development/how-to-process-api-throttling-on-the-dingtalk-server).
import { realSleep, type Sleep } from "../retry.js";

export type CallPriority = "final" | "update";

/** Called once the call's answer is in (or it failed): the call stops counting one second later. */
export type ReleaseSlot = () => void;

export interface RateGate {
  /** Resolves once the call may go; undefined only for an "update" that should be skipped. */
  take(priority: CallPriority): Promise<ReleaseSlot | undefined>;
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
 * One process's gate: a call counts from its start until one second after its answer. DingTalk sees
 * a call somewhere between the two, so however late a loaded machine or the network delivers it, no
 * second at DingTalk holds more than `qps` of them. Finals queue in order; updates go only while more
 * than the headroom is free and no final is waiting.
 */
export class LocalRateGate implements RateGate {
  private inFlight = 0;
  /** When the calls of the last second ended, oldest first. */
  private readonly ended: number[] = [];
  private waiting = 0;
  private queue: Promise<void> = Promise.resolve();
  private released: (() => void)[] = [];
  private readonly now: () => number;
  private readonly sleep: Sleep;

  constructor(private readonly opts: LocalRateGateOptions) {
    if (!(opts.qps >= 1)) throw new RangeError("api_qps must be at least 1");
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? realSleep;
  }

  async take(priority: CallPriority): Promise<ReleaseSlot | undefined> {
    if (priority === "update") {
      if (this.waiting > 0 || this.used() >= this.opts.qps - updateHeadroom(this.opts.qps)) return undefined;
      return this.hold();
    }
    this.waiting++;
    const turn = this.queue.then(() => this.slot());
    this.queue = turn.then(() => undefined);
    try {
      return await turn;
    } finally {
      this.waiting--;
    }
  }

  /** Waits until the last second has room, then takes it (one final at a time, in order). */
  private async slot(): Promise<ReleaseSlot> {
    while (this.used() >= this.opts.qps) {
      if (this.ended.length > 0) await this.sleep(Math.max(1, this.ended[0]! + 1000 - this.now()));
      else await new Promise<void>((resolve) => this.released.push(resolve));
    }
    return this.hold();
  }

  private hold(): ReleaseSlot {
    this.inFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight--;
      this.ended.push(this.now());
      const waiters = this.released;
      this.released = [];
      for (const wake of waiters) wake();
    };
  }

  private used(): number {
    const since = this.now() - 1000;
    while (this.ended.length > 0 && this.ended[0]! <= since) this.ended.shift();
    return this.inFlight + this.ended.length;
  }
}
