// `npm run bench`: measures dingclaw's callback, worker and gateway against baselines taken in the same
// run (never against fixed times), prints progress per step and a final table of figures and ratios,
// and writes test/bench/results/latest.json (+ latest.md). `-- --quick` for a short smoke run,
// `-- --only gateway,worker` for some steps, `-- --cpu-prof` to keep V8 CPU profiles of every
// measured process in test/bench/results/profiles/.
import { mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { buildGatewayForNode, buildHosts, buildSdkOnly, functionBundleSize, runNpmBuild } from "./lib/build.js";
import { busyPercent, machineCpu } from "./lib/machine.js";
import { RESULTS, hostFile } from "./lib/paths.js";
import { HostProc, profileInto } from "./lib/procs.js";
import { markdownTable, rows, textTable, type Results } from "./lib/report.js";
import { round } from "./lib/stats.js";
import { benchCalibration } from "./steps/calibration.js";
import { benchCallback } from "./steps/callback.js";
import { benchColdStart } from "./steps/cold-start.js";
import type { StepContext } from "./steps/context.js";
import { computeCost, monthlyCost } from "./steps/cost.js";
import { benchGateway } from "./steps/gateway.js";
import { benchStreamAck } from "./steps/stream-ack.js";
import { benchTables } from "./steps/tables.js";
import { benchFirstWords } from "./steps/first-words.js";
import { benchWorker } from "./steps/worker.js";

const STEPS = ["calibration", "callback", "cold-start", "stream-ack", "worker", "first-words", "tables", "gateway"] as const;
const { values } = parseArgs({
  options: { quick: { type: "boolean", default: false }, "cpu-prof": { type: "boolean", default: false }, only: { type: "string" } },
});
const quick = values.quick;
const only = new Set(values.only?.split(",").map((s) => s.trim()) ?? STEPS);
for (const step of only)
  if (!(STEPS as readonly string[]).includes(step)) {
    console.error(`bench: --only: unknown step "${step}" (steps: ${STEPS.join(", ")})`);
    process.exit(2);
  }
const want = (step: (typeof STEPS)[number]) => only.has(step);
/** How busy the whole machine was during each step (percent of all cores, anyone's processes). */
const machineBusy: Record<string, number | undefined> = {};

async function step<T>(name: (typeof STEPS)[number], run: () => Promise<T>): Promise<T | undefined> {
  if (!want(name)) return undefined;
  const before = machineCpu();
  const result = await run();
  machineBusy[name] = busyPercent(before, machineCpu());
  return result;
}

const SIZES = quick
  ? { requests: 300, rounds: 2, warmup: 50, sequential: 50, coldRuns: 2, overhead: 10, connectRuns: 1, turns: 6, messages: 100, idleAfterS: 10, ackFrames: 100 }
  : { requests: 3000, rounds: 3, warmup: 2000, sequential: 300, coldRuns: 7, overhead: 60, connectRuns: 3, turns: 30, messages: 1000, idleAfterS: 30, ackFrames: 500 };

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
const progress = (line: string) => console.log(`[${elapsed().padStart(6)}] ${line}`);

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    memoryGb: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((l) => round(l, 2)),
  };
}

async function main(): Promise<void> {
  await mkdir(RESULTS, { recursive: true });
  if (values["cpu-prof"]) {
    const dir = path.join(RESULTS, "profiles");
    await rm(dir, { recursive: true, force: true });
    profileInto(dir);
  }
  const m = machine();
  progress(`dingclaw bench${quick ? " (quick)" : ""}: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node}, load average ${m.loadAverageAtStart.join(" ")}`);
  progress("build: npm run build (dist/), bench hosts, SDK-only baseline bundle, the gateway prebuilt as infra/launch.mjs bundles it");
  for (const line of await runNpmBuild()) progress(`  ${line}`);
  await buildHosts();
  await buildGatewayForNode();
  const results: Results = {};
  results.bundles = { callback: await functionBundleSize("callback"), worker: await functionBundleSize("worker"), sdkOnly: await buildSdkOnly() };

  progress("table: dynalite in its own process");
  const dynalite = HostProc.start("dynalite", hostFile("dynalite"), { env: { DINGCLAW_TABLE_NAME: "dingclaw" } });
  const ready = await dynalite.ready;
  const ctx: StepContext = {
    progress,
    dynalite,
    tableEnv: { DINGCLAW_TABLE_ENDPOINT: `http://127.0.0.1:${ready.port}`, DINGCLAW_TABLE_NAME: "dingclaw" },
  };
  try {
    results.calibration = await step("calibration", () => {
      progress("calibration: loopback HTTP request cost on this machine");
      return benchCalibration(ctx, quick ? 200 : 1000);
    });
    results.callback = await step("callback", () =>
      benchCallback(ctx, { requests: SIZES.requests, rounds: SIZES.rounds, warmup: SIZES.warmup, connections: 20, sequential: SIZES.sequential }),
    );
    results.coldStart = await step("cold-start", () => {
      progress(`callback cold start: ${SIZES.coldRuns} fresh processes each, alternating`);
      return benchColdStart(ctx, SIZES.coldRuns);
    });
    results.streamAck = await step("stream-ack", () => benchStreamAck(ctx, SIZES.ackFrames));
    results.worker = await step("worker", () => benchWorker(ctx, { overheadMessages: SIZES.overhead, concurrent: 50, llmDelayMs: 2000 }));
    results.firstWords = await step("first-words", () => benchFirstWords(ctx, { messages: SIZES.overhead, ttftMs: 300 }));
    results.tables = await step("tables", () => benchTables(ctx, SIZES.overhead));
  } finally {
    await dynalite.stop();
  }
  results.gateway = await step("gateway", () =>
    benchGateway(ctx, {
      connectRuns: SIZES.connectRuns,
      turns: SIZES.turns,
      messages: SIZES.messages,
      inFlight: 20,
      burst: 50,
      burstLlmMs: 2000,
      idleAfterS: SIZES.idleAfterS,
    }),
  );
  if (results.callback && results.worker) results.cost = await computeCost(results.callback, results.worker);
  if (results.tables) results.monthly = await monthlyCost(results.tables, results.callback, results.worker);

  const table = rows(results);
  const out = {
    date: new Date().toISOString(),
    quick,
    steps: [...only],
    durationS: round((performance.now() - started) / 1000, 1),
    machine: { ...m, loadAverageAtEnd: os.loadavg().map((l) => round(l, 2)), busyPercentPerStep: machineBusy },
    table,
    results,
  };
  await writeFile(path.join(RESULTS, "latest.json"), `${JSON.stringify(out, null, 2)}\n`);
  await writeFile(path.join(RESULTS, "latest.md"), `${markdownTable(table)}\n`);
  console.log(`\n${textTable(table)}\n`);
  const busy = Object.entries(machineBusy).map(([k, v]) => `${k} ${v ?? "?"}%`);
  if (busy.length) progress(`machine CPU busy per step (all processes, including other users'): ${busy.join(", ")}`);
  progress(`done; wrote ${path.relative(process.cwd(), path.join(RESULTS, "latest.json"))} and latest.md`);
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
