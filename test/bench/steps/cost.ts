// Function Compute cost from the measured durations: GB-seconds per 1,000 messages for each function
// at its serverless.yml memory size, billed per invocation (no instance concurrency: every
// invocation's own duration) or per instance-busy time (instance concurrency: the time at least one
// invocation was running), as FC 2.0 bills them; and the monthly bill of a company bot (1,000 messages a
// day) on FC with each table backend, from the measured requests and lib/prices.ts.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ROOT } from "../lib/paths.js";
import { round } from "../lib/stats.js";
import { CNY_PER_USD, DYNAMODB, FC, POLARDB, TABLESTORE } from "../lib/prices.js";
import type { CallbackFigures } from "./callback.js";
import type { TablesFigures } from "./tables.js";
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

/** A company bot: 1,000 messages a day, every day of a 30-day month. */
export const SCENARIO = { messagesPerDay: 1000, days: 30, llmSeconds: 10 };

export interface MonthlyCost {
  messages: number;
  fc: { usdPerMessage: number; callbackUsd: number; workerUsd: number; usdPerMonth: number; basis: string };
  tablestore: { cnyPerMonth: number; cuPerMessage: { read: number; write: number } };
  dynamodb: { usdPerMonth: number; writesPerMessage: number; readsPerMessage: number };
  polardb: { usdPerMonth: number };
  cnyPerUsd: number;
}

const WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"]);

/**
 * The monthly bill of the SCENARIO from what the bench measured (table requests and Tablestore CUs per
 * message, the callback's and the worker's own time) and the unit prices in lib/prices.ts. The worker
 * is billed for the LLM's time too (it waits on it); at 1,000 messages a day jobs rarely overlap, so
 * no instance concurrency is counted.
 */
export async function monthlyCost(tables: TablesFigures, cb: CallbackFigures | undefined, w: WorkerFigures | undefined): Promise<MonthlyCost> {
  const messages = SCENARIO.messagesPerDay * SCENARIO.days;
  const cuPerSecond = (memoryMb: number) => (memoryMb / 1024) * (FC.gbSecondCu.value + FC.vcpuPerGb.value * FC.vcpuSecondCu.value);
  const callbackS = (cb?.callbackSequential.handlerMsPerRequest ?? 5) / 1000;
  const workerS = SCENARIO.llmSeconds + (w ? w.overhead.beyondLlmMs.p50 / 1000 : 0.1);
  const callbackUsd = (callbackS * cuPerSecond(await memorySize("callback")) + FC.invocationCu.value) * FC.perCu.value;
  const workerUsd = (workerS * cuPerSecond(await memorySize("worker")) + FC.invocationCu.value) * FC.perCu.value;
  const t = tables.tablestore.cuPerMessage ?? { read: Number.NaN, write: Number.NaN };
  const d = tables.dynamodb.requestsPerMessage;
  const writes = Object.entries(d).reduce((a, [k, v]) => a + (WRITES.has(k) ? v : 0), 0);
  const reads = Object.entries(d).reduce((a, [k, v]) => a + (WRITES.has(k) ? 0 : v), 0);
  return {
    messages,
    fc: {
      usdPerMessage: callbackUsd + workerUsd,
      callbackUsd,
      workerUsd,
      usdPerMonth: round((callbackUsd + workerUsd) * messages, 2),
      basis: `callback ${round(callbackS * 1000, 1)} ms, worker ${SCENARIO.llmSeconds} s LLM + ${round((workerS - SCENARIO.llmSeconds) * 1000, 0)} ms of its own, one invocation each`,
    },
    tablestore: { cnyPerMonth: round(((t.read * TABLESTORE.readPer10k.value + t.write * TABLESTORE.writePer10k.value) / 10_000) * messages, 3), cuPerMessage: t },
    dynamodb: {
      usdPerMonth: round(((writes * DYNAMODB.writePerMillion.value + reads * DYNAMODB.readPerMillion.value) / 1_000_000) * messages, 3),
      writesPerMessage: round(writes, 2),
      readsPerMessage: round(reads, 2),
    },
    polardb: { usdPerMonth: round(POLARDB.nodeHour.value * 24 * SCENARIO.days, 2) },
    cnyPerUsd: CNY_PER_USD.value,
  };
}
