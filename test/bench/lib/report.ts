// The bench's final table: one row per figure with the measured value, its baseline from the same run
// and their ratio, printed as aligned text and written as Markdown next to the JSON results.
import type { CalibrationFigures } from "../steps/calibration.js";
import type { CallbackFigures } from "../steps/callback.js";
import type { ColdStartFigures } from "../steps/cold-start.js";
import type { CostFigures } from "../steps/cost.js";
import type { GatewayFigures } from "../steps/gateway.js";
import type { WorkerFigures } from "../steps/worker.js";
import type { BundleSize } from "./build.js";
import { kb, round } from "./stats.js";
import { totalOps } from "./table-ops.js";

export interface Results {
  calibration?: CalibrationFigures;
  callback?: CallbackFigures;
  coldStart?: ColdStartFigures;
  bundles?: { callback: BundleSize; worker: BundleSize; sdkOnly: BundleSize };
  worker?: WorkerFigures;
  gateway?: GatewayFigures;
  cost?: CostFigures;
}

export interface Row {
  figure: string;
  measured: string;
  baseline: string;
  ratio: string;
  note: string;
}

const x = (a: number, b: number) => (Number.isFinite(a / b) ? `${round(a / b, 2)}×` : "—");
const pp = (s: { p50: number; p99: number }, unit = "ms") => `${s.p50} / ${s.p99} ${unit}`;

export function rows(r: Results): Row[] {
  const out: Row[] = [];
  const add = (figure: string, measured: string, baseline: string, ratio: string, note = "") => out.push({ figure, measured, baseline, ratio, note });
  const { callback: cb, coldStart: cs, bundles: b, worker: w, gateway: g, cost: c, calibration: cal } = r;
  if (cal)
    add("Machine: CPU per loopback HTTP request (client side)", `${cal.httpRequestCpuUs} µs`, "", "", "calibration: peer answers after ~1 ms; scales every CPU figure below");
  if (cb) {
    const n = cb.options.connections;
    const busy = (f: { machineBusyPct: number | undefined; ownBusyPct: number | undefined }) =>
      f.machineBusyPct === undefined ? "" : `; all cores ${f.machineBusyPct}% busy, ${f.ownBusyPct}% by the measured processes`;
    add("Callback CPU per request", `${cb.callback.cpuUsPerRequest} µs`, `${cb.floor.cpuUsPerRequest} µs (bare HMAC + JSON server)`, x(cb.callback.cpuUsPerRequest, cb.floor.cpuUsPerRequest), `process.cpuUsage inside each; ${cb.callback.requests} requests each, ${n} connections, ${cb.options.rounds} interleaved rounds`);
    add("Callback CPU per request vs its floor + one PutItem", `${cb.callback.cpuUsPerRequest} µs`, `${cb.floor.cpuUsPerRequest + cb.putItem.cpuUsPerRequest} µs (floor + the SDK's CPU per PutItem)`, x(cb.callback.cpuUsPerRequest, cb.floor.cpuUsPerRequest + cb.putItem.cpuUsPerRequest), "what the callback adds beyond the write it must do (the rest: zod, the FC invoke)");
    add("Callback throughput", `${cb.callback.rps} req/s`, `${cb.putItem.rps} PutItem/s (same client, same dynalite)`, x(cb.callback.rps, cb.putItem.rps), `median of rounds (callback ${cb.callback.rpsRounds.join(", ")}; PutItem ${cb.putItem.rpsRounds.join(", ")})${busy(cb.callback)}`);
    add("Callback latency p50 / p99 (loaded)", pp(cb.callback.latencyMs), pp(cb.putItem.latencyMs), x(cb.callback.latencyMs.p50, cb.putItem.latencyMs.p50), `p50 ratio; ${n} in flight`);
    add("Callback latency p50 / p99 (one at a time)", pp(cb.callbackSequential.latencyMs), `${pp(cb.putItemSequential.latencyMs)} (one PutItem)`, x(cb.callbackSequential.latencyMs.p50, cb.putItemSequential.latencyMs.p50), `${cb.options.sequential} requests; the floor server: ${pp(cb.floorSequential.latencyMs)}`);
    add("dynalite CPU per callback request", `${cb.callback.tableCpuUsPerRequest} µs`, `${cb.putItem.tableCpuUsPerRequest} µs per raw PutItem`, x(cb.callback.tableCpuUsPerRequest, cb.putItem.tableCpuUsPerRequest), `table requests per callback: ${totalOps(cb.callback.tableOps)} (${fmtOps(cb.callback.tableOps)})`);
    add("Jobs dispatched", `${cb.dispatched.distinctMsgIds} distinct msgIds`, `${cb.dispatched.expected} callback requests`, x(cb.dispatched.distinctMsgIds, cb.dispatched.expected), `${cb.dispatched.jobs} FC invokes over ${cb.dispatched.fcConnections} connections; every request a distinct signed message`);
  }
  if (cs) {
    add("Callback cold start (spawn → first answer)", `${cs.callback.totalMs} ms`, `${cs.sdkOnly.totalMs} ms (bundle with only the DynamoDB client)`, x(cs.callback.totalMs, cs.sdkOnly.totalMs), `median of ${cs.runs}; includes the first claim + dispatch`);
    add("  of which require() of the bundle", `${cs.callback.requireMs} ms`, `${cs.sdkOnly.requireMs} ms`, x(cs.callback.requireMs, cs.sdkOnly.requireMs));
    add("  of which the first request", `${cs.callback.firstRequestMs} ms`, `${cs.sdkOnly.firstRequestMs} ms`, x(cs.callback.firstRequestMs, cs.sdkOnly.firstRequestMs));
    add("  CPU time / RSS at the first answer", `${cs.callback.cpuMs} ms / ${cs.callback.rssMb} MB`, `${cs.sdkOnly.cpuMs} ms / ${cs.sdkOnly.rssMb} MB`, x(cs.callback.cpuMs, cs.sdkOnly.cpuMs));
  }
  if (b) {
    add("Callback bundle (minified / gzip)", `${kb(b.callback.rawBytes)} / ${kb(b.callback.gzipBytes)} KB`, `${kb(b.sdkOnly.rawBytes)} / ${kb(b.sdkOnly.gzipBytes)} KB (DynamoDB client only)`, x(b.callback.rawBytes, b.sdkOnly.rawBytes), "DESIGN §7: well under 1 MB");
    add("Worker bundle (minified / gzip)", `${kb(b.worker.rawBytes)} / ${kb(b.worker.gzipBytes)} KB`, `${kb(b.sdkOnly.rawBytes)} / ${kb(b.sdkOnly.gzipBytes)} KB`, x(b.worker.rawBytes, b.sdkOnly.rawBytes));
  }
  if (w) {
    const o = w.overhead;
    add("Worker: LLM first byte → first reply bytes p50 / p99", pp(o.firstTokenToReplyMs), `${pp(o.llmRequestMs)} (the LLM's own time)`, x(o.firstTokenToReplyMs.p50, o.llmRequestMs.p50), `${o.messages} messages one at a time, times from the doubles; the LLM's first → last byte took ${pp(o.llmStreamMs)} (unstreamed without AI cards)`);
    add("Worker before the LLM (job start → LLM request) p50 / p99", pp(o.beforeLlmMs), "—", "", "claim renewal, conversation load, prompt");
    add("Worker whole job p50 / p99", pp(o.handlerMs), `${pp(o.llmRequestMs)} (the LLM's own time)`, x(o.handlerMs.p50, o.llmRequestMs.p50), `CPU ${o.cpuMsPerMessage} ms/message; ${totalOps(o.tableOpsPerMessage)} table requests/message (${fmtOps(o.tableOpsPerMessage)})`);
    const c2 = w.concurrency;
    add(`Worker: ${c2.messages} messages at once, one process — wall`, `${c2.wallMs} ms`, `${c2.llmMs.p50} ms (each LLM call, p50)`, x(c2.wallMs, c2.llmMs.p50), `${c2.replies} replies, ${c2.failed} failed; last LLM request at +${c2.untilLastLlmRequestMs} ms, last job done ${c2.afterLastLlmMs} ms after the last LLM answer; CPU ${c2.cpuMsPerMessage} ms/message; ${totalOps(c2.tableOpsPerMessage)} table requests/message`);
    add("Worker peak RSS during the burst", `${c2.peakRssMb} MB`, `${c2.idleRssMb} MB (warm, idle)`, x(c2.peakRssMb, c2.idleRssMb), "sampled every 10 ms inside the process");
  }
  if (g) {
    const l = g.launch;
    const runs = `median of ${g.options.connectRuns}`;
    add("Gateway (npm start): Stream socket open after start", `${l.gatewayTsx.connectMs} ms`, `${l.sdkTsx.connectMs} ms (dingtalk-stream SDK alone, node + tsx)`, x(l.gatewayTsx.connectMs, l.sdkTsx.connectMs), `${runs}; spawn → WebSocket open at the double; DESIGN §7: < 1500 ms`);
    add("Gateway as a plain-node module: Stream socket open", `${l.gatewayNode.connectMs} ms`, `${l.sdkNode.connectMs} ms (SDK alone, plain node)`, x(l.gatewayNode.connectMs, l.sdkNode.connectMs), `${runs}; esbuild bundle, dependencies from node_modules`);
    add("Gateway (npm start): idle RSS, connected", `${g.memory.idleRssMb} MB`, `${l.sdkTsx.rssMb} MB (SDK alone, node + tsx)`, x(g.memory.idleRssMb, l.sdkTsx.rssMb), `an empty program under node + tsx: ${l.emptyTsxRssMb} MB; heap ${g.memory.idleHeapMb} MB; DESIGN §7: < 80 MB`);
    add("Gateway as a plain-node module: idle RSS, connected", `${l.gatewayNode.rssMb} MB`, `${l.sdkNode.rssMb} MB (SDK alone, plain node)`, x(l.gatewayNode.rssMb, l.sdkNode.rssMb), `an empty program under plain node: ${l.emptyNodeRssMb} MB`);
    add(`Gateway RSS after ${g.memory.messages} messages (3 s later)`, `${g.memory.settledRssMb} MB`, `${g.memory.idleRssMb} MB (idle)`, x(g.memory.settledRssMb, g.memory.idleRssMb), `growth ${g.memory.growthMb} MB; RSS along the way ${g.memory.trace.map((t) => `${t.messages}: ${t.rssMb}`).join(", ")} MB; heap after GC ${g.memory.heapAfterGcIdleMb} → ${g.memory.heapAfterGcMb} MB; ${g.memory.messagesPerSecond} msg/s`);
    add("Gateway added per turn p50 / p99", pp(g.turn.addedMs), `${pp(g.turn.llmMs)} (the LLM's own time)`, "", `first turn after start: ${g.turn.firstTurnAddedMs} ms; DESIGN §7: < 50 ms`);
    add(`Gateway: ${g.burst.messages} DMs at once, each LLM call ${g.burst.llmMs} ms`, `${g.burst.wallMs} ms`, `${g.burst.llmMs} ms (one LLM round-trip)`, x(g.burst.wallMs, g.burst.llmMs), `${g.burst.replies} replies`);
  }
  if (c) {
    add("FC GB-s per 1,000 messages: callback", `${c.callback.gbSecondsPer1000With}`, `${c.callback.gbSecondsPer1000Without}`, x(c.callback.gbSecondsPer1000With, c.callback.gbSecondsPer1000Without), `${c.callback.memoryMb} MB; ${c.callback.basis}`);
    add("FC GB-s per 1,000 messages: worker", `${c.worker.gbSecondsPer1000With} (instance concurrency)`, `${c.worker.gbSecondsPer1000Without} (one job per instance)`, x(c.worker.gbSecondsPer1000With, c.worker.gbSecondsPer1000Without), `${c.worker.memoryMb} MB; ${c.worker.basis}`);
    add("FC GB-s per 1,000 messages: total", `${c.totalPer1000With} (instance concurrency)`, `${c.totalPer1000Without} (none)`, x(c.totalPer1000With, c.totalPer1000Without), "memory sizes from serverless.yml; multiply by the GB-s price");
  }
  return out;
}

function fmtOps(ops: Record<string, number>): string {
  return Object.entries(ops)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
}

export function textTable(list: Row[]): string {
  const cols: (keyof Row)[] = ["figure", "measured", "baseline", "ratio", "note"];
  const head: Row = { figure: "figure", measured: "measured", baseline: "baseline (same run)", ratio: "ratio", note: "note" };
  const width = Object.fromEntries(cols.map((k) => [k, Math.max(...[head, ...list].map((r) => [...r[k]].length))])) as Record<keyof Row, number>;
  const line = (r: Row) =>
    cols
      .map((k) => r[k] + " ".repeat(width[k] - [...r[k]].length))
      .join("  ")
      .trimEnd();
  return [line(head), cols.map((k) => "-".repeat(width[k])).join("  "), ...list.map(line)].join("\n");
}

export function markdownTable(list: Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [
    "| Figure | Measured | Baseline (same run) | Ratio | Note |",
    "|---|---|---|---|---|",
    ...list.map((r) => `| ${esc(r.figure)} | ${esc(r.measured)} | ${esc(r.baseline)} | ${esc(r.ratio)} | ${esc(r.note)} |`),
  ].join("\n");
}
