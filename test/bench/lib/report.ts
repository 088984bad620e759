// The bench's final table: one row per figure with the measured value, its baseline from the same run
// and their ratio, printed as aligned text and written as Markdown next to the JSON results.
import type { CalibrationFigures } from "../steps/calibration.js";
import type { CallbackFigures } from "../steps/callback.js";
import type { ColdStartFigures } from "../steps/cold-start.js";
import { SCENARIO, type CostFigures, type MonthlyCost } from "../steps/cost.js";
import type { FirstWords, FirstWordsFigures } from "../steps/first-words.js";
import type { GatewayFigures } from "../steps/gateway.js";
import type { StreamAckFigures } from "../steps/stream-ack.js";
import type { BackendFigures, TablesFigures } from "../steps/tables.js";
import type { WorkerFigures } from "../steps/worker.js";
import type { BundleSize } from "./build.js";
import { NPM_START, type MemoryPoint } from "./gateway-run.js";
import { kb, round } from "./stats.js";
import { totalOps } from "./table-ops.js";

export interface Results {
  calibration?: CalibrationFigures;
  callback?: CallbackFigures;
  coldStart?: ColdStartFigures;
  bundles?: { callback: BundleSize; worker: BundleSize; sdkOnly: BundleSize };
  streamAck?: StreamAckFigures;
  worker?: WorkerFigures;
  firstWords?: FirstWordsFigures;
  tables?: TablesFigures;
  gateway?: GatewayFigures;
  cost?: CostFigures;
  monthly?: MonthlyCost;
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
    if (cb.putDispatch) {
      add("Callback CPU per request vs floor + PutItem + one bare POST (the dispatch)", `${cb.callback.cpuUsPerRequest} µs`, `${cb.floor.cpuUsPerRequest + cb.putDispatch.cpuUsPerRequest} µs (floor + PutItem then POST, node:http)`, x(cb.callback.cpuUsPerRequest, cb.floor.cpuUsPerRequest + cb.putDispatch.cpuUsPerRequest), "the physical floor of verify → claim → dispatch on this machine: what our code adds beyond the two requests");
      add("Callback throughput vs PutItem + one bare POST", `${cb.callback.rps} req/s`, `${cb.putDispatch.rps} (PutItem then POST)/s`, x(cb.callback.rps, cb.putDispatch.rps), `median of rounds (${cb.putDispatch.rpsRounds.join(", ")})`);
    }
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
  if (r.streamAck) {
    const { remote, embedded } = r.streamAck;
    add("Stream: frame → ACK decision p50 / p99 (claim before ACK)", pp(remote.ackMs), `${pp(remote.putMs)} (one raw conditional put, same client)`, x(remote.ackMs.p50, remote.putMs.p50), `${remote.frames} frames one at a time, alternated with the puts; core/stream-frame.ts with the real claim and the gateway's dispatcher; the bench's dynalite process; issue 11: about one table write`);
    add("  the same on the gateway's embedded store", pp(embedded.ackMs), pp(embedded.putMs), x(embedded.ackMs.p50, embedded.putMs.p50), "dynalite in the same process, in memory (npm start's default keeps it on disk)");
  }
  if (w) {
    const o = w.overhead;
    add("Worker: LLM first byte → first reply bytes p50 / p99", pp(o.firstTokenToReplyMs), `${pp(o.llmRequestMs)} (the LLM's own time)`, x(o.firstTokenToReplyMs.p50, o.llmRequestMs.p50), `${o.messages} messages one at a time, times from the doubles; the LLM's first → last byte took ${pp(o.llmStreamMs)} (unstreamed without AI cards)`);
    add("Worker before the LLM (job start → LLM request) p50 / p99", pp(o.beforeLlmMs), "—", "", "claim renewal, conversation load, prompt");
    add("Worker whole job p50 / p99", pp(o.handlerMs), `${pp(o.llmRequestMs)} (the LLM's own time)`, x(o.handlerMs.p50, o.llmRequestMs.p50), `CPU ${o.cpuMsPerMessage} ms/message; ${totalOps(o.tableOpsPerMessage)} table requests/message (${fmtOps(o.tableOpsPerMessage)})`);
    const t = w.toolRound;
    add("Worker: a turn with one tool round (find_colleague) p50 / p99", pp(t.handlerMs), `${pp(t.llmMs)} (the two LLM calls' own time)`, x(t.handlerMs.p50, t.llmMs.p50), `${t.messages} messages one at a time; CPU ${t.cpuMsPerMessage} ms/message`);
    add("  what the tool round adds beyond the LLM p50 / p99", pp(t.addedMs), `${pp(t.plainAddedMs)} (a plain turn, beyond its LLM call)`, x(t.addedMs.p50, t.plainAddedMs.p50), `between the two LLM calls (the contact APIs and the status line): ${pp(t.betweenLlmMs)}`);
    const c2 = w.concurrency;
    add(`Worker: ${c2.messages} messages at once, one process — wall`, `${c2.wallMs} ms`, `${c2.llmMs.p50} ms (each LLM call, p50)`, x(c2.wallMs, c2.llmMs.p50), `${c2.replies} replies, ${c2.failed} failed; last LLM request at +${c2.untilLastLlmRequestMs} ms, last job done ${c2.afterLastLlmMs} ms after the last LLM answer; CPU ${c2.cpuMsPerMessage} ms/message; ${totalOps(c2.tableOpsPerMessage)} table requests/message`);
    add("Worker peak RSS during the burst", `${c2.peakRssMb} MB`, `${c2.idleRssMb} MB (warm, idle)`, x(c2.peakRssMb, c2.idleRssMb), "sampled every 10 ms inside the process");
  }
  if (r.firstWords) {
    const f = r.firstWords;
    const words = (host: string, arrival: string, w: FirstWords) =>
      add(
        `First visible words, AI cards on (${host}): ${arrival} → first card content, minus the LLM's first token, p50 / p99`,
        pp(w.addedMs),
        `${pp(w.llmFirstTokenMs)} (the LLM's own first token)`,
        "",
        `${w.messages} messages one at a time; before the LLM request ${pp(w.beforeLlmMs)}, first token → card content ${pp(w.afterFirstTokenMs)}; card created ${w.createVsLlmMs.p50} ms after the LLM request (p50; negative: before it); issue 16 goal ≤ 150 ms p50`,
      );
    words("worker", "job start", f.worker);
    words("gateway", "Stream push", f.gateway);
  }
  if (r.tables) {
    const { dynamodb: d, tablestore: t } = r.tables;
    const ops = (b: BackendFigures) => `${b.requests} (${fmtOps(b.requestsPerMessage)})`;
    add("Table requests per answered message: Tablestore", ops(t), `${ops(d)} (DynamoDB API, dynalite)`, x(t.requests, d.requests), `${t.messages} messages one at a time, counted by each table server; the callback's claim included; Tablestore CU per message: ${t.cuPerMessage?.read ?? "?"} read + ${t.cuPerMessage?.write ?? "?"} write (the double's documented rules)`);
    add("  table time per message (server side)", `${t.tableMsPerMessage} ms`, `${d.tableMsPerMessage} ms`, x(t.tableMsPerMessage, d.tableMsPerMessage), `per request ${t.msPerRequest} vs ${d.msPerRequest} ms: the doubles' own speed on this machine, not the services'`);
    add("  worker whole job p50 / p99", pp(t.jobMs), pp(d.jobMs), x(t.jobMs.p50, d.jobMs.p50), `worker CPU ${t.workerCpuMsPerMessage} vs ${d.workerCpuMsPerMessage} ms/message; the worker bundle built for each backend`);
  }
  if (g) {
    const l = g.launch;
    const m = g.memory;
    const runs = `median of ${g.options.connectRuns}`;
    const sdk = (what: string) => `${what} (dingtalk-stream SDK alone, plain node)`;
    add(`Gateway, npm start's command (${["node", ...NPM_START.nodeFlags, NPM_START.script, NPM_START.entry].join(" ")}): Stream socket open`, `${l.npmStart.connectMs} ms`, sdk(`${l.sdk.connectMs} ms`), x(l.npmStart.connectMs, l.sdk.connectMs), `${runs} (${l.npmStart.raw.join(", ")}); spawn → WebSocket open at the double, esbuild bundling included; DESIGN §7: < 1500 ms`);
    add("  the same bundle prebuilt (no esbuild at start)", `${l.bundle.connectMs} ms`, `${l.sdk.connectMs} ms`, x(l.bundle.connectMs, l.sdk.connectMs), `${runs} (${l.bundle.raw.join(", ")}); what bundling at each start costs: ${round(l.npmStart.connectMs - l.bundle.connectMs, 0)} ms`);
    if (l.npmTyped)
      add("  npm start as typed (npm → sh → node)", `${l.npmTyped.connectMs} ms`, `${l.sdk.connectMs} ms`, x(l.npmTyped.connectMs, l.sdk.connectMs), `${l.npmTyped.raw.length} run; from spawning npm`);
    add("Gateway, npm start's command: idle RSS, connected", `${m.idle.rssMb} MB`, sdk(`${l.sdk.rssMb} MB`), x(m.idle.rssMb, l.sdk.rssMb), `the node process; an empty node: ${l.emptyNodeRssMb} MB; JS heap ${m.idle.heapUsedMb} MB used of ${m.idle.heapTotalMb} MB; ${runs} at start: ${l.npmStart.rssMb} MB; DESIGN §7: < 80 MB`);
    add("  the same bundle prebuilt: idle RSS, connected", `${l.bundle.rssMb} MB`, `${l.sdk.rssMb} MB`, x(l.bundle.rssMb, l.sdk.rssMb), runs);
    if (l.npmTyped)
      add("  npm start as typed: RSS of all its processes", `${l.npmTyped.totalRssMb} MB`, `${l.sdk.rssMb} MB`, x(l.npmTyped.totalRssMb, l.sdk.rssMb), `from /proc: ${l.npmTyped.processes.map((p) => `${p.comm} ${p.rssMb}`).join(" + ")} MB`);
    add(
      `Gateway RSS after ${m.messages} messages (3 s later, after a full GC)`,
      `${m.settled.rssMb} MB`,
      `${m.idle.rssMb} MB (idle, before any message)`,
      x(m.settled.rssMb, m.idle.rssMb),
      `growth ${m.growthMb} MB; RSS along the way ${m.trace.map((t) => `${t.messages}: ${t.rssMb}`).join(", ")} MB; ${m.messagesPerSecond} msg/s; ${m.replies} replies, slowest ${m.slowestReplyMs} ms after its push, ${m.slowReplies} over 30 s`,
    );
    add(
      "  of which V8's heap (committed / used after GC)",
      `${m.settled.heapTotalMb} / ${m.settled.heapUsedMb} MB`,
      `${m.idle.heapTotalMb} / ${m.beforeLoad.heapUsedMb} MB (idle; used after GC right before the messages)`,
      x(m.settled.heapTotalMb, m.idle.heapTotalMb),
      `committed along the way ${m.trace.map((t) => t.heapTotalMb).join(", ")} MB${v8Split(m.idle, m.settled)}`,
    );
    if (m.idle.parts && m.settled.parts)
      add(
        "  of which malloc (main + thread arenas)",
        `${round(m.settled.parts.mallocMainMb + m.settled.parts.mallocThreadArenasMb, 1)} MB`,
        `${round(m.idle.parts.mallocMainMb + m.idle.parts.mallocThreadArenasMb, 1)} MB (idle)`,
        x(m.settled.parts.mallocMainMb + m.settled.parts.mallocThreadArenasMb, m.idle.parts.mallocMainMb + m.idle.parts.mallocThreadArenasMb),
        `native memory (LevelDB, V8's helper threads, OpenSSL…) from /proc/<pid>/smaps: main ${m.idle.parts.mallocMainMb} → ${m.settled.parts.mallocMainMb}, ${m.settled.parts.threadArenas} thread arenas ${m.idle.parts.mallocThreadArenasMb} → ${m.settled.parts.mallocThreadArenasMb} MB`,
      );
    add(
      `Gateway RSS ${g.options.idleAfterS} s after the messages (idle)`,
      `${m.later.rssMb} MB`,
      `${m.idle.rssMb} MB (idle, before any message)`,
      x(m.later.rssMb, m.idle.rssMb),
      `${round(m.later.rssMb - m.idle.rssMb, 1)} MB above idle (issue 11: within 20 MB); V8 heap committed ${m.later.heapTotalMb} MB${m.later.parts ? `, malloc ${round(m.later.parts.mallocMainMb + m.later.parts.mallocThreadArenasMb, 1)} MB` : ""}; no GC forced; peak RSS over the process's life ${m.maxRssMb} MB; DESIGN §7: flat after 1,000 messages`,
    );
    add("Gateway added per turn p50 / p99", pp(g.turn.addedMs), `${pp(g.turn.llmMs)} (the LLM's own time)`, "", `npm start's command; each push 100 ms after the last reply; first turn after start: ${g.turn.firstTurnAddedMs} ms; DESIGN §7: < 50 ms`);
    add("  the same, turns back to back", pp(g.turn.backToBackAddedMs), "", "", "each push as the last reply arrives: the previous turn's completion and counts are still being written");
    add(`Gateway: ${g.burst.messages} DMs at once, each LLM call ${g.burst.llmMs} ms`, `${g.burst.wallMs} ms`, `${g.burst.llmMs} ms (one LLM round-trip)`, x(g.burst.wallMs, g.burst.llmMs), `${g.burst.replies} replies; LLM requests from +${g.burst.firstLlmRequestMs} to +${g.burst.lastLlmRequestMs} ms, last reply ${g.burst.afterLastLlmMs} ms after the last LLM answer; DESIGN §7: ≈ one LLM round-trip`);
  }
  if (c) {
    add("FC GB-s per 1,000 messages: callback", `${c.callback.gbSecondsPer1000With}`, `${c.callback.gbSecondsPer1000Without}`, x(c.callback.gbSecondsPer1000With, c.callback.gbSecondsPer1000Without), `${c.callback.memoryMb} MB; ${c.callback.basis}`);
    add("FC GB-s per 1,000 messages: worker", `${c.worker.gbSecondsPer1000With} (instance concurrency)`, `${c.worker.gbSecondsPer1000Without} (one job per instance)`, x(c.worker.gbSecondsPer1000With, c.worker.gbSecondsPer1000Without), `${c.worker.memoryMb} MB; ${c.worker.basis}`);
    add("FC GB-s per 1,000 messages: total", `${c.totalPer1000With} (instance concurrency)`, `${c.totalPer1000Without} (none)`, x(c.totalPer1000With, c.totalPer1000Without), "memory sizes from serverless.yml; multiply by the GB-s price");
  }
  if (r.monthly) {
    const m = r.monthly;
    const cny = (usd: number) => round(usd * m.cnyPerUsd, 2);
    const month = `${SCENARIO.messagesPerDay.toLocaleString("en")} messages a day, ${SCENARIO.days} days`;
    add("FC cost per answered message", `$${m.fc.usdPerMessage.toPrecision(2)}`, `callback $${m.fc.callbackUsd.toPrecision(2)}, worker $${m.fc.workerUsd.toPrecision(2)}`, "", `${m.fc.basis}; test/bench/lib/prices.ts (vCPU per GB assumed)`);
    add(`Monthly, ${month}: FC`, `$${m.fc.usdPerMonth} (¥${cny(m.fc.usdPerMonth)})`, "", "", "both functions, pay-as-you-go, no free quota counted");
    add("  table: Tablestore CU mode", `¥${m.tablestore.cnyPerMonth}`, "", "", `${m.tablestore.cuPerMessage.read} read + ${m.tablestore.cuPerMessage.write} write CU per message (measured); write CU priced like read (unverified)`);
    add("  table: AWS DynamoDB on-demand", `$${m.dynamodb.usdPerMonth} (¥${cny(m.dynamodb.usdPerMonth)})`, "", "", `${m.dynamodb.writesPerMessage} writes + ${m.dynamodb.readsPerMessage} reads per message (measured), one unit each (items under 1 KB / 4 KB)`);
    add("  table: PolarDB for PostgreSQL, one 2-core 4 GB node", `$${m.polardb.usdPerMonth} (¥${cny(m.polardb.usdPerMonth)})`, "", "", "compute only, around the clock whatever the traffic; storage and proxy extra");
  }
  return out;
}

/** V8's young generation vs the rest, committed, when the probes carried the heap spaces. */
function v8Split(idle: MemoryPoint, settled: MemoryPoint): string {
  if (!idle.v8 || !settled.v8) return "";
  return `; young generation ${idle.v8.youngCommittedMb} → ${settled.v8.youngCommittedMb} MB, old and other spaces ${idle.v8.oldCommittedMb} → ${settled.v8.oldCommittedMb} MB`;
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
