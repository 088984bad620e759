// What claim-before-ACK costs in Stream mode: the time from a robot frame to the gateway's decision to
// ACK it (parse, claim, dispatch: core/stream-frame.ts) against one raw conditional put of the claim
// item through the same table client, alternated one at a time (hosts/stream-ack.ts). On the bench's
// dynalite process and on the gateway's default embedded store.
import { hostFile } from "../lib/paths.js";
import { HostProc } from "../lib/procs.js";
import { round, spread, type Spread } from "../lib/stats.js";
import type { StepContext } from "./context.js";

export interface AckFigures {
  frames: number;
  /** Frame in → ACK decision. */
  ackMs: Spread;
  /** One conditional put of the claim item, same client. */
  putMs: Spread;
}

export interface StreamAckFigures {
  remote: AckFigures;
  embedded: AckFigures;
}

async function once(ctx: StepContext, name: string, env: Record<string, string>, count: number): Promise<AckFigures> {
  const host = HostProc.start(name, hostFile("stream-ack"), { env });
  try {
    await host.ready;
    const d = await host.run({ count });
    const figures = { frames: count, ackMs: spread(d.ack as number[], 3), putMs: spread(d.put as number[], 3) };
    ctx.progress(`  ${name}: frame → ACK p50 ${figures.ackMs.p50} ms, one raw put p50 ${figures.putMs.p50} ms (${round(figures.ackMs.p50 / figures.putMs.p50, 2)}×)`);
    return figures;
  } finally {
    await host.stop();
  }
}

export async function benchStreamAck(ctx: StepContext, count: number): Promise<StreamAckFigures> {
  ctx.progress(`stream ACK: ${count} frames through core/stream-frame.ts, each next to one raw conditional put of the same item (same client), one at a time`);
  const remote = await once(ctx, "stream-ack (dynalite process)", ctx.tableEnv, count);
  const embedded = await once(ctx, "stream-ack (embedded store)", { DINGCLAW_TABLE_NAME: "dingclaw" }, count);
  return { remote, embedded };
}
