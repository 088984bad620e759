// Where the gateway's RSS growth under load comes from (not part of `npm run bench`; run with
// `npx tsx test/bench/memory-growth.ts [--messages 3000] [--every 250] [--variants embedded,remote]`).
// Runs the gateway as `npm start` does, pushes messages and reads its memory in steps: the JS heap
// parts and, on Linux, glibc malloc arenas vs other anonymous memory. Variants: the embedded store
// (LevelDB in the process, as `npm start` runs) or a dynalite in another process (the gateway holds no
// table; dynalite's in-memory store, or LevelDB files as embedded), some also with MALLOC_ARENA_MAX=2. After the messages: 3 s and a full GC, then `--idle-s`
// seconds of idle. Writes test/bench/results/memory-growth.json.
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { buildGatewayForNode, buildHosts } from "./lib/build.js";
import { launch, memoryPoint, pumpMessages, sleep, streamOpened, type MemoryPoint } from "./lib/gateway-run.js";
import { RESULTS, hostFile } from "./lib/paths.js";
import { HostProc } from "./lib/procs.js";
import { mb } from "./lib/stats.js";
import { CLIENT_ID, startBenchWorld } from "./lib/world.js";

/** remote: "memory" (dynalite's in-memory store) or "leveldb" (LevelDB files, as the embedded store keeps them). */
const VARIANTS = {
  embedded: { remote: undefined, env: {} },
  remote: { remote: "memory", env: {} },
  "remote-leveldb": { remote: "leveldb", env: {} },
  "embedded-arena2": { remote: undefined, env: { MALLOC_ARENA_MAX: "2" } },
  "remote-arena2": { remote: "memory", env: { MALLOC_ARENA_MAX: "2" } },
} as const;
type Variant = keyof typeof VARIANTS;

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "3000" },
    every: { type: "string", default: "250" },
    "idle-s": { type: "string", default: "30" },
    variants: { type: "string", default: Object.keys(VARIANTS).join(",") },
  },
});
const messages = Number(values.messages);
const every = Number(values.every);
const idleS = Number(values["idle-s"]);
const variants = values.variants.split(",").map((v) => v.trim());
for (const v of variants)
  if (!(v in VARIANTS)) {
    console.error(`memory-growth: unknown variant "${v}" (variants: ${Object.keys(VARIANTS).join(", ")})`);
    process.exit(2);
  }
if (!(messages > 0 && every > 0)) {
  console.error("memory-growth: --messages and --every must be positive numbers");
  process.exit(2);
}

interface VariantResult {
  variant: Variant;
  messagesPerSecond: number;
  /** Size of the LevelDB files at the end (0 with dynalite's in-memory store). */
  tableFilesMb: number;
  gateway: MemoryPoint[];
  /** The dynalite process, for the remote variants. */
  table?: MemoryPoint[];
}

function fmt(p: MemoryPoint): string {
  const parts = p.parts
    ? ` | malloc main ${p.parts.mallocMainMb}, ${p.parts.threadArenas} thread arenas ${p.parts.mallocThreadArenasMb}, other anon ${p.parts.otherAnonMb}, files ${p.parts.filesMb}`
    : "";
  const v8 = p.v8 ? ` (young ${p.v8.youngCommittedMb}, other ${p.v8.oldCommittedMb})` : "";
  const label = Number.isNaN(p.messages) ? "3 s, GC" : p.messages === Number.POSITIVE_INFINITY ? `+${idleS} s idle` : String(p.messages);
  return `${label.padStart(10)}: rss ${p.rssMb} | heap used ${p.heapUsedMb} of ${p.heapTotalMb}${v8} ext ${p.externalMb} ab ${p.arrayBuffersMb}${parts}`;
}

async function dirBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  let sum = 0;
  for (const e of entries) sum += e.isDirectory() ? await dirBytes(path.join(dir, e.name)) : (await stat(path.join(dir, e.name))).size;
  return sum;
}

async function runVariant(variant: Variant): Promise<VariantResult> {
  const spec = VARIANTS[variant];
  const world = await startBenchWorld();
  const dataDir = await mkdtemp(path.join(tmpdir(), "dingclaw-memory-"));
  let table: HostProc | undefined;
  let gateway: HostProc | undefined;
  try {
    const env: Record<string, string> = { ...spec.env };
    if (spec.remote) {
      const tableEnv = { DINGCLAW_TABLE_NAME: "dingclaw", ...(spec.remote === "leveldb" ? { DINGCLAW_BENCH_TABLE_DIR: path.join(dataDir, "table") } : {}) };
      table = HostProc.start("dynalite", hostFile("dynalite"), { nodeArgs: ["--expose-gc"], env: tableEnv });
      const ready = await table.ready;
      env.DINGCLAW_TABLE_ENDPOINT = `http://127.0.0.1:${ready.port}`;
      env.DINGCLAW_TABLE_NAME = "dingclaw";
    }
    const before = streamOpened(world);
    gateway = launch("npmStart", world, dataDir, env);
    await world.dt.stream.waitForConnection(CLIENT_ID, 30_000, { nth: before + 1 });
    await sleep(2_000);
    const watch = table ? [gateway, table] : [gateway];
    const idle = await Promise.all(watch.map((p) => memoryPoint(p, 0)));
    const { wallMs, traces } = await pumpMessages(world, { messages, inFlight: 20, users: 100, every }, watch);
    const last = await Promise.all(watch.map((p) => memoryPoint(p, messages)));
    await sleep(3_000);
    const settled = await Promise.all(watch.map((p) => memoryPoint(p, Number.NaN, true)));
    await sleep(idleS * 1000);
    const later = await Promise.all(watch.map((p) => memoryPoint(p, Number.POSITIVE_INFINITY)));
    const series = watch.map((_, k) => [idle[k]!, ...traces[k]!, last[k]!, settled[k]!, later[k]!]);
    const tableFilesMb = mb(await dirBytes(path.join(dataDir, "table")));
    return { variant, messagesPerSecond: Math.round(messages / (wallMs / 1000)), tableFilesMb, gateway: series[0]!, ...(table ? { table: series[1]! } : {}) };
  } finally {
    await gateway?.stop();
    await table?.stop();
    await world.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await buildHosts();
  await buildGatewayForNode();
  const results: VariantResult[] = [];
  for (const v of variants as Variant[]) {
    console.log(`\n${v}: ${messages} messages, memory every ${every} (MB)`);
    const r = await runVariant(v);
    results.push(r);
    console.log(`gateway (${r.messagesPerSecond} msg/s; LevelDB files at the end ${r.tableFilesMb} MB):`);
    for (const p of r.gateway) console.log(fmt(p));
    if (r.table) {
      console.log("dynalite process:");
      for (const p of r.table) console.log(fmt(p));
    }
  }
  const file = path.join(RESULTS, "memory-growth.json");
  await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), messages, every, results }, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

main().catch((err: unknown) => {
  console.error(`memory-growth failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
