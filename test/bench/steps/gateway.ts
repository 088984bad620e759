// The gateway as `npm start` runs it (node + tsx, functions/gateway.ts, embedded store on disk, Stream
// mode) against the in-process doubles: Stream socket open time and RSS after start (against the bare
// SDK launched the same way, and both again as plain-node modules to separate the loader's share),
// RSS after 1,000 messages, added time per turn on top of the LLM's own time (first reply included),
// and 50 DMs at once with a 2 s LLM. CPU and memory are probed from inside (--import probe).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { epochMs } from "../protocol.js";
import type { Exchange } from "../lib/http-timing.js";
import { hostFile } from "../lib/paths.js";
import { HostProc, cpuUs } from "../lib/procs.js";
import { mb, median, round, spread, type Spread } from "../lib/stats.js";
import { CLIENT_ID, CLIENT_SECRET, startBenchWorld, type BenchWorld } from "../lib/world.js";
import type { StepContext } from "./context.js";

export interface GatewayOptions {
  connectRuns: number;
  turns: number;
  messages: number;
  inFlight: number;
  burst: number;
  burstLlmMs: number;
}

/** One way of launching: connect time (spawn → socket open at the double) and RSS once connected. */
export interface Launch {
  connectMs: number;
  rssMb: number;
  raw: number[];
}

export interface GatewayFigures {
  options: GatewayOptions;
  /** `npm start` (node + tsx) and the SDK alone the same way; then both as plain-node modules. */
  launch: { gatewayTsx: Launch; sdkTsx: Launch; gatewayNode: Launch; sdkNode: Launch; emptyTsxRssMb: number; emptyNodeRssMb: number };
  memory: {
    idleRssMb: number;
    idleHeapMb: number;
    afterLoadRssMb: number;
    settledRssMb: number;
    growthMb: number;
    heapAfterGcIdleMb: number;
    heapAfterGcMb: number;
    maxRssMb: number;
    messages: number;
    trace: { messages: number; rssMb: number }[];
    replies: number;
    messagesPerSecond: number;
    cpuMsPerMessage: number;
  };
  turn: {
    firstTurnAddedMs: number;
    /** Push → reply arrival, minus the LLM's own time (its request arrival → response end). */
    addedMs: Spread;
    llmMs: Spread;
    pushToReplyMs: Spread;
  };
  burst: { messages: number; llmMs: number; wallMs: number; replies: number };
}

const REPLY_PATH = /\/robot\/sendBySession$/;
const LLM_PATH = /\/chat\/completions$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function opened(world: BenchWorld): number {
  return world.dt.stream.connections()[CLIENT_ID]?.opened ?? 0;
}

async function connectTime(world: BenchWorld, proc: HostProc, before: number): Promise<number> {
  await world.dt.stream.waitForConnection(CLIENT_ID, 30_000, { nth: before + 1 });
  return epochMs() - proc.spawnedAt;
}

const PROBE = () => pathToFileURL(hostFile("probe")).href;
const TSX = ["--import", "tsx"];

type Variant = "gatewayTsx" | "sdkTsx" | "gatewayNode" | "sdkNode";

function launch(variant: Variant, world: BenchWorld, dataDir: string): HostProc {
  const gatewayEnv = { ...world.env, DINGCLAW_DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1" };
  const sdkEnv = { DINGTALK_API_BASE: world.dt.url, DINGTALK_CLIENT_ID: CLIENT_ID, DINGTALK_CLIENT_SECRET: CLIENT_SECRET };
  const probe = ["--import", PROBE()];
  switch (variant) {
    case "gatewayTsx":
      return HostProc.start("gateway", "functions/gateway.ts", { nodeArgs: ["--expose-gc", ...TSX, ...probe], env: gatewayEnv, waitReady: false });
    case "gatewayNode":
      return HostProc.start("gateway (node)", hostFile("gateway"), { nodeArgs: probe, env: gatewayEnv, waitReady: false });
    case "sdkTsx":
      return HostProc.start("stream-sdk-only", "test/bench/hosts/stream-floor.ts", { nodeArgs: [...TSX, ...probe], env: sdkEnv, waitReady: false });
    case "sdkNode":
      return HostProc.start("stream-sdk-only (node)", hostFile("stream-floor"), { nodeArgs: probe, env: sdkEnv, waitReady: false });
  }
}

/** Starts a variant, times its Stream connection, reads its RSS a second later; stops it unless `keep`. */
async function launchOnce(variant: Variant, world: BenchWorld, dataDir: string, keep: boolean): Promise<{ ms: number; rss: number; proc: HostProc }> {
  const before = opened(world);
  const proc = launch(variant, world, dataDir);
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

async function emptyRss(nodeArgs: string[], script: string): Promise<number> {
  const proc = HostProc.start("empty program", script, { nodeArgs: [...nodeArgs, "--import", PROBE()], env: {} });
  try {
    await proc.ready;
    await sleep(1_000);
    return (await proc.probe()).probe.rss;
  } finally {
    await proc.stop();
  }
}

/** Pushes one message and resolves with its push → reply timestamps. */
async function turn(world: BenchWorld, staffId: string, text: string): Promise<{ pushed: number; reply: Exchange }> {
  const { body, session } = world.message(staffId, text);
  const replied = world.timeline.next((e) => e.port === world.dt.port && REPLY_PATH.test(e.path) && e.url.includes(session), 30_000);
  const pushed = epochMs();
  world.dt.stream.push(CLIENT_ID, body);
  return { pushed, reply: await replied };
}

function repliesSince(world: BenchWorld, from: number): number {
  return world.timeline.select(world.dt.port, REPLY_PATH, from).length;
}

export async function benchGateway(ctx: StepContext, o: GatewayOptions): Promise<GatewayFigures> {
  const world = await startBenchWorld();
  const dataDir = await mkdtemp(path.join(tmpdir(), "dingclaw-bench-"));
  let gw: HostProc | undefined;
  try {
    ctx.progress(`gateway: Stream socket open time and RSS after start, ${o.connectRuns} runs of: the dingtalk-stream SDK alone and the gateway, under node + tsx (npm start) and as plain-node modules`);
    const samples: Record<Variant, { ms: number[]; rss: number[] }> = {
      sdkTsx: { ms: [], rss: [] },
      gatewayTsx: { ms: [], rss: [] },
      sdkNode: { ms: [], rss: [] },
      gatewayNode: { ms: [], rss: [] },
    };
    for (let i = 0; i < o.connectRuns; i++) {
      for (const variant of ["sdkTsx", "sdkNode", "gatewayNode", "gatewayTsx"] as const) {
        const last = i === o.connectRuns - 1 && variant === "gatewayTsx";
        const run = await launchOnce(variant, world, variant === "gatewayNode" ? `${dataDir}-node` : dataDir, last);
        samples[variant].ms.push(run.ms);
        samples[variant].rss.push(run.rss);
        if (last) gw = run.proc;
      }
    }
    const summary = (v: Variant): Launch => ({ connectMs: round(median(samples[v].ms), 0), rssMb: mb(median(samples[v].rss)), raw: samples[v].ms.map((ms) => round(ms, 0)) });
    const launched = {
      gatewayTsx: summary("gatewayTsx"),
      sdkTsx: summary("sdkTsx"),
      gatewayNode: summary("gatewayNode"),
      sdkNode: summary("sdkNode"),
      emptyTsxRssMb: mb(await emptyRss(TSX, "test/bench/hosts/idle.ts")),
      emptyNodeRssMb: mb(await emptyRss([], hostFile("idle"))),
    };
    ctx.progress(
      `  npm start: ${launched.gatewayTsx.connectMs} ms, ${launched.gatewayTsx.rssMb} MB (SDK alone ${launched.sdkTsx.connectMs} ms, ${launched.sdkTsx.rssMb} MB); plain node: ${launched.gatewayNode.connectMs} ms, ${launched.gatewayNode.rssMb} MB (SDK alone ${launched.sdkNode.connectMs} ms, ${launched.sdkNode.rssMb} MB)`,
    );
    const gateway = gw!;
    await gateway.waitForLine((l) => l.includes("dingtalk: Listening for messages"), 10_000).catch(() => 0);
    await sleep(1_000);
    const idle = await gateway.probe();

    ctx.progress(`gateway: ${o.turns} turns one after another (LLM answers in ~30 ms)`);
    world.llm.reset();
    world.llm.script({ text: "好的，这是今天会议的要点：发布计划、测试和文档。", delayMs: 30, sticky: true });
    const turns: { added: number; llm: number; total: number }[] = [];
    for (let i = 0; i < o.turns; i++) {
      const { pushed, reply } = await turn(world, `turn${i % 5}`, `第 ${i} 轮：帮我总结一下`);
      const llm = world.timeline.select(world.llm.port, LLM_PATH, pushed, reply.start).find((e) => e.finish);
      if (!llm?.finish) throw new Error(`turn ${i}: no LLM call between the push and the reply`);
      const total = reply.start - pushed;
      turns.push({ added: total - (llm.finish - llm.start), llm: llm.finish - llm.start, total });
    }
    const turn0 = turns[0]!;
    const rest = turns.slice(1);
    const turnFigures = {
      firstTurnAddedMs: round(turn0.added, 1),
      addedMs: spread(rest.map((t) => t.added), 1),
      llmMs: spread(rest.map((t) => t.llm), 1),
      pushToReplyMs: spread(rest.map((t) => t.total), 1),
    };
    ctx.progress(`  added per turn p50 ${turnFigures.addedMs.p50} ms (first turn ${turnFigures.firstTurnAddedMs} ms)`);

    ctx.progress(`gateway: ${o.burst} DMs at once, each LLM call ${o.burstLlmMs} ms`);
    world.llm.reset();
    world.llm.script({ text: "收到，这是我的回答。", delayMs: o.burstLlmMs, sticky: true });
    const burstStart = epochMs();
    for (let i = 0; i < o.burst; i++) world.dt.stream.push(CLIENT_ID, world.message(`burst${i}`, `同时到达 ${i}`).body);
    await world.timeline.until(() => repliesSince(world, burstStart) >= o.burst, 60_000);
    const lastReply = Math.max(...world.timeline.select(world.dt.port, REPLY_PATH, burstStart).map((e) => e.start));
    const burst = { messages: o.burst, llmMs: o.burstLlmMs, wallMs: round(lastReply - burstStart, 0), replies: repliesSince(world, burstStart) };
    ctx.progress(`  all ${burst.replies} answered ${burst.wallMs} ms after the first push`);

    ctx.progress(`gateway: ${o.messages} messages (${o.inFlight} in flight at most, 100 users), then RSS`);
    world.llm.reset();
    await sleep(1_000);
    const heapIdle = await gateway.probe(true);
    const loadStart = epochMs();
    let sent = 0;
    let done = 0;
    const trace: { messages: number; rssMb: number }[] = [];
    const every = Math.max(1, Math.floor(o.messages / 4));
    const pump = async () => {
      while (sent < o.messages) {
        const i = sent++;
        await turn(world, `mem${i % 100}`, `消息 ${i}：今天天气怎么样？`);
        if (++done % every === 0 && done < o.messages) trace.push({ messages: done, rssMb: mb((await gateway.probe()).probe.rss) });
      }
    };
    await Promise.all(Array.from({ length: o.inFlight }, pump));
    const loadMs = epochMs() - loadStart;
    const afterLoad = await gateway.probe();
    await sleep(3_000);
    const settled = await gateway.probe();
    const heapAfter = await gateway.probe(true);
    const memory = {
      idleRssMb: mb(idle.probe.rss),
      idleHeapMb: mb(idle.probe.heapUsed),
      afterLoadRssMb: mb(afterLoad.probe.rss),
      settledRssMb: mb(settled.probe.rss),
      growthMb: round(mb(settled.probe.rss) - mb(idle.probe.rss), 1),
      heapAfterGcIdleMb: mb(heapIdle.probe.heapUsed),
      heapAfterGcMb: mb(heapAfter.probe.heapUsed),
      maxRssMb: mb(heapAfter.probe.maxRss),
      messages: o.messages,
      /** RSS while the messages were going through (every quarter). */
      trace: [...trace, { messages: o.messages, rssMb: mb(afterLoad.probe.rss) }],
      replies: repliesSince(world, loadStart),
      messagesPerSecond: round(o.messages / (loadMs / 1000), 0),
      cpuMsPerMessage: round((cpuUs(afterLoad.probe) - cpuUs(heapIdle.probe)) / 1000 / o.messages, 2),
    };
    ctx.progress(`  idle ${memory.idleRssMb} MB → ${memory.settledRssMb} MB after ${o.messages} messages (${memory.messagesPerSecond} msg/s)`);
    return { options: o, launch: launched, memory, turn: turnFigures, burst };
  } finally {
    await gw?.stop();
    await world.close();
    await rm(dataDir, { recursive: true, force: true });
    await rm(`${dataDir}-node`, { recursive: true, force: true });
  }
}
