// Callback cost and throughput on loopback: the real callback bundle (dist/callback.cjs under plain
// node, FC 2.0 adapter) against (a) the bare HMAC+JSON floor server for CPU time per request, (b) raw
// conditional PutItems of the same client to the same dynalite for throughput and latency, and (c) the
// same PutItems each followed by one bare POST to an FC endpoint (the two requests claim-then-dispatch
// needs, nothing around them). They run in interleaved rounds so a shared machine's load hits them alike.
import os from "node:os";
import path from "node:path";
import { callbackBody, signedHeaders } from "../../helpers/messages.js";
import { fire } from "../lib/load.js";
import { busyPercent, machineCpu } from "../lib/machine.js";
import { DIST, hostFile } from "../lib/paths.js";
import { HostProc, cpuUs } from "../lib/procs.js";
import { startRecorder } from "../lib/recorder.js";
import { median, round, spread, type Spread } from "../lib/stats.js";
import { opCounts, opsPer, type OpCounts } from "../lib/table-ops.js";
import { CLIENT_ID, CLIENT_SECRET } from "../lib/world.js";
import { callbackEnv, type StepContext } from "./context.js";

export interface CallbackOptions {
  /** Loaded requests per measured process, split over `rounds`. */
  requests: number;
  rounds: number;
  warmup: number;
  connections: number;
  /** Sequential requests for the unloaded latency. */
  sequential: number;
}

export interface LoadFigures {
  requests: number;
  /** Median of the rounds' throughputs, and each round's. */
  rps: number;
  rpsRounds: number[];
  /** Pooled over all rounds. */
  latencyMs: Spread;
  /** The measured process's own CPU time per request, µs (process.cpuUsage inside it). */
  cpuUsPerRequest: number;
  /** dynalite's CPU per request, µs, and the table requests per request (by action). */
  tableCpuUsPerRequest: number;
  tableOps: OpCounts;
  /** The bench process (load generator, recorder) CPU per request, µs. */
  benchCpuUsPerRequest: number;
  /** How busy all cores were (median of rounds), and the share of that which was these processes. */
  machineBusyPct: number | undefined;
  ownBusyPct: number | undefined;
  errors: number;
}

export interface HttpFigures extends LoadFigures {
  ok: number;
  /** Handler time per request and instance-busy time (for FC billing), ms. */
  handlerMsPerRequest: number;
  busyMs: number;
  statuses: Record<string, number>;
}

export interface CallbackFigures {
  options: CallbackOptions;
  dispatcher: string;
  floor: HttpFigures;
  callback: HttpFigures;
  floorSequential: HttpFigures;
  callbackSequential: HttpFigures;
  putItem: LoadFigures;
  putItemSequential: LoadFigures;
  /** Each PutItem followed by one bare POST to a second recording FC endpoint. */
  putDispatch: LoadFigures;
  dispatched: { jobs: number; distinctMsgIds: number; expected: number; malformed: number; fcConnections: number };
}

let seq = 0;
const RUN = Date.now().toString(36);

function nextBody(): string {
  seq++;
  return JSON.stringify(
    callbackBody({ robotCode: CLIENT_ID, msgId: `msgbench${RUN}n${seq}`, staffId: `bench${seq % 500}`, text: "帮我总结一下今天的会议要点" }),
  );
}

/** One measured stretch: what the host, dynalite, the bench process and the machine spent on it. */
interface Round {
  requests: number;
  errors: number;
  rps: number;
  latencies: number[];
  hostCpuUs: number;
  tableCpuUs: number;
  benchCpuUs: number;
  ops: OpCounts;
  machineBusyPct: number | undefined;
  ownBusyPct: number | undefined;
  ok: number;
  statuses: Record<string, number>;
  busy?: { requests: number; busyMs: number; sumMs: number };
}

async function measured(
  host: HostProc,
  table: HostProc,
  run: () => Promise<{ requests: number; errors: number; wallMs: number; latencies: number[]; ok: number; statuses: Record<string, number> }>,
): Promise<Round> {
  host.send({ type: "busy-reset" });
  const [h0, t0, o0] = await Promise.all([host.probe(), table.probe(), opCounts(table)]);
  const m0 = machineCpu();
  const b0 = process.cpuUsage();
  const r = await run();
  const bench = process.cpuUsage(b0);
  const m1 = machineCpu();
  const [h1, t1, o1] = await Promise.all([host.probe(), table.probe(), opCounts(table)]);
  const hostCpuUs = cpuUs(h1.probe) - cpuUs(h0.probe);
  const tableCpuUs = cpuUs(t1.probe) - cpuUs(t0.probe);
  const benchCpuUs = bench.user + bench.system;
  const machineBusyPct = busyPercent(m0, m1);
  const ownBusyPct = round(((hostCpuUs + tableCpuUs + benchCpuUs) / 1000 / (r.wallMs * os.cpus().length)) * 100, 1);
  return {
    requests: r.requests,
    errors: r.errors,
    rps: r.requests / (r.wallMs / 1000),
    latencies: r.latencies,
    hostCpuUs,
    tableCpuUs,
    benchCpuUs,
    ops: opsPer(o0, o1, 1),
    machineBusyPct,
    ownBusyPct,
    ok: r.ok,
    statuses: r.statuses,
    ...(h1.busy ? { busy: h1.busy } : {}),
  };
}

function httpRound(host: HostProc, table: HostProc, port: number, amount: number, connections: number): Promise<Round> {
  return measured(host, table, async () => {
    const load = await fire({ url: `http://127.0.0.1:${port}/`, connections, amount, headers: signedHeaders(CLIENT_SECRET), body: nextBody, maxMs: 90_000 });
    if (load.truncated) throw host.failure(`did not answer ${amount} requests within 90 s`);
    return { requests: load.latencies.length, errors: load.errors + load.timeouts, wallMs: load.wallMs, latencies: load.latencies, ok: load.ok, statuses: load.statuses };
  });
}

function putRound(put: HostProc, table: HostProc, count: number, concurrency: number, prefix: string, dispatchUrl?: string): Promise<Round> {
  return measured(put, table, async () => {
    const d = await put.run({ count, concurrency, prefix, ...(dispatchUrl ? { dispatchUrl } : {}) });
    const latencies = d.latencies as number[];
    return { requests: latencies.length, errors: Number(d.errors), wallMs: Number(d.durationMs), latencies, ok: latencies.length, statuses: {} };
  });
}

function combine(rounds: Round[]): LoadFigures {
  const n = rounds.reduce((a, r) => a + r.requests, 0);
  const sum = (k: "hostCpuUs" | "tableCpuUs" | "benchCpuUs") => rounds.reduce((a, r) => a + r[k], 0);
  const ops: OpCounts = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r.ops)) ops[k] = (ops[k] ?? 0) + v;
  const pct = (k: "machineBusyPct" | "ownBusyPct") => {
    const v = rounds.map((r) => r[k]).filter((x): x is number => x !== undefined);
    return v.length ? round(median(v), 1) : undefined;
  };
  return {
    requests: n,
    rps: round(median(rounds.map((r) => r.rps)), 0),
    rpsRounds: rounds.map((r) => round(r.rps, 0)),
    latencyMs: spread(rounds.flatMap((r) => r.latencies)),
    cpuUsPerRequest: round(sum("hostCpuUs") / n, 0),
    tableCpuUsPerRequest: round(sum("tableCpuUs") / n, 0),
    tableOps: opsPer({}, ops, n),
    benchCpuUsPerRequest: round(sum("benchCpuUs") / n, 0),
    machineBusyPct: pct("machineBusyPct"),
    ownBusyPct: pct("ownBusyPct"),
    errors: rounds.reduce((a, r) => a + r.errors, 0),
  };
}

function combineHttp(rounds: Round[]): HttpFigures {
  const busy = rounds.reduce((a, r) => ({ requests: a.requests + (r.busy?.requests ?? 0), busyMs: a.busyMs + (r.busy?.busyMs ?? 0), sumMs: a.sumMs + (r.busy?.sumMs ?? 0) }), {
    requests: 0,
    busyMs: 0,
    sumMs: 0,
  });
  const statuses: Record<string, number> = {};
  for (const r of rounds) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  return {
    ...combine(rounds),
    ok: rounds.reduce((a, r) => a + r.ok, 0),
    handlerMsPerRequest: round(busy.sumMs / Math.max(1, busy.requests), 3),
    busyMs: round(busy.busyMs, 1),
    statuses,
  };
}

async function startHttp(name: string, script: string, args: string[], env: Record<string, string>, o: CallbackOptions): Promise<{ host: HostProc; port: number }> {
  const host = HostProc.start(name, script, { args, env });
  const ready = await host.ready;
  const port = ready.port ?? 0;
  const warm = await fire({ url: `http://127.0.0.1:${port}/`, connections: o.connections, amount: o.warmup, headers: signedHeaders(CLIENT_SECRET), body: nextBody, maxMs: 60_000 });
  if (warm.ok !== o.warmup) throw host.failure(`answered ${warm.ok}/${o.warmup} warm-up requests with 2xx (${JSON.stringify(warm.statuses)})`);
  return { host, port };
}

export async function benchCallback(ctx: StepContext, o: CallbackOptions): Promise<CallbackFigures> {
  const recorder = await startRecorder();
  const baselineFc = await startRecorder();
  const started: HostProc[] = [];
  try {
    const env = callbackEnv(ctx, recorder.url);
    ctx.progress("callback: starting the floor (bare node:http: HMAC + JSON.parse), dist/callback.cjs (FC 2.0 adapter, dispatch to a recording FC endpoint) and a raw PutItem loader; warming each up");
    const floor = await startHttp("floor", hostFile("floor-http"), [], { BENCH_SECRET: CLIENT_SECRET }, o);
    started.push(floor.host);
    const callback = await startHttp("callback", hostFile("fc-http"), [path.join(DIST, "callback.cjs")], env, o);
    started.push(callback.host);
    const put = HostProc.start("put-load", hostFile("put-load"), { env: ctx.tableEnv });
    started.push(put);
    await put.ready;
    await put.run({ count: o.warmup, concurrency: o.connections, prefix: `warm${RUN}` });

    const per = Math.ceil(o.requests / o.rounds);
    await put.run({ count: o.warmup, concurrency: o.connections, prefix: `warmd${RUN}`, dispatchUrl: baselineFc.url });
    const rounds = { floor: [] as Round[], callback: [] as Round[], put: [] as Round[], putDispatch: [] as Round[] };
    for (let r = 0; r < o.rounds; r++) {
      ctx.progress(`callback: round ${r + 1}/${o.rounds}: ${per} requests each over ${o.connections} connections (floor, callback, PutItem, PutItem + POST)`);
      rounds.floor.push(await httpRound(floor.host, ctx.dynalite, floor.port, per, o.connections));
      rounds.callback.push(await httpRound(callback.host, ctx.dynalite, callback.port, per, o.connections));
      rounds.put.push(await putRound(put, ctx.dynalite, per, o.connections, `put${RUN}r${r}`));
      rounds.putDispatch.push(await putRound(put, ctx.dynalite, per, o.connections, `putd${RUN}r${r}`, baselineFc.url));
      const [f, c, p, pd] = [rounds.floor[r]!, rounds.callback[r]!, rounds.put[r]!, rounds.putDispatch[r]!];
      ctx.progress(
        `  floor ${round(f.rps, 0)} req/s, ${round(f.hostCpuUs / f.requests, 0)} µs CPU/req; callback ${round(c.rps, 0)} req/s, ${round(c.hostCpuUs / c.requests, 0)} µs CPU/req; PutItem ${round(p.rps, 0)} writes/s, ${round(p.hostCpuUs / p.requests, 0)} µs CPU; PutItem + POST ${round(pd.rps, 0)}/s, ${round(pd.hostCpuUs / pd.requests, 0)} µs CPU`,
      );
    }
    ctx.progress(`callback: ${o.sequential} requests one at a time (floor, callback, PutItem)`);
    const floorSequential = combineHttp([await httpRound(floor.host, ctx.dynalite, floor.port, o.sequential, 1)]);
    const callbackSequential = combineHttp([await httpRound(callback.host, ctx.dynalite, callback.port, o.sequential, 1)]);
    const putItemSequential = combine([await putRound(put, ctx.dynalite, o.sequential, 1, `seq${RUN}`)]);
    ctx.progress(
      `  floor p50 ${floorSequential.latencyMs.p50} ms, callback p50 ${callbackSequential.latencyMs.p50} ms, PutItem p50 ${putItemSequential.latencyMs.p50} ms`,
    );

    const expected = o.warmup + per * o.rounds + o.sequential;
    const dispatched = {
      jobs: recorder.invocations,
      distinctMsgIds: recorder.msgIds.size,
      expected,
      malformed: recorder.malformed,
      fcConnections: recorder.connections,
    };
    if (dispatched.distinctMsgIds !== expected) ctx.progress(`  WARNING: ${dispatched.distinctMsgIds} distinct jobs dispatched for ${expected} callback requests`);
    return {
      options: o,
      dispatcher: "recording FC endpoint (answers the async invoke 202 at once and records msgIds; no signature check, nothing run)",
      floor: combineHttp(rounds.floor),
      callback: combineHttp(rounds.callback),
      floorSequential,
      callbackSequential,
      putItem: combine(rounds.put),
      putItemSequential,
      putDispatch: combine(rounds.putDispatch),
      dispatched,
    };
  } finally {
    await Promise.all(started.map((h) => h.stop()));
    await recorder.close();
    await baselineFc.close();
  }
}
