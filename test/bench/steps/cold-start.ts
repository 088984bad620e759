// Callback cold start: a fresh `node` process requiring the built callback bundle and answering its
// first (valid, signed) request, against the same for a bundle holding only @aws-sdk/client-dynamodb
// that does the one conditional PutItem any claim needs; runs alternate, medians reported.
import path from "node:path";
import { callbackBody, signedHeaders } from "../../helpers/messages.js";
import { epochMs } from "../protocol.js";
import { DIST, HOSTS_OUT, hostFile } from "../lib/paths.js";
import { HostProc, cpuUs } from "../lib/procs.js";
import { startRecorder } from "../lib/recorder.js";
import { median, round } from "../lib/stats.js";
import { CLIENT_ID, CLIENT_SECRET } from "../lib/world.js";
import { callbackEnv, type StepContext } from "./context.js";

export interface ColdRun {
  /** Spawn → first response received, ms. */
  totalMs: number;
  /** Spawn → listening (node start + require of the bundle), ms. */
  readyMs: number;
  /** require() of the bundle, measured inside the process, ms. */
  requireMs: number;
  /** The first request, sent once ready, ms. */
  firstRequestMs: number;
  /** CPU time of the whole process up to the first answer, ms. */
  cpuMs: number;
  /** RSS after the first answer, MB. */
  rssMb: number;
}

export interface ColdStartFigures {
  runs: number;
  callback: ColdRun;
  sdkOnly: ColdRun;
  raw: { callback: ColdRun[]; sdkOnly: ColdRun[] };
}

async function once(name: string, bundle: string, env: Record<string, string>): Promise<ColdRun> {
  const host = HostProc.start(name, hostFile("fc-http"), { args: [bundle], env });
  try {
    const ready = await host.ready;
    const sent = epochMs();
    const res = await fetch(`http://127.0.0.1:${ready.port}/`, {
      method: "POST",
      headers: signedHeaders(CLIENT_SECRET),
      body: JSON.stringify(callbackBody({ robotCode: CLIENT_ID })),
    });
    await res.text();
    const answered = epochMs();
    if (res.status !== 200) throw host.failure(`answered its first request with ${res.status}`);
    const { probe } = await host.probe();
    return {
      totalMs: answered - host.spawnedAt,
      readyMs: ready.at - host.spawnedAt,
      requireMs: ready.info.requireMs ?? Number.NaN,
      firstRequestMs: answered - sent,
      cpuMs: cpuUs(probe) / 1000,
      rssMb: probe.rss / (1024 * 1024),
    };
  } finally {
    await host.stop();
  }
}

function medians(runs: ColdRun[]): ColdRun {
  const pick = (k: keyof ColdRun) => round(median(runs.map((r) => r[k])), 1);
  return {
    totalMs: pick("totalMs"),
    readyMs: pick("readyMs"),
    requireMs: pick("requireMs"),
    firstRequestMs: pick("firstRequestMs"),
    cpuMs: pick("cpuMs"),
    rssMb: pick("rssMb"),
  };
}

export async function benchColdStart(ctx: StepContext, runs: number): Promise<ColdStartFigures> {
  const recorder = await startRecorder();
  try {
    const env = callbackEnv(ctx, recorder.url);
    const raw: ColdStartFigures["raw"] = { callback: [], sdkOnly: [] };
    for (let i = 0; i < runs; i++) {
      raw.callback.push(await once("callback (cold)", path.join(DIST, "callback.cjs"), env));
      raw.sdkOnly.push(await once("sdk-only (cold)", path.join(HOSTS_OUT, "sdk-only.cjs"), env));
    }
    const figures = { runs, callback: medians(raw.callback), sdkOnly: medians(raw.sdkOnly), raw };
    ctx.progress(`  callback: ${figures.callback.totalMs} ms to the first answer; SDK only: ${figures.sdkOnly.totalMs} ms`);
    if (recorder.invocations !== runs) ctx.progress(`  WARNING: ${recorder.invocations} dispatches for ${runs} cold callbacks`);
    return figures;
  } finally {
    await recorder.close();
  }
}
