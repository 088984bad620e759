// The app's DingTalk API rate shared by every FC instance, as DingTalk's throttling guide suggests
// for several servers ("主动分布式限流": a counter per time slot in shared storage; doc "调用频次与限流",
// open.dingtalk.com/document/development/how-to-process-api-throttling-on-the-dingtalk-server).
// Time is cut into 250 ms slots of a fifth of api_qps each: any one-second window, however it lines up
// with DingTalk's, overlaps at most 5 slots, so it holds at most api_qps calls (and 4/5 of it on
// average); each call takes a slot with one conditional ADD.
import { updateHeadroom, type CallPriority, type RateGate, type ReleaseSlot } from "../dingtalk/rate-gate.js";
import { realSleep, type Sleep } from "../retry.js";
import { describeError, silentLogger, type Logger } from "../log.js";
import { compare, missing, or, type ItemTable } from "./items.js";
import type { Table } from "./table.js";

export const SLOT_MS = 250;

/** A call counts in the slot it started in; its end changes nothing. */
const countedBySlot: ReleaseSlot = () => undefined;

export interface TableRateGateOptions {
  /** The app (client id): one budget per app. */
  app: string;
  qps: number;
  now?: () => number;
  sleep?: Sleep;
  log?: Logger;
}

export class TableRateGate implements RateGate {
  readonly perSlot: number;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private readonly log: Logger;
  /** The last slot this instance found full (updates then skip without another write). */
  private fullSlot = -1;
  private readonly items: ItemTable;

  constructor(
    table: Table,
    private readonly opts: TableRateGateOptions,
  ) {
    this.items = table.items();
    this.perSlot = Math.max(1, Math.floor((opts.qps * SLOT_MS) / (1000 + SLOT_MS)));
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? realSleep;
    this.log = opts.log ?? silentLogger;
  }

  async take(priority: CallPriority): Promise<ReleaseSlot | undefined> {
    const limit = priority === "update" ? this.perSlot - updateHeadroom(this.perSlot) : this.perSlot;
    for (;;) {
      const slot = Math.floor(this.now() / SLOT_MS);
      if (!(priority === "update" && slot === this.fullSlot)) {
        let got: boolean;
        try {
          got = await this.claim(slot, limit);
        } catch (err) {
          // Without the table the gate cannot count: replies still go out, intermediate updates do not.
          this.log.warn("dingtalk: API rate slot unavailable", { error: describeError(err) });
          return priority === "final" ? countedBySlot : undefined;
        }
        if (got) return countedBySlot;
        this.fullSlot = slot;
      }
      if (priority === "update") return undefined;
      await this.sleep(Math.max(1, (slot + 1) * SLOT_MS - this.now()) + Math.floor(Math.random() * 20));
    }
  }

  /** One call's share of `slot`, unless `limit` calls already took it. */
  private claim(slot: number, limit: number): Promise<boolean> {
    return this.items.update(
      { pk: `rate#${this.opts.app}#${slot}`, sk: "rate" },
      { add: { calls: 1 }, set: { expiresAt: Math.ceil(((slot + 1) * SLOT_MS) / 1000) + 60 } },
      { if: or(missing("calls"), compare("calls", "<", limit)) },
    );
  }
}
