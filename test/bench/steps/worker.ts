// Worker overhead and concurrency: the built worker bundle (dist/worker.cjs under plain node, FC event
// adapter) runs jobs against the DingTalk and LLM doubles and the dynalite process. Overhead is read
// from the doubles' own timestamps (LLM first token → first reply bytes vs the LLM's own time);
// concurrency is 50 jobs whose LLM calls each take 2 s, in one process: wall time and peak RSS; a tool
// round is a job whose model first calls find_colleague (the DingTalk double's contact APIs), against
// the two LLM calls' own time.
import path from "node:path";
import { IdempotencyStore } from "../../../functions/core/store/idempotency.js";
import { openTable, type Table } from "../../../functions/core/store/table.js";
import { epochMs, type InvokeResult } from "../protocol.js";
import type { Exchange } from "../lib/http-timing.js";
import { claimJob } from "../lib/jobs.js";
import { opCounts, opsPer, type OpCounts } from "../lib/table-ops.js";
import { DIST, hostFile } from "../lib/paths.js";
import { HostProc, cpuUs } from "../lib/procs.js";
import { mb, round, spread, type Spread } from "../lib/stats.js";
import { CLIENT_ID, startBenchWorld, type BenchWorld } from "../lib/world.js";
import { FC_CONTEXT, type StepContext } from "./context.js";

export interface WorkerOptions {
  /** Sequential messages for the overhead figures (after 3 warm-up ones); also the tool-round jobs. */
  overheadMessages: number;
  concurrent: number;
  llmDelayMs: number;
}

export interface WorkerFigures {
  options: WorkerOptions;
  overhead: {
    messages: number;
    /** LLM double's first response byte → the reply's request arriving at the DingTalk double. */
    firstTokenToReplyMs: Spread;
    /** The LLM's own time: first response byte → response end (streaming). */
    llmStreamMs: Spread;
    /** Reply arrival minus LLM response end: what the worker adds after the LLM. */
    afterLlmMs: Spread;
    /** Handler start → LLM request arrival: what the worker does before the LLM. */
    beforeLlmMs: Spread;
    /** Whole handler vs the LLM request's own duration. */
    handlerMs: Spread;
    llmRequestMs: Spread;
    /** Per job: handler minus its LLM request. */
    beyondLlmMs: Spread;
    cpuMsPerMessage: number;
    tableOpsPerMessage: OpCounts;
  };
  /** Jobs whose model calls find_colleague once, then answers. */
  toolRound: {
    messages: number;
    /** Whole handler of a tool turn. */
    handlerMs: Spread;
    /** The two LLM requests' own time, summed per job. */
    llmMs: Spread;
    /** Handler minus the LLM's own time: the tool round, the status line and everything else the worker does. */
    addedMs: Spread;
    /** The same for the plain turns of `overhead` (handler minus the one LLM request). */
    plainAddedMs: Spread;
    /** First LLM answer ends → second LLM request starts: the tool call itself (DingTalk contact APIs) and the status line. */
    betweenLlmMs: Spread;
    cpuMsPerMessage: number;
  };
  concurrency: {
    messages: number;
    /** First invoke sent → last handler done. */
    wallMs: number;
    /** First invoke sent → the last job's LLM request arrives (the work before the LLM, all jobs). */
    untilLastLlmRequestMs: number;
    /** The last LLM response ends → the last job is done (the work after the LLM, all jobs). */
    afterLastLlmMs: number;
    /** The LLM's own time per call (request arrival → response end). */
    llmMs: Spread;
    replies: number;
    failed: number;
    idleRssMb: number;
    peakRssMb: number;
    maxRssMb: number;
    /** Instance-busy time (FC bills this with instance concurrency) and the sum of handler durations. */
    busyMs: number;
    sumMs: number;
    cpuMsPerMessage: number;
    tableOpsPerMessage: OpCounts;
  };
}

export class WorkerHost {
  private readonly pending = new Map<number, (r: InvokeResult) => void>();
  private nextId = 1;
  constructor(readonly proc: HostProc) {
    proc.onInvoked = (r) => {
      this.pending.get(r.id)?.(r);
      this.pending.delete(r.id);
    };
  }

  invoke(event: string): Promise<InvokeResult> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.proc.send({ type: "invoke", id, event });
    });
  }
}

export async function startWorker(ctx: StepContext, world: BenchWorld): Promise<WorkerHost> {
  const proc = HostProc.start("worker", hostFile("fc-event"), {
    args: [path.join(DIST, "worker.cjs")],
    env: { ...world.env, ...ctx.tableEnv, BENCH_FC_CONTEXT: JSON.stringify({ ...FC_CONTEXT, function: { name: "worker" } }) },
  });
  await proc.ready;
  return new WorkerHost(proc);
}

function first(list: Exchange[]): Exchange | undefined {
  return list.sort((a, b) => a.start - b.start)[0];
}

export const REPLY = {
  text: "好的，这是今天会议的要点：\n\n1. **发布计划**：下周三上线新版本。\n2. **测试**：周一前完成回归测试。\n3. **文档**：更新用户手册和 FAQ。\n\n如需详细记录，请告诉我。",
  chunkSize: 8,
  chunkDelayMs: 2,
  delayMs: 30,
};

async function overhead(ctx: StepContext, world: BenchWorld, idem: IdempotencyStore, count: number): Promise<WorkerFigures["overhead"]> {
  world.llm.reset();
  world.llm.script({ ...REPLY, sticky: true });
  const worker = await startWorker(ctx, world);
  try {
    const rows: { reply: number; stream: number; after: number; before: number; handler: number; llm: number }[] = [];
    let cpu0 = 0;
    let ops0: OpCounts = {};
    for (let i = -3; i < count; i++) {
      if (i === 0) [cpu0, ops0] = [cpuUs((await worker.proc.probe()).probe), await opCounts(ctx.dynalite)];
      const { body, session } = world.message(`ovh${(i + 8) % 8}`, `第 ${i} 条：帮我总结一下今天的会议`);
      const result = await worker.invoke(await claimJob(idem, body, CLIENT_ID));
      if (!result.ok) throw worker.proc.failure(`failed a job: ${result.error}`);
      if (i < 0) continue;
      await new Promise((r) => setTimeout(r, 5));
      const llm = first(world.timeline.select(world.llm.port, /\/chat\/completions$/, result.startedAt, result.endedAt));
      const reply = first(world.timeline.select(world.dt.port, /\/robot\/sendBySession$/, result.startedAt, result.endedAt).filter((e) => e.url.includes(session)));
      if (!llm?.firstByte || !llm.finish || !reply) throw new Error(`message ${i}: missing LLM or reply timestamps`);
      rows.push({
        reply: reply.start - llm.firstByte,
        stream: llm.finish - llm.firstByte,
        after: reply.start - llm.finish,
        before: llm.start - result.startedAt,
        handler: result.endedAt - result.startedAt,
        llm: llm.finish - llm.start,
      });
    }
    const cpu1 = cpuUs((await worker.proc.probe()).probe);
    // each job's claim (made here, as the callback would) is one PutItem that is not the worker's
    const ops = opsPer(ops0, await opCounts(ctx.dynalite), rows.length);
    if (ops.PutItem) ops.PutItem = round(ops.PutItem - 1, 2);
    if (ops.PutItem === 0) delete ops.PutItem;
    const col = (k: keyof (typeof rows)[number]) => spread(rows.map((r) => r[k]), 1);
    const figures = {
      messages: rows.length,
      firstTokenToReplyMs: col("reply"),
      llmStreamMs: col("stream"),
      afterLlmMs: col("after"),
      beforeLlmMs: col("before"),
      handlerMs: col("handler"),
      llmRequestMs: col("llm"),
      beyondLlmMs: spread(rows.map((r) => r.handler - r.llm), 1),
      cpuMsPerMessage: round((cpu1 - cpu0) / 1000 / rows.length, 2),
      tableOpsPerMessage: ops,
    };
    ctx.progress(
      `  first token → reply p50 ${figures.firstTokenToReplyMs.p50} ms vs LLM streaming p50 ${figures.llmStreamMs.p50} ms; before the LLM p50 ${figures.beforeLlmMs.p50} ms`,
    );
    return figures;
  } finally {
    await worker.proc.stop();
  }
}

async function toolRound(ctx: StepContext, world: BenchWorld, idem: IdempotencyStore, count: number, plain: WorkerFigures["overhead"]): Promise<WorkerFigures["toolRound"]> {
  world.llm.reset();
  world.dt.contacts.addDepartment(10, "研发部").addUser({ userid: "zhangsan01", name: "张三", title: "高级工程师", deptIds: [10] });
  const worker = await startWorker(ctx, world);
  try {
    const rows: { handler: number; llm: number; between: number }[] = [];
    let cpu0 = 0;
    for (let i = -3; i < count; i++) {
      if (i === 0) cpu0 = cpuUs((await worker.proc.probe()).probe);
      world.llm.script({ toolCalls: [{ name: "find_colleague", arguments: { name: "张三" } }], delayMs: REPLY.delayMs }, { ...REPLY, text: "张三在研发部，是高级工程师。" });
      const { body } = world.message(`tool${(i + 8) % 8}`, `第 ${i} 条：张三是哪个部门的？`);
      const result = await worker.invoke(await claimJob(idem, body, CLIENT_ID));
      if (!result.ok) throw worker.proc.failure(`failed a tool job: ${result.error}`);
      if (i < 0) continue;
      await new Promise((r) => setTimeout(r, 5));
      const llm = world.timeline.select(world.llm.port, /\/chat\/completions$/, result.startedAt, result.endedAt).sort((a, b) => a.start - b.start);
      if (llm.length !== 2 || !llm[0]!.finish || !llm[1]!.finish) throw new Error(`tool job ${i}: expected two LLM calls, saw ${llm.length}`);
      const own = llm[0]!.finish - llm[0]!.start + (llm[1]!.finish - llm[1]!.start);
      rows.push({ handler: result.endedAt - result.startedAt, llm: own, between: llm[1]!.start - llm[0]!.finish });
    }
    const cpu1 = cpuUs((await worker.proc.probe()).probe);
    const figures = {
      messages: rows.length,
      handlerMs: spread(rows.map((r) => r.handler), 1),
      llmMs: spread(rows.map((r) => r.llm), 1),
      addedMs: spread(rows.map((r) => r.handler - r.llm), 1),
      plainAddedMs: plain.beyondLlmMs,
      betweenLlmMs: spread(rows.map((r) => r.between), 1),
      cpuMsPerMessage: round((cpu1 - cpu0) / 1000 / rows.length, 2),
    };
    ctx.progress(`  tool turn: handler p50 ${figures.handlerMs.p50} ms, the LLM's own ${figures.llmMs.p50} ms, tool call between the LLM calls p50 ${figures.betweenLlmMs.p50} ms`);
    return figures;
  } finally {
    await worker.proc.stop();
  }
}

async function concurrency(ctx: StepContext, world: BenchWorld, idem: IdempotencyStore, o: WorkerOptions): Promise<WorkerFigures["concurrency"]> {
  world.llm.reset();
  const worker = await startWorker(ctx, world);
  try {
    // A busy instance has served jobs before a burst: 20 warm-up jobs, 10 at once, load its lazy code
    // and let the JIT settle, so the burst measures the work of 50 jobs rather than a cold process's.
    world.llm.script({ text: "预热", sticky: true });
    for (let batch = 0; batch < 2; batch++) {
      const warmJobs = await Promise.all(Array.from({ length: 10 }, (_, i) => claimJob(idem, world.message(`conc-warm${batch}-${i}`, "预热").body, CLIENT_ID)));
      for (const warm of await Promise.all(warmJobs.map((e) => worker.invoke(e))))
        if (!warm.ok) throw worker.proc.failure(`failed a warm-up job: ${warm.error}`);
    }
    world.llm.reset();
    world.llm.script({ text: "收到，这是我的回答。", delayMs: o.llmDelayMs, sticky: true });
    const messages = Array.from({ length: o.concurrent }, (_, i) => world.message(`conc${i}`, `并发消息 ${i}`));
    const events = await Promise.all(messages.map((m) => claimJob(idem, m.body, CLIENT_ID)));
    worker.proc.send({ type: "peak-reset" });
    worker.proc.send({ type: "busy-reset" });
    const before = await worker.proc.probe();
    const ops0 = await opCounts(ctx.dynalite);
    const sentBefore = world.dt.sent().length;
    const t0 = epochMs();
    const results = await Promise.all(events.map((e) => worker.invoke(e)));
    const after = await worker.proc.probe();
    const ops = opsPer(ops0, await opCounts(ctx.dynalite), o.concurrent);
    const end = Math.max(...results.map((r) => r.endedAt));
    const llm = world.timeline.select(world.llm.port, /\/chat\/completions$/, t0).filter((e) => e.finish);
    const figures = {
      messages: o.concurrent,
      wallMs: round(end - t0, 0),
      untilLastLlmRequestMs: round(Math.max(...llm.map((e) => e.start)) - t0, 0),
      afterLastLlmMs: round(end - Math.max(...llm.map((e) => e.finish!)), 0),
      llmMs: spread(llm.map((e) => e.finish! - e.start), 0),
      replies: world.dt.sent().length - sentBefore,
      failed: results.filter((r) => !r.ok).length,
      idleRssMb: mb(before.probe.rss),
      peakRssMb: mb(after.probe.peakRss),
      maxRssMb: mb(after.probe.maxRss),
      busyMs: round(after.busy?.busyMs ?? Number.NaN, 0),
      sumMs: round(after.busy?.sumMs ?? Number.NaN, 0),
      cpuMsPerMessage: round((cpuUs(after.probe) - cpuUs(before.probe)) / 1000 / o.concurrent, 2),
      tableOpsPerMessage: ops,
    };
    ctx.progress(`  ${o.concurrent} jobs × ${o.llmDelayMs} ms LLM: ${figures.wallMs} ms wall, peak RSS ${figures.peakRssMb} MB, ${figures.replies} replies`);
    return figures;
  } finally {
    await worker.proc.stop();
  }
}

export async function benchWorker(ctx: StepContext, o: WorkerOptions): Promise<WorkerFigures> {
  const world = await startBenchWorld();
  let table: Table | undefined;
  try {
    table = await openTable({ endpoint: ctx.tableEnv.DINGCLAW_TABLE_ENDPOINT, name: ctx.tableEnv.DINGCLAW_TABLE_NAME, dataDir: "", region: "local" }, { env: {} });
    const idem = new IdempotencyStore(table);
    ctx.progress(`worker: overhead over ${o.overheadMessages} sequential messages (LLM double streams ~${REPLY.text.length} chars)`);
    const oh = await overhead(ctx, world, idem, o.overheadMessages);
    ctx.progress(`worker: ${o.overheadMessages} turns with one tool round (find_colleague), one at a time`);
    const tools = await toolRound(ctx, world, idem, o.overheadMessages, oh);
    ctx.progress(`worker: ${o.concurrent} messages at once, each LLM call ${o.llmDelayMs} ms, one process`);
    const conc = await concurrency(ctx, world, idem, o);
    return { options: o, overhead: oh, toolRound: tools, concurrency: conc };
  } finally {
    await table?.close();
    await world.close();
  }
}
