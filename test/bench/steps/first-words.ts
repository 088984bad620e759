// Time to the first visible words with AI cards on: from the message's arrival (the worker's job start;
// the gateway's Stream push) to the first streamed card content reaching the DingTalk double, minus the
// LLM's own time to its first token (request arrival → first content event), one message at a time.
// Also when the card was created against the LLM request (created while it is in flight, or before it).
// The worker runs the built bundle (dist/worker.cjs) like the worker step; the gateway runs as npm start.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { epochMs } from "../protocol.js";
import { launch, sleep, streamOpened } from "../lib/gateway-run.js";
import type { Exchange } from "../lib/http-timing.js";
import { claimJob } from "../lib/jobs.js";
import { spread, type Spread } from "../lib/stats.js";
import { CLIENT_ID, startBenchWorld, type BenchWorld } from "../lib/world.js";
import { IdempotencyStore } from "../../../functions/core/store/idempotency.js";
import { openTable } from "../../../functions/core/store/table.js";
import type { StepContext } from "./context.js";
import { startWorker } from "./worker.js";

export interface FirstWordsOptions {
  /** Messages per host, after 2 warm-up ones. */
  messages: number;
  /** The LLM double's time to its first byte. */
  ttftMs: number;
}

export interface FirstWords {
  messages: number;
  /** Arrival → first card content, minus the LLM's time to its first token. */
  addedMs: Spread;
  /** Arrival → first card content. */
  firstContentMs: Spread;
  /** The LLM's own time to its first token (request arrival → first content event). */
  llmFirstTokenMs: Spread;
  /** Arrival → the LLM request. */
  beforeLlmMs: Spread;
  /** The LLM's first token → the first card content. */
  afterFirstTokenMs: Spread;
  /** Card creation request minus the LLM request (negative: the card was created before the LLM was asked). */
  createVsLlmMs: Spread;
}

export interface FirstWordsFigures {
  options: FirstWordsOptions;
  worker: FirstWords;
  gateway: FirstWords;
}

const CREATE = /\/v1\.0\/card\/instances\/createAndDeliver$/;
const STREAM = /\/v1\.0\/card\/streaming$/;
const LLM = /\/chat\/completions$/;
const ANSWER = "好的，这是今天会议的要点：发布计划下周三上线，周一前完成回归测试，更新用户手册和常见问题。如需详细记录，请告诉我。";

interface Sample {
  arrival: number;
  llm: Exchange;
  create: Exchange;
  stream: Exchange;
}

function firstOf(list: Exchange[]): Exchange | undefined {
  return [...list].sort((a, b) => a.start - b.start)[0];
}

/** The exchanges of one message, from its arrival to `until`. */
function sampleOf(world: BenchWorld, arrival: number, until = Infinity): Sample | undefined {
  const llm = firstOf(world.timeline.select(world.llm.port, LLM, arrival, until));
  const create = firstOf(world.timeline.select(world.dt.port, CREATE, arrival, until));
  const stream = firstOf(world.timeline.select(world.dt.port, STREAM, arrival, until));
  if (!llm || llm.writes.length < 2 || !create || !stream) return undefined;
  return { arrival, llm, create, stream };
}

function figures(samples: Sample[]): FirstWords {
  const col = (f: (s: Sample) => number) => spread(samples.map(f), 1);
  const firstToken = (s: Sample) => s.llm.writes[1]! - s.llm.start;
  return {
    messages: samples.length,
    addedMs: col((s) => s.stream.start - s.arrival - firstToken(s)),
    firstContentMs: col((s) => s.stream.start - s.arrival),
    llmFirstTokenMs: col(firstToken),
    beforeLlmMs: col((s) => s.llm.start - s.arrival),
    afterFirstTokenMs: col((s) => s.stream.start - s.llm.writes[1]!),
    createVsLlmMs: col((s) => s.create.start - s.llm.start),
  };
}

async function workerSamples(ctx: StepContext, world: BenchWorld, count: number): Promise<Sample[]> {
  const table = await openTable({ endpoint: ctx.tableEnv.DINGCLAW_TABLE_ENDPOINT, name: ctx.tableEnv.DINGCLAW_TABLE_NAME, dataDir: "", region: "local" }, { env: {} });
  const worker = await startWorker(ctx, world);
  try {
    const idem = new IdempotencyStore(table);
    const samples: Sample[] = [];
    for (let i = -2; i < count; i++) {
      const result = await worker.invoke(await claimJob(idem, world.message(`words${(i + 8) % 8}`, `第 ${i} 条：帮我总结一下今天的会议`).body, CLIENT_ID));
      if (!result.ok) throw worker.proc.failure(`failed a card job: ${result.error}`);
      await sleep(5);
      if (i < 0) continue;
      const sample = sampleOf(world, result.startedAt, result.endedAt);
      if (!sample) throw new Error(`card job ${i}: no LLM stream, card creation or card update seen`);
      samples.push(sample);
    }
    return samples;
  } finally {
    await worker.proc.stop();
    await table.close();
  }
}

async function gatewaySamples(world: BenchWorld, count: number): Promise<Sample[]> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "dingclaw-bench-words-"));
  const before = streamOpened(world);
  const gateway = launch("npmStart", world, dataDir);
  try {
    await world.dt.stream.waitForConnection(CLIENT_ID, 30_000, { nth: before + 1 });
    await gateway.waitForLine((l) => l.includes("dingtalk: Listening for messages"), 10_000).catch(() => 0);
    const samples: Sample[] = [];
    for (let i = -2; i < count; i++) {
      const finished = world.dt.cards().filter((c) => c.status === "finished").length;
      const arrival = epochMs();
      world.dt.stream.push(CLIENT_ID, world.message(`gwords${(i + 8) % 8}`, `第 ${i} 轮：帮我总结一下`).body);
      const deadline = Date.now() + 30_000;
      while (world.dt.cards().filter((c) => c.status === "finished").length <= finished) {
        if (Date.now() > deadline) throw gateway.failure(`card turn ${i}: no finished card within 30 s`);
        await sleep(10);
      }
      if (i < 0) continue;
      const sample = sampleOf(world, arrival);
      if (!sample) throw new Error(`card turn ${i}: no LLM stream, card creation or card update seen`);
      samples.push(sample);
    }
    return samples;
  } finally {
    await gateway.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function benchFirstWords(ctx: StepContext, o: FirstWordsOptions): Promise<FirstWordsFigures> {
  const world = await startBenchWorld({}, { cards: true });
  try {
    world.llm.script({ text: ANSWER, chunkSize: 6, chunkDelayMs: 15, delayMs: o.ttftMs, sticky: true });
    ctx.progress(`first visible words (AI cards on): ${o.messages} messages one at a time on the worker, then on the gateway; LLM first byte after ${o.ttftMs} ms`);
    const worker = figures(await workerSamples(ctx, world, o.messages));
    ctx.progress(`  worker: arrival → first card content minus the LLM's first token p50 ${worker.addedMs.p50} ms (card created ${worker.createVsLlmMs.p50} ms after the LLM request)`);
    world.timeline.clear();
    const gateway = figures(await gatewaySamples(world, o.messages));
    ctx.progress(`  gateway: push → first card content minus the LLM's first token p50 ${gateway.addedMs.p50} ms (card created ${gateway.createVsLlmMs.p50} ms after the LLM request)`);
    return { options: o, worker, gateway };
  } finally {
    await world.close();
  }
}
