// The table's own ceiling: the callback's claim write (same item shape and condition) through the item
// layer the functions use (openTable), at a fixed concurrency; with `dispatchUrl`, each write is followed
// by one bare keep-alive POST of a job-sized body to that FC endpoint (node:http, nothing else): the two
// requests any claim-then-dispatch makes, with no code around them.
// Each `run` message answers `done` with the wall time, per-write latencies and this process's CPU.
import { randomUUID } from "node:crypto";
import { Agent, request } from "node:http";
import { absent } from "../../../functions/core/store/items.js";
import { openTable, type Table } from "../../../functions/core/store/table.js";
import { exitOnSigterm, serveProbes, toParent } from "./ipc.js";

const endpoint = process.env.DINGCLAW_TABLE_ENDPOINT ?? "";
const name = process.env.DINGCLAW_TABLE_NAME ?? "dingclaw";
const table: Table = await openTable({ endpoint, name, dataDir: "", region: "local" }, { env: {} });
const items = table.items();

function claimPut(key: string): Promise<boolean> {
  const now = Date.now();
  const fields = {
    status: "IN_PROGRESS",
    token: randomUUID(),
    attempt: 1,
    leaseUntil: now + 180_000,
    sent: false,
    expiresAt: Math.floor(now / 1000) + 86_400,
    updatedAt: now,
  };
  return items.put({ pk: `msg#${key}`, sk: "msg" }, fields, { if: absent });
}

const agent = new Agent({ keepAlive: true });
const JOB_PAD = "帮我总结一下今天的会议要点".repeat(15);

function post(url: string, key: string): Promise<void> {
  const body = JSON.stringify({ v: 1, body: { msgId: key, pad: JOB_PAD }, claim: { key, token: randomUUID() }, receivedAt: Date.now() });
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/2016-08-15/services/bench/functions/worker/invocations`,
      { method: "POST", agent, headers: { "content-type": "application/octet-stream", "content-length": Buffer.byteLength(body), "x-fc-invocation-type": "Async" } },
      (res) => {
        res.resume();
        res.once("end", () => (res.statusCode === 202 ? resolve() : reject(new Error(`dispatch answered ${res.statusCode}`))));
      },
    );
    req.once("error", reject);
    req.end(body);
  });
}

async function run(id: number, args: Record<string, unknown>): Promise<void> {
  const count = Number(args.count);
  const dispatchUrl = typeof args.dispatchUrl === "string" ? args.dispatchUrl : undefined;
  const concurrency = Number(args.concurrency);
  const prefix = String(args.prefix);
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const lane = async () => {
    while (next < count) {
      const key = `${prefix}:${next++}`;
      const began = performance.now();
      try {
        await claimPut(key);
        if (dispatchUrl) await post(dispatchUrl, key);
        latencies.push(performance.now() - began);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const durationMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  toParent({ type: "done", id, data: { durationMs, latencies, errors, cpuUs: cpu.user + cpu.system } });
}

exitOnSigterm();
serveProbes({
  onMessage: (message) => {
    if (message.type === "run") void run(message.id, message.args);
  },
});
toParent({ type: "ready", info: {} });
