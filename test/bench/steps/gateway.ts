// The gateway as `npm start` runs it (`node infra/launch.mjs functions/gateway.ts`: esbuild bundles our
// sources at start, plain node runs them; embedded store on disk; Stream mode) against the in-process
// doubles: Stream socket open time and RSS after start against the dingtalk-stream SDK alone under
// plain node (and the same bundle prebuilt, and `npm start` typed with npm in front), RSS along 1,000
// messages and after idling, added time per turn on top of the LLM's own time, and 50 DMs at once with
// a 2 s LLM. CPU and memory are probed from inside (--import probe); where the RSS sits, from /proc.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { epochMs } from "../protocol.js";
import {
  LLM_PATH,
  NPM_START,
  REPLY_PATH,
  emptyNodeRss,
  launch,
  memoryPoint,
  npmStartOnce,
  pumpMessages,
  repliesSince,
  sleep,
  streamOpened,
  turn,
  type LaunchKind,
  type MemoryPoint,
} from "../lib/gateway-run.js";
import type { HostProc } from "../lib/procs.js";
import { cpuUs } from "../lib/procs.js";
import { mb, median, round, spread, type Spread } from "../lib/stats.js";
import { CLIENT_ID, startBenchWorld, type BenchWorld } from "../lib/world.js";
import type { StepContext } from "./context.js";

/** Between a reply and the next push when turns are measured one at a time. */
const TURN_GAP_MS = 100;

export interface GatewayOptions {
  connectRuns: number;
  turns: number;
  messages: number;
  inFlight: number;
  burst: number;
  burstLlmMs: number;
  /** Seconds to leave the gateway idle after the messages before reading its RSS once more. */
  idleAfterS: number;
}

/** One way of launching: connect time (spawn → socket open at the double) and RSS once connected. */
export interface Launch {
  connectMs: number;
  rssMb: number;
  raw: number[];
}

export interface GatewayFigures {
  options: GatewayOptions;
  launch: {
    /** `node infra/launch.mjs functions/gateway.ts`, what `npm start` runs. */
    npmStart: Launch;
    /** The same bundle prebuilt by the bench, imported by plain node (no esbuild in the process). */
    bundle: Launch;
    /** The dingtalk-stream SDK alone, prebuilt, plain node: the baseline. */
    sdk: Launch;
    emptyNodeRssMb: number;
    /** `npm start` typed as is: npm, its shell and node (socket open from spawning npm; RSS from /proc). */
    npmTyped: { connectMs: number; raw: number[]; totalRssMb: number; processes: { comm: string; rssMb: number }[] } | undefined;
  };
  memory: {
    /** The kept npm-start gateway, connected, before any message. */
    idle: MemoryPoint;
    /** After the turns and the burst, after a full GC, right before the messages. */
    beforeLoad: MemoryPoint;
    /** Along the messages (every tenth of them) and right after the last reply. */
    trace: MemoryPoint[];
    /** 3 s after the last reply, after a full GC. */
    settled: MemoryPoint;
    /** `idleAfterS` later, no GC forced. */
    later: MemoryPoint;
    growthMb: number;
    maxRssMb: number;
    messages: number;
    replies: number;
    messagesPerSecond: number;
    /** Slowest push → reply, and replies slower than 30 s (an un-ACKed frame waits for redelivery). */
    slowestReplyMs: number;
    slowReplies: number;
    cpuMsPerMessage: number;
  };
  turn: {
    firstTurnAddedMs: number;
    /** Push → reply arrival, minus the LLM's own time (its request arrival → response end); each push 100 ms after the last reply. */
    addedMs: Spread;
    llmMs: Spread;
    pushToReplyMs: Spread;
    /** The same with each push right as the last reply arrives (the previous turn's writes still going). */
    backToBackAddedMs: Spread;
  };
  burst: {
    messages: number;
    llmMs: number;
    wallMs: number;
    replies: number;
    /** First push → the first and the last LLM request; the last LLM answer → the last reply. */
    firstLlmRequestMs: number;
    lastLlmRequestMs: number;
    afterLastLlmMs: number;
  };
}

async function connectTime(world: BenchWorld, proc: HostProc, before: number): Promise<number> {
  await world.dt.stream.waitForConnection(CLIENT_ID, 30_000, { nth: before + 1 });
  return epochMs() - proc.spawnedAt;
}

/** Starts a launch kind, times its Stream connection, reads its RSS a second later; stops it unless `keep`. */
async function launchOnce(kind: LaunchKind, world: BenchWorld, dataDir: string, keep: boolean): Promise<{ ms: number; rss: number; proc: HostProc }> {
  const before = streamOpened(world);
  const proc = launch(kind, world, dataDir);
  try {
    const ms = await connectTime(world, proc, before);
    await sleep(1_000);
    const rss = (await proc.probe()).probe.rss;
    if (!keep) await proc.stop();
    return { ms, rss, proc };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

async function measureLaunches(world: BenchWorld, dataDir: string, o: GatewayOptions, ctx: StepContext): Promise<{ launched: GatewayFigures["launch"]; kept: HostProc }> {
  const samples: Record<LaunchKind, { ms: number[]; rss: number[] }> = { sdk: { ms: [], rss: [] }, bundle: { ms: [], rss: [] }, npmStart: { ms: [], rss: [] } };
  const typed: { ms: number[]; totals: number[]; processes: { comm: string; rssMb: number }[] } = { ms: [], totals: [], processes: [] };
  let kept: HostProc | undefined;
  for (let i = 0; i < o.connectRuns; i++) {
    for (const kind of ["sdk", "bundle", "npmStart"] as const) {
      const keep = i === o.connectRuns - 1 && kind === "npmStart";
      if (keep) {
        const run = await npmStartOnce(world, `${dataDir}-npm`);
        typed.ms.push(run.connectMs);
        typed.totals.push(run.tree.reduce((sum, p) => sum + p.rssKb * 1024, 0));
        typed.processes = run.tree.map((p) => ({ comm: p.comm, rssMb: mb(p.rssKb * 1024) }));
      }
      const run = await launchOnce(kind, world, kind === "bundle" ? `${dataDir}-bundle` : dataDir, keep);
      samples[kind].ms.push(run.ms);
      samples[kind].rss.push(run.rss);
      if (keep) kept = run.proc;
    }
  }
  const summary = (k: LaunchKind): Launch => ({ connectMs: round(median(samples[k].ms), 0), rssMb: mb(median(samples[k].rss)), raw: samples[k].ms.map((ms) => round(ms, 0)) });
  const launched = {
    npmStart: summary("npmStart"),
    bundle: summary("bundle"),
    sdk: summary("sdk"),
    emptyNodeRssMb: mb(await emptyNodeRss()),
    npmTyped: typed.ms.length
      ? { connectMs: round(median(typed.ms), 0), raw: typed.ms.map((ms) => round(ms, 0)), totalRssMb: mb(median(typed.totals)), processes: typed.processes }
      : undefined,
  };
  ctx.progress(
    `  npm start's command: ${launched.npmStart.connectMs} ms, ${launched.npmStart.rssMb} MB; prebuilt bundle ${launched.bundle.connectMs} ms, ${launched.bundle.rssMb} MB; SDK alone ${launched.sdk.connectMs} ms, ${launched.sdk.rssMb} MB; empty node ${launched.emptyNodeRssMb} MB`,
  );
  if (launched.npmTyped)
    ctx.progress(`  npm start typed: ${launched.npmTyped.connectMs} ms; ${launched.npmTyped.totalRssMb} MB in ${launched.npmTyped.processes.map((p) => `${p.comm} ${p.rssMb}`).join(" + ")}`);
  return { launched, kept: kept! };
}

export async function benchGateway(ctx: StepContext, o: GatewayOptions): Promise<GatewayFigures> {
  const world = await startBenchWorld();
  const dataDir = await mkdtemp(path.join(tmpdir(), "dingclaw-bench-"));
  let gw: HostProc | undefined;
  try {
    ctx.progress(
      `gateway: Stream socket open time and RSS after start, ${o.connectRuns} runs of: the dingtalk-stream SDK alone (plain node), the gateway prebuilt (plain node) and npm start's command (${["node", ...NPM_START.nodeFlags, NPM_START.script, NPM_START.entry].join(" ")}); once npm start as typed`,
    );
    const { launched, kept } = await measureLaunches(world, dataDir, o, ctx);
    gw = kept;
    const gateway = kept;
    await gateway.waitForLine((l) => l.includes("dingtalk: Listening for messages"), 10_000).catch(() => 0);
    await sleep(1_000);
    const idle = await memoryPoint(gateway, 0);

    ctx.progress(`gateway: ${o.turns} turns back to back, then ${o.turns} turns ${TURN_GAP_MS} ms apart (LLM answers in ~30 ms)`);
    world.llm.reset();
    world.llm.script({ text: "好的，这是今天会议的要点：发布计划、测试和文档。", delayMs: 30, sticky: true });
    const measureTurns = async (gapMs: number, from: number) => {
      const turns: { added: number; llm: number; total: number }[] = [];
      for (let i = from; i < from + o.turns; i++) {
        const { pushed, reply } = await turn(world, `turn${i % 5}`, `第 ${i} 轮：帮我总结一下`);
        const llm = world.timeline.select(world.llm.port, LLM_PATH, pushed, reply.start).find((e) => e.finish);
        if (!llm?.finish) throw new Error(`turn ${i}: no LLM call between the push and the reply`);
        const total = reply.start - pushed;
        turns.push({ added: total - (llm.finish - llm.start), llm: llm.finish - llm.start, total });
        if (gapMs > 0) await sleep(gapMs);
      }
      return turns;
    };
    const backToBack = await measureTurns(0, 0);
    // A person's next message comes seconds after the reply: with a pause the turn's own writes after
    // the reply (completion, counts) are done before the next push, as they are between real turns.
    const apart = await measureTurns(TURN_GAP_MS, o.turns);
    const turnFigures = {
      firstTurnAddedMs: round(backToBack[0]!.added, 1),
      addedMs: spread(apart.map((t) => t.added), 1),
      llmMs: spread(apart.map((t) => t.llm), 1),
      pushToReplyMs: spread(apart.map((t) => t.total), 1),
      backToBackAddedMs: spread(backToBack.slice(1).map((t) => t.added), 1),
    };
    ctx.progress(
      `  added per turn p50 ${turnFigures.addedMs.p50} ms ${TURN_GAP_MS} ms apart, ${turnFigures.backToBackAddedMs.p50} ms back to back (first turn ${turnFigures.firstTurnAddedMs} ms)`,
    );

    ctx.progress(`gateway: ${o.burst} DMs at once, each LLM call ${o.burstLlmMs} ms`);
    world.llm.reset();
    world.llm.script({ text: "收到，这是我的回答。", delayMs: o.burstLlmMs, sticky: true });
    const burstStart = epochMs();
    for (let i = 0; i < o.burst; i++) world.dt.stream.push(CLIENT_ID, world.message(`burst${i}`, `同时到达 ${i}`).body);
    await world.timeline.until(() => repliesSince(world, burstStart) >= o.burst, 60_000);
    const lastReply = Math.max(...world.timeline.select(world.dt.port, REPLY_PATH, burstStart).map((e) => e.start));
    const llmCalls = world.timeline.select(world.llm.port, LLM_PATH, burstStart, lastReply);
    const burst = {
      messages: o.burst,
      llmMs: o.burstLlmMs,
      wallMs: round(lastReply - burstStart, 0),
      replies: repliesSince(world, burstStart),
      firstLlmRequestMs: round(Math.min(...llmCalls.map((e) => e.start)) - burstStart, 0),
      lastLlmRequestMs: round(Math.max(...llmCalls.map((e) => e.start)) - burstStart, 0),
      afterLastLlmMs: round(lastReply - Math.max(...llmCalls.map((e) => e.finish ?? e.start)), 0),
    };
    ctx.progress(
      `  all ${burst.replies} answered ${burst.wallMs} ms after the first push; LLM requests from +${burst.firstLlmRequestMs} to +${burst.lastLlmRequestMs} ms, last reply ${burst.afterLastLlmMs} ms after the last LLM answer`,
    );

    ctx.progress(`gateway: ${o.messages} messages (${o.inFlight} in flight at most, 100 users), memory every ${o.messages / 10}, then ${o.idleAfterS} s idle`);
    world.llm.reset();
    await sleep(1_000);
    const beforeLoad = await memoryPoint(gateway, 0, true);
    const cpuBefore = cpuUs((await gateway.probe()).probe);
    const loadStart = epochMs();
    const { wallMs, traces, slowestReplyMs, slowReplies } = await pumpMessages(
      world,
      { messages: o.messages, inFlight: o.inFlight, users: 100, every: Math.max(1, Math.floor(o.messages / 10)) },
      [gateway],
    );
    const cpuAfter = cpuUs((await gateway.probe()).probe);
    const afterLoad = await memoryPoint(gateway, o.messages);
    const replies = repliesSince(world, loadStart);
    await sleep(3_000);
    const settled = await memoryPoint(gateway, o.messages, true);
    await sleep(o.idleAfterS * 1000);
    const later = await memoryPoint(gateway, o.messages);
    const memory = {
      idle,
      beforeLoad,
      trace: [...traces[0]!, afterLoad],
      settled,
      later,
      growthMb: round(settled.rssMb - idle.rssMb, 1),
      maxRssMb: mb((await gateway.probe()).probe.maxRss),
      messages: o.messages,
      replies,
      messagesPerSecond: round(o.messages / (wallMs / 1000), 0),
      slowestReplyMs: round(slowestReplyMs, 0),
      slowReplies,
      cpuMsPerMessage: round((cpuAfter - cpuBefore) / 1000 / o.messages, 2),
    };
    ctx.progress(
      `  RSS idle ${idle.rssMb} MB → ${settled.rssMb} MB 3 s after ${o.messages} messages (${memory.messagesPerSecond} msg/s) → ${later.rssMb} MB after ${o.idleAfterS} s idle; V8 heap committed ${idle.heapTotalMb} → ${settled.heapTotalMb} → ${later.heapTotalMb} MB, used after GC ${beforeLoad.heapUsedMb} → ${settled.heapUsedMb} MB`,
    );
    return { options: o, launch: launched, memory, turn: turnFigures, burst };
  } finally {
    await gw?.stop();
    await world.close();
    for (const dir of [dataDir, `${dataDir}-bundle`, `${dataDir}-npm`]) await rm(dir, { recursive: true, force: true });
  }
}
