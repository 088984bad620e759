// Launching the gateway the way `npm start` does (or as the bench's prebuilt bundle), the dingtalk-stream
// SDK alone and an empty node, each with the probe preload; and pushing messages through a running
// gateway while tracing its memory (process.memoryUsage parts and, on Linux, where the RSS sits).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { epochMs, type Probe } from "../protocol.js";
import type { Exchange } from "./http-timing.js";
import { ROOT, hostFile } from "./paths.js";
import { processTree, readProcess, type TreeProcess } from "./proc-tree.js";
import { HostProc, killOnBenchExit } from "./procs.js";
import { residentParts, type ResidentParts } from "./smaps.js";
import { mb } from "./stats.js";
import { CLIENT_ID, CLIENT_SECRET, type BenchWorld } from "./world.js";

/**
 * What `npm start` runs (package.json "start", `node [flags] infra/launch.mjs functions/gateway.ts`),
 * without npm's own process in front: node's flags, the launcher and the entry.
 */
export const NPM_START = npmStartCommand();

function npmStartCommand(): { nodeFlags: string[]; script: string; entry: string } {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts?: { start?: string } };
  const words = (pkg.scripts?.start ?? "").trim().split(/\s+/);
  const script = words.findIndex((w) => w.endsWith("launch.mjs"));
  if (words[0] !== "node" || script < 0 || !words[script + 1]) throw new Error(`package.json "start" is not "node [flags] infra/launch.mjs <entry>": ${pkg.scripts?.start}`);
  return { nodeFlags: words.slice(1, script), script: words[script]!, entry: words[script + 1]! };
}

/**
 * npmStart: `node infra/launch.mjs functions/gateway.ts` (esbuild bundles our sources at each start,
 * then plain node imports the bundle); bundle: the same bundle prebuilt by the bench, imported
 * directly (no esbuild in the process); sdk: the dingtalk-stream SDK alone, prebuilt, plain node.
 */
export type LaunchKind = "npmStart" | "bundle" | "sdk";

export const REPLY_PATH = /\/robot\/sendBySession$/;
export const LLM_PATH = /\/chat\/completions$/;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const probeArgs = () => ["--expose-gc", "--import", pathToFileURL(hostFile("probe")).href];

/**
 * Starts one launch kind against the world. The gateway keeps its embedded store (LevelDB files) in
 * `dataDir` unless `env` points it at a table endpoint; `env` is added last (e.g. MALLOC_ARENA_MAX).
 */
export function launch(kind: LaunchKind, world: BenchWorld, dataDir: string, env: Record<string, string> = {}): HostProc {
  const gatewayEnv = { ...gatewayEnvFor(world, dataDir), ...env };
  switch (kind) {
    case "npmStart":
      return HostProc.start("gateway (npm start)", NPM_START.script, { nodeArgs: [...NPM_START.nodeFlags, ...probeArgs()], args: [NPM_START.entry], env: gatewayEnv, waitReady: false });
    case "bundle":
      return HostProc.start("gateway (prebuilt bundle)", hostFile("gateway"), { nodeArgs: [...NPM_START.nodeFlags, ...probeArgs()], env: gatewayEnv, waitReady: false });
    case "sdk": {
      const sdkEnv = { DINGTALK_API_BASE: world.dt.url, DINGTALK_CLIENT_ID: CLIENT_ID, DINGTALK_CLIENT_SECRET: CLIENT_SECRET, ...env };
      return HostProc.start("stream-sdk-only", hostFile("stream-floor"), { nodeArgs: probeArgs(), env: sdkEnv, waitReady: false });
    }
  }
}

function gatewayEnvFor(world: BenchWorld, dataDir: string): Record<string, string> {
  return { ...world.env, DINGCLAW_DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1" };
}

/**
 * `npm start` typed as is (npm, its shell, then node): Stream socket open time from spawning npm, and
 * every process of the tree with its RSS (from /proc) a second after the socket opened. npm's update
 * check is turned off (no network from the bench). Stops the tree by its pids.
 */
export async function npmStartOnce(world: BenchWorld, dataDir: string): Promise<{ connectMs: number; tree: TreeProcess[] }> {
  const before = streamOpened(world);
  const spawnedAt = epochMs();
  const child = spawn("npm", ["start"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_update_notifier: "false", ...gatewayEnvFor(world, dataDir) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  killOnBenchExit(child);
  const output: string[] = [];
  const keep = (c: Buffer) => output.push(...c.toString("utf8").split("\n").slice(0, 50));
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let tree: TreeProcess[] = [];
  try {
    await Promise.race([
      world.dt.stream.waitForConnection(CLIENT_ID, 30_000, { nth: before + 1 }),
      exited.then(() => Promise.reject(new Error(`npm start exited before the Stream socket opened:\n${output.slice(-20).join("\n")}`))),
    ]);
    const connectMs = epochMs() - spawnedAt;
    await sleep(1_000);
    tree = child.pid === undefined ? [] : await processTree(child.pid);
    return { connectMs, tree };
  } finally {
    if (!tree.length && child.pid !== undefined) tree = await processTree(child.pid);
    await stopTree(tree);
    await exited;
  }
}

/** SIGTERM to each process (deepest first), then SIGKILL to those still there after 10 s. */
async function stopTree(tree: TreeProcess[]): Promise<void> {
  for (const p of [...tree].reverse()) signal(p.pid, "SIGTERM");
  const deadline = Date.now() + 10_000;
  let left = tree;
  while (left.length && Date.now() < deadline) {
    await sleep(100);
    left = (await Promise.all(left.map(async (p) => ((await stillRunning(p)) ? [p] : [])))).flat();
  }
  for (const p of left) signal(p.pid, "SIGKILL");
}

/** True while the pid still belongs to that process (same command). */
async function stillRunning(p: TreeProcess): Promise<boolean> {
  const now = await readProcess(p.pid);
  return now !== undefined && !now.zombie && now.comm === p.comm;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** RSS of an empty plain-node program (with the probe), a second after it is up. */
export async function emptyNodeRss(): Promise<number> {
  const proc = HostProc.start("empty program", hostFile("idle"), { nodeArgs: probeArgs(), env: {} });
  try {
    await proc.ready;
    await sleep(1_000);
    return (await proc.probe()).probe.rss;
  } finally {
    await proc.stop();
  }
}

export function streamOpened(world: BenchWorld): number {
  return world.dt.stream.connections()[CLIENT_ID]?.opened ?? 0;
}

/** Pushes one message and resolves with its push → reply timestamps. */
export async function turn(world: BenchWorld, staffId: string, text: string, timeoutMs = 30_000): Promise<{ pushed: number; reply: Exchange }> {
  const { body, session } = world.message(staffId, text);
  const replied = world.timeline.next((e) => e.port === world.dt.port && REPLY_PATH.test(e.path) && e.url.includes(session), timeoutMs);
  const pushed = epochMs();
  world.dt.stream.push(CLIENT_ID, body);
  return { pushed, reply: await replied };
}

export function repliesSince(world: BenchWorld, from: number): number {
  return world.timeline.select(world.dt.port, REPLY_PATH, from).length;
}

/** One memory reading of a process, in MB; `parts` from /proc/<pid>/smaps (Linux). */
export interface MemoryPoint {
  messages: number;
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  parts?: { mallocMainMb: number; mallocThreadArenasMb: number; threadArenas: number; otherAnonMb: number; filesMb: number };
  /** Committed MB of V8's young generation (new + new large object space) and of all other spaces. */
  v8?: { youngCommittedMb: number; oldCommittedMb: number };
}

const partsMb = (p: ResidentParts) => ({
  mallocMainMb: mb(p.mallocMainKb * 1024),
  mallocThreadArenasMb: mb(p.mallocThreadArenasKb * 1024),
  threadArenas: p.threadArenas,
  otherAnonMb: mb(p.otherAnonKb * 1024),
  filesMb: mb(p.filesKb * 1024),
});

/** Reads a process's memory (after a full GC when `gc`), tagged with the number of messages so far. */
export async function memoryPoint(proc: HostProc, messages: number, gc = false): Promise<MemoryPoint> {
  const { probe } = await proc.probe(gc, true);
  const parts = await residentParts(proc.child.pid);
  return {
    messages,
    rssMb: mb(probe.rss),
    heapUsedMb: mb(probe.heapUsed),
    heapTotalMb: mb(probe.heapTotal),
    externalMb: mb(probe.external),
    arrayBuffersMb: mb(probe.arrayBuffers),
    ...(parts ? { parts: partsMb(parts) } : {}),
    ...(probe.spaces ? { v8: v8Committed(probe.spaces) } : {}),
  };
}

function v8Committed(spaces: NonNullable<Probe["spaces"]>): NonNullable<MemoryPoint["v8"]> {
  let young = 0;
  let old = 0;
  for (const [name, s] of Object.entries(spaces)) {
    if (name === "new_space" || name === "new_large_object_space") young += s.committed;
    else old += s.committed;
  }
  return { youngCommittedMb: mb(young), oldCommittedMb: mb(old) };
}

export interface PumpOptions {
  messages: number;
  inFlight: number;
  users: number;
  /** Read memory every this many answered messages. */
  every: number;
}

/** How long the pump waits for one reply: past the Stream double's 60 s redelivery of an un-ACKed frame. */
const PUMP_REPLY_WAIT_MS = 150_000;
/** Replies slower than this are counted (a frame left un-ACKed waits for DingTalk's redelivery). */
const SLOW_REPLY_MS = 30_000;

/**
 * Sends `messages` DMs from `users` users, at most `inFlight` awaiting their reply, and reads the
 * memory of each process in `watch` every `every` replies (messages from the readings' moment on
 * keep flowing). Returns the wall time, the readings per process, and the slowest push → reply
 * time with the number of replies slower than 30 s.
 */
export async function pumpMessages(
  world: BenchWorld,
  o: PumpOptions,
  watch: HostProc[],
): Promise<{ wallMs: number; traces: MemoryPoint[][]; slowestReplyMs: number; slowReplies: number }> {
  const traces: MemoryPoint[][] = watch.map(() => []);
  const start = epochMs();
  let sent = 0;
  let done = 0;
  let nextReading = o.every;
  let slowestReplyMs = 0;
  let slowReplies = 0;
  const pump = async () => {
    while (sent < o.messages) {
      const i = sent++;
      const { pushed, reply } = await turn(world, `mem${i % o.users}`, `消息 ${i}：今天天气怎么样？`, PUMP_REPLY_WAIT_MS);
      const ms = reply.start - pushed;
      slowestReplyMs = Math.max(slowestReplyMs, ms);
      if (ms > SLOW_REPLY_MS) slowReplies++;
      if (++done >= nextReading && done < o.messages) {
        nextReading += o.every;
        const at = done;
        const points = await Promise.all(watch.map((p) => memoryPoint(p, at)));
        points.forEach((p, k) => traces[k]!.push(p));
      }
    }
  };
  await Promise.all(Array.from({ length: o.inFlight }, pump));
  return { wallMs: epochMs() - start, traces, slowestReplyMs, slowReplies };
}
