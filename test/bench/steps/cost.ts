// Function Compute cost from the measured durations: GB-seconds per 1,000 messages for each function
// at its serverless.yml memory size, billed per invocation (no instance concurrency: every
// invocation's own duration) or per instance-busy time (instance concurrency: the time at least one
// invocation was running), as FC 2.0 bills them. Prices are left out: multiply by the region's GB-s price.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ROOT } from "../lib/paths.js";
import { round } from "../lib/stats.js";
import type { CallbackFigures } from "./callback.js";
import type { WorkerFigures } from "./worker.js";

export interface FunctionCost {
  memoryMb: number;
  /** Seconds billed per message. */
  withoutConcurrencyS: number;
  withConcurrencyS: number;
  gbSecondsPer1000Without: number;
  gbSecondsPer1000With: number;
  basis: string;
}

export interface CostFigures {
  callback: FunctionCost;
  worker: FunctionCost;
  totalPer1000Without: number;
  totalPer1000With: number;
}

/** memorySize of a function in serverless.yml (the simple layout this repository uses). */
export async function memorySize(fn: string): Promise<number> {
  const yml = await readFile(path.join(ROOT, "serverless.yml"), "utf8");
  const block = yml.split(/\n(?= {2}\w[\w-]*:\s*\n)/).find((b) => b.startsWith(`  ${fn}:`));
  const m = block?.match(/\n\s+memorySize:\s*(\d+)/);
  if (!m) throw new Error(`serverless.yml: no memorySize for function "${fn}"`);
  return Number(m[1]);
}

function cost(memoryMb: number, withoutS: number, withS: number, basis: string): FunctionCost {
  const gb = memoryMb / 1024;
  return {
    memoryMb,
    withoutConcurrencyS: round(withoutS, 4),
    withConcurrencyS: round(withS, 4),
    gbSecondsPer1000Without: round(gb * withoutS * 1000, 2),
    gbSecondsPer1000With: round(gb * withS * 1000, 2),
    basis,
  };
}

export async function computeCost(cb: CallbackFigures, w: WorkerFigures): Promise<CostFigures> {
  const c = w.concurrency;
  // Callback requests are short and mostly arrive one at a time, so both are the mean handler time of
  // the one-connection run; bursts can only lower the figure with concurrency. (The loaded run's
  // durations are dominated by queueing in dynalite, which would overstate either side.)
  const callbackS = cb.callbackSequential.handlerMsPerRequest / 1000;
  const callback = cost(await memorySize("callback"), callbackS, callbackS, "mean handler time, one request at a time");
  const worker = cost(
    await memorySize("worker"),
    c.sumMs / c.messages / 1000,
    c.busyMs / c.messages / 1000,
    `${c.messages} messages at once in one instance, each LLM call ${w.options.llmDelayMs} ms`,
  );
  return {
    callback,
    worker,
    totalPer1000Without: round(callback.gbSecondsPer1000Without + worker.gbSecondsPer1000Without, 2),
    totalPer1000With: round(callback.gbSecondsPer1000With + worker.gbSecondsPer1000With, 2),
  };
}
