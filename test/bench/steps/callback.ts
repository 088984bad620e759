// Callback cost and throughput on loopback: the real callback bundle (dist/callback.cjs under plain
// node, FC 2.0 adapter) against (a) the bare HMAC+JSON floor server for CPU time per request, and
// (b) raw conditional PutItems of the same client to the same dynalite for throughput and latency.
import path from "node:path";
import { callbackBody, signedHeaders } from "../../helpers/messages.js";
import { fire, type LoadResult } from "../lib/load.js";
import { hostFile, DIST } from "../lib/paths.js";
import { HostProc, cpuUs } from "../lib/procs.js";
import { startRecorder } from "../lib/recorder.js";
import { opCounts, opsPer, type OpCounts } from "../lib/table-ops.js";
import { spread, round, type Spread } from "../lib/stats.js";
import { CLIENT_ID, CLIENT_SECRET } from "../lib/world.js";
import { FC_CONTEXT, type StepContext } from "./context.js";

export interface CallbackOptions {
  requests: number;
  warmup: number;
  connections: number;
  /** Sequential requests for the unloaded latency. */
  sequential: number;
}

export interface HttpRun {
  requests: number;
  ok: number;
  rps: number;
  latencyMs: Spread;
  /** This process's CPU time per request, µs (process.cpuUsage inside it). */
  cpuUsPerRequest: number;
  /** dynalite's CPU per request, µs, and the table requests per request (by action). */
  tableCpuUsPerRequest: number;
  tableOps: OpCounts;
  /** Handler time per request and instance-busy time (for FC billing), ms. */
  handlerMsPerRequest: number;
  busyMs: number;
  truncated: boolean;
  statuses: Record<string, number>;
}

export interface CallbackFigures {
  options: CallbackOptions;
  dispatcher: string;
  floor: HttpRun;
  callback: HttpRun;
  floorSequential: HttpRun;
  callbackSequential: HttpRun;
  putItem: { writes: number; errors: number; rps: number; latencyMs: Spread; cpuUsPerWrite: number; tableCpuUsPerWrite: number };
  dispatched: { jobs: number; distinctMsgIds: number; malformed: number; fcConnections: number };
}

let seq = 0;
const RUN = Date.now().toString(36);

function nextBody(): string {
  seq++;
  return JSON.stringify(
    callbackBody({ robotCode: CLIENT_ID, msgId: `msgbench${RUN}n${seq}`, staffId: `bench${seq % 500}`, text: "帮我总结一下今天的会议要点" }),
  );
}

async function measure(
  host: HostProc,
  table: HostProc,
  url: string,
  amount: number,
  connections: number,
): Promise<{ load: LoadResult; run: HttpRun }> {
  host.send({ type: "busy-reset" });
  const [h0, t0, o0] = await Promise.all([host.probe(), table.probe(), opCounts(table)]);
  const load = await fire({ url, connections, amount, headers: signedHeaders(CLIENT_SECRET), body: nextBody, maxMs: 90_000 });
  const [h1, t1, o1] = await Promise.all([host.probe(), table.probe(), opCounts(table)]);
  const n = load.latencies.length;
  const busy = h1.busy ?? { requests: 0, busyMs: 0, sumMs: 0 };
  return {
    load,
    run: {
      requests: n,
      ok: load.ok,
      rps: round(load.rps, 0),
      latencyMs: spread(load.latencies),
      cpuUsPerRequest: round((cpuUs(h1.probe) - cpuUs(h0.probe)) / n, 0),
      tableCpuUsPerRequest: round((cpuUs(t1.probe) - cpuUs(t0.probe)) / n, 0),
      tableOps: opsPer(o0, o1, n),
      handlerMsPerRequest: round(busy.sumMs / Math.max(1, busy.requests), 3),
      busyMs: round(busy.busyMs, 1),
      truncated: load.truncated,
      statuses: load.statuses,
    },
  };
}

async function benchHttpHost(
  ctx: StepContext,
  name: string,
  script: string,
  args: string[],
  env: Record<string, string>,
  o: CallbackOptions,
): Promise<{ loaded: HttpRun; sequential: HttpRun }> {
  const host = HostProc.start(name, script, { args, env });
  try {
    const ready = await host.ready;
    const url = `http://127.0.0.1:${ready.port}/`;
    const warm = await fire({ url, connections: o.connections, amount: o.warmup, headers: signedHeaders(CLIENT_SECRET), body: nextBody, maxMs: 60_000 });
    if (warm.ok !== o.warmup) throw host.failure(`answered ${warm.ok}/${o.warmup} warm-up requests with 2xx (${JSON.stringify(warm.statuses)})`);
    const loaded = (await measure(host, ctx.dynalite, url, o.requests, o.connections)).run;
    ctx.progress(`  ${name}: ${loaded.rps} req/s, p50 ${loaded.latencyMs.p50} ms, ${loaded.cpuUsPerRequest} µs CPU/request`);
    const sequential = (await measure(host, ctx.dynalite, url, o.sequential, 1)).run;
    ctx.progress(`  ${name}, one connection: p50 ${sequential.latencyMs.p50} ms, ${sequential.cpuUsPerRequest} µs CPU/request`);
    return { loaded, sequential };
  } finally {
    await host.stop();
  }
}

export async function benchCallback(ctx: StepContext, o: CallbackOptions): Promise<CallbackFigures> {
  const recorder = await startRecorder();
  try {
    ctx.progress(`callback: floor (bare node:http, HMAC + JSON.parse), ${o.requests} requests over ${o.connections} connections`);
    const floor = await benchHttpHost(ctx, "floor", hostFile("floor-http"), [], { BENCH_SECRET: CLIENT_SECRET }, o);

    ctx.progress(`callback: dist/callback.cjs under node, dispatching to a recording FC endpoint`);
    recorder.reset();
    const env = {
      ...ctx.tableEnv,
      DINGCLAW_CONFIG_JSON: JSON.stringify({ channels: { dingtalk: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET } } }),
      ALIBABA_CLOUD_FC_ENDPOINT: recorder.url,
      DINGCLAW_WORKER_FUNCTION: "worker",
      BENCH_FC_CONTEXT: JSON.stringify({ ...FC_CONTEXT, function: { name: "callback" } }),
    };
    const callback = await benchHttpHost(ctx, "callback", hostFile("fc-http"), [path.join(DIST, "callback.cjs")], env, o);
    const total = o.warmup + o.requests + o.sequential;
    const dispatched = { jobs: recorder.invocations, distinctMsgIds: recorder.msgIds.size, malformed: recorder.malformed, fcConnections: recorder.connections };
    if (dispatched.distinctMsgIds !== total)
      ctx.progress(`  WARNING: ${dispatched.distinctMsgIds} distinct jobs dispatched for ${total} requests`);

    ctx.progress(`callback: table ceiling, raw conditional PutItem with the functions' client, concurrency ${o.connections}`);
    const put = HostProc.start("put-load", hostFile("put-load"), { env: ctx.tableEnv });
    let putItem: CallbackFigures["putItem"];
    try {
      await put.ready;
      await put.run({ count: o.warmup, concurrency: o.connections, prefix: `warm${RUN}` });
      const t0 = await ctx.dynalite.probe();
      const d = await put.run({ count: o.requests, concurrency: o.connections, prefix: `put${RUN}` });
      const t1 = await ctx.dynalite.probe();
      const latencies = d.latencies as number[];
      const writes = latencies.length;
      putItem = {
        writes,
        errors: Number(d.errors),
        rps: round(writes / (Number(d.durationMs) / 1000), 0),
        latencyMs: spread(latencies),
        cpuUsPerWrite: round(Number(d.cpuUs) / writes, 0),
        tableCpuUsPerWrite: round((cpuUs(t1.probe) - cpuUs(t0.probe)) / writes, 0),
      };
      ctx.progress(`  PutItem: ${putItem.rps} writes/s, p50 ${putItem.latencyMs.p50} ms`);
    } finally {
      await put.stop();
    }
    return {
      options: o,
      dispatcher: "recording FC endpoint (answers the async invoke 202 at once, records msgIds; no signature check)",
      floor: floor.loaded,
      callback: callback.loaded,
      floorSequential: floor.sequential,
      callbackSequential: callback.sequential,
      putItem,
      dispatched,
    };
  } finally {
    await recorder.close();
  }
}
