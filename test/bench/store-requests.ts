// Micro-bench of the embedded table: CPU and wall time per request for the worker's typical sequence
// (a conditional UpdateItem returning the item, a GetItem, a conditional UpdateItem appending to a
// list, an UpdateItem of ADDs) through openTable's embedded path in one process, on disk as `npm
// start` keeps it (or in memory with --memory). Run: npx tsx test/bench/store-requests.ts [--memory] [rounds]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { openDynamoTable } from "../../functions/core/store/dynamodb/open.js";

const memory = process.argv.includes("--memory");
const rounds = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 2000);
const dir = mkdtempSync(join(tmpdir(), "dingclaw-store-bench-"));
const table = await openDynamoTable({ name: "dingclaw", endpoint: "", dataDir: dir, region: "local" }, { env: {}, inMemory: memory });
await table.ensure();
const { client } = table;
const TableName = "dingclaw";

async function turn(i: number): Promise<void> {
  const pk = { S: `conv#${i % 50}` };
  const now = Date.now();
  await client.send(
    new UpdateItemCommand({
      TableName,
      Key: { pk: { S: `claim#${i}` }, sk: { S: "_" } },
      UpdateExpression: "SET #o = :o, #u = :u",
      ConditionExpression: "attribute_not_exists(#o) OR #u < :now",
      ExpressionAttributeNames: { "#o": "owner", "#u": "until" },
      ExpressionAttributeValues: { ":o": { S: "w1" }, ":u": { N: String(now + 60_000) }, ":now": { N: String(now) } },
      ReturnValues: "ALL_NEW",
    }),
  );
  await client.send(new GetItemCommand({ TableName, Key: { pk, sk: { S: "conv" } }, ConsistentRead: true }));
  await client.send(
    new UpdateItemCommand({
      TableName,
      Key: { pk, sk: { S: "conv" } },
      UpdateExpression: "SET #t = list_append(if_not_exists(#t, :empty), :turns), #v = if_not_exists(#v, :zero) + :one",
      ConditionExpression: "attribute_not_exists(#v) OR #v >= :zero",
      ExpressionAttributeNames: { "#t": "turns", "#v": "version" },
      ExpressionAttributeValues: {
        ":empty": { L: [] },
        ":turns": { L: [{ M: { role: { S: "user" }, text: { S: `hello ${i}` } } }] },
        ":zero": { N: "0" },
        ":one": { N: "1" },
      },
    }),
  );
  await client.send(
    new UpdateItemCommand({
      TableName,
      Key: { pk: { S: "usage#2026-12" }, sk: { S: "_" } },
      UpdateExpression: "ADD #i :i, #o :o, #c :c",
      ExpressionAttributeNames: { "#i": "inTokens", "#o": "outTokens", "#c": "calls" },
      ExpressionAttributeValues: { ":i": { N: "120" }, ":o": { N: "80" }, ":c": { N: "1" } },
    }),
  );
}

for (let i = 0; i < 300; i++) await turn(i); // warm-up: JIT, LevelDB
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < rounds; i++) await turn(300 + i);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const requests = rounds * 4;
console.log(
  JSON.stringify({
    storage: memory ? "memory" : "disk",
    requests,
    cpuUsPerRequest: +((cpu.user + cpu.system) / requests).toFixed(1),
    wallUsPerRequest: +((wall * 1000) / requests).toFixed(1),
  }),
);
await table.close();
rmSync(dir, { recursive: true, force: true });
