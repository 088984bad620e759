// Table requests and their time per answered message on both backends: the same sequential messages
// (the callback's claim, then the built worker bundle for that backend, as in the worker step) against
// the bench's dynalite process (DynamoDB API) and the Tablestore double in its own process, counted and
// timed by the table servers themselves; Tablestore's capacity units by the double's documented rules.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { buildBundle } from "../../../infra/bundle.js";
import type { TableKind } from "../../../functions/core/store/kind.js";
import { IdempotencyStore } from "../../../functions/core/store/idempotency.js";
import { openTable, type TableConfig } from "../../../functions/core/store/table.js";
import { claimJob } from "../lib/jobs.js";
import { DIST, HOSTS_OUT, ROOT, hostFile } from "../lib/paths.js";
import { HostProc, cpuUs } from "../lib/procs.js";
import { round, spread, type Spread } from "../lib/stats.js";
import { totalOps, type OpCounts } from "../lib/table-ops.js";
import { CLIENT_ID, startBenchWorld, type BenchWorld } from "../lib/world.js";
import { FC_CONTEXT, type StepContext } from "./context.js";
import { REPLY, WorkerHost } from "./worker.js";

export interface BackendFigures {
  kind: TableKind;
  messages: number;
  /** Per message: the callback's claim and the worker's job, by operation. */
  requestsPerMessage: OpCounts;
  requests: number;
  /** Per message, the table server's own time (request arrival → response end), summed over its requests. */
  tableMsPerMessage: number;
  /** Mean server time per table request. */
  msPerRequest: number;
  /** Whole worker job (handler start → end). */
  jobMs: Spread;
  workerCpuMsPerMessage: number;
  /** Tablestore only: capacity units per message (read, write). */
  cuPerMessage?: { read: number; write: number };
}

export interface TablesFigures {
  dynamodb: BackendFigures;
  tablestore: BackendFigures;
}

interface TableStats {
  counts: Record<string, number>;
  ms: Record<string, number>;
  cu?: { read: number; write: number };
}

const TABLESTORE_KEY = { accessKeyId: "LTAI-bench-machine", accessKeySecret: "bench-machine-secret" };
const NAME = "dingclaw";

async function stats(table: HostProc): Promise<TableStats> {
  return (await table.run({ stats: true })) as unknown as TableStats;
}

function diff(a: Record<string, number>, b: Record<string, number>, per: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) {
    const d = (v - (a[k] ?? 0)) / per;
    if (d > 0) out[k] = round(d, 2);
  }
  return out;
}

async function measure(ctx: StepContext, world: BenchWorld, kind: TableKind, table: HostProc, cfg: TableConfig, env: Record<string, string>, bundle: string, count: number): Promise<BackendFigures> {
  const opened = await openTable(cfg, { env: { ...env, ...TABLESTORE_KEY_ENV } });
  const idem = new IdempotencyStore(opened);
  const proc = HostProc.start(`worker (${kind})`, hostFile("fc-event"), {
    args: [bundle],
    env: { ...world.env, ...env, BENCH_FC_CONTEXT: JSON.stringify({ ...FC_CONTEXT, function: { name: "worker" } }) },
  });
  const worker = new WorkerHost(proc);
  try {
    await proc.ready;
    world.llm.reset();
    world.llm.script({ ...REPLY, sticky: true });
    const jobs: number[] = [];
    let s0: TableStats | undefined;
    let cpu0 = 0;
    for (let i = -3; i < count; i++) {
      if (i === 0) [s0, cpu0] = [await stats(table), cpuUs((await proc.probe()).probe)];
      const { body } = world.message(`tbl${kind}${(i + 8) % 8}`, `第 ${i} 条：帮我总结一下今天的会议`);
      const result = await worker.invoke(await claimJob(idem, body, CLIENT_ID));
      if (!result.ok) throw proc.failure(`failed a job: ${result.error}`);
      if (i >= 0) jobs.push(result.endedAt - result.startedAt);
    }
    const s1 = await stats(table);
    const cpu1 = cpuUs((await proc.probe()).probe);
    const requestsPerMessage = diff(s0!.counts, s1.counts, count);
    const requests = totalOps(requestsPerMessage);
    const tableMsPerMessage = round(Object.values(diff(s0!.ms, s1.ms, count)).reduce((a, b) => a + b, 0), 2);
    const figures: BackendFigures = {
      kind,
      messages: count,
      requestsPerMessage,
      requests,
      tableMsPerMessage,
      msPerRequest: round(tableMsPerMessage / requests, 3),
      jobMs: spread(jobs, 1),
      workerCpuMsPerMessage: round((cpu1 - cpu0) / 1000 / count, 2),
      ...(s0!.cu && s1.cu ? { cuPerMessage: { read: round((s1.cu.read - s0!.cu.read) / count, 2), write: round((s1.cu.write - s0!.cu.write) / count, 2) } } : {}),
    };
    ctx.progress(
      `  ${kind}: ${requests} table requests/message (${Object.entries(requestsPerMessage).map(([k, v]) => `${k} ${v}`).join(", ")}), ${figures.tableMsPerMessage} ms of table time/message; job p50 ${figures.jobMs.p50} ms${figures.cuPerMessage ? `; ${figures.cuPerMessage.read} read + ${figures.cuPerMessage.write} write CU/message` : ""}`,
    );
    return figures;
  } finally {
    await proc.stop();
    await opened.close();
  }
}

const TABLESTORE_KEY_ENV = { ALIBABA_CLOUD_ACCESS_KEY_ID: TABLESTORE_KEY.accessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: TABLESTORE_KEY.accessKeySecret };

/** The worker bundle for Tablestore, built as deploy builds it for a Tablestore table. */
async function tablestoreWorker(): Promise<string> {
  const bundle = await buildBundle({ name: "worker", entry: "functions/worker.ts", handler: "index.handler", table: "tablestore" }, ROOT);
  const file = path.join(HOSTS_OUT, "worker-tablestore.cjs");
  await writeFile(file, bundle.code);
  return file;
}

export async function benchTables(ctx: StepContext, count: number): Promise<TablesFigures> {
  ctx.progress(`tables: ${count} messages one at a time on each backend (the callback's claim + the worker's job), requests and time counted by the table servers`);
  const world = await startBenchWorld();
  const ts = HostProc.start("tablestore double", hostFile("tablestore"), {
    env: { ...TABLESTORE_KEY_ENV, BENCH_ROLE_KEY: JSON.stringify(FC_CONTEXT.credentials), DINGCLAW_TABLE_NAME: NAME, DINGCLAW_TABLE_INSTANCE: "dingclaw" },
  });
  try {
    const ready = await ts.ready;
    const dynamoCfg: TableConfig = { endpoint: ctx.tableEnv.DINGCLAW_TABLE_ENDPOINT, name: NAME, dataDir: "", region: "local" };
    const dynamodb = await measure(ctx, world, "dynamodb", ctx.dynalite, dynamoCfg, ctx.tableEnv, path.join(DIST, "worker.cjs"), count);
    const tsUrl = `http://127.0.0.1:${ready.port}`;
    const tsEnv = { DINGCLAW_TABLE_KIND: "tablestore", DINGCLAW_TABLE_ENDPOINT: tsUrl, DINGCLAW_TABLE_INSTANCE: "dingclaw", DINGCLAW_TABLE_NAME: NAME };
    const tsCfg: TableConfig = { kind: "tablestore", instance: "dingclaw", endpoint: tsUrl, name: NAME, dataDir: "", region: "cn-hangzhou" };
    const tablestore = await measure(ctx, world, "tablestore", ts, tsCfg, tsEnv, await tablestoreWorker(), count);
    return { dynamodb, tablestore };
  } finally {
    await ts.stop();
    await world.close();
  }
}
