// The table's own ceiling: raw conditional PutItems (the callback's claim write, same item shape and
// condition) through the same DynamoDB client the functions use (openTable), at a fixed concurrency.
// Each `run` message answers `done` with the wall time, per-write latencies and this process's CPU.
import { randomUUID } from "node:crypto";
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import { openTable, type Table } from "../../../functions/core/store/table.js";
import { exitOnSigterm, serveProbes, toParent } from "./ipc.js";

const endpoint = process.env.DINGCLAW_TABLE_ENDPOINT ?? "";
const name = process.env.DINGCLAW_TABLE_NAME ?? "dingclaw";
const table: Table = await openTable({ endpoint, name, dataDir: "", region: "local" }, { env: {} });

function claimPut(key: string): PutItemCommand {
  const now = Date.now();
  const nowS = Math.floor(now / 1000);
  return new PutItemCommand({
    TableName: table.name,
    Item: {
      pk: { S: `msg#${key}` },
      sk: { S: "msg" },
      status: { S: "IN_PROGRESS" },
      token: { S: randomUUID() },
      attempt: { N: "1" },
      leaseUntil: { N: String(now + 180_000) },
      sent: { BOOL: false },
      expiresAt: { N: String(nowS + 86_400) },
      updatedAt: { N: String(now) },
    },
    ConditionExpression: "attribute_not_exists(pk) OR #e <= :nowS",
    ExpressionAttributeNames: { "#e": "expiresAt" },
    ExpressionAttributeValues: { ":nowS": { N: String(nowS) } },
  });
}

async function run(id: number, args: Record<string, unknown>): Promise<void> {
  const count = Number(args.count);
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
        await table.client.send(claimPut(key));
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
