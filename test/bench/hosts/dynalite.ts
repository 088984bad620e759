// dynalite in its own process for the bench (in memory, or LevelDB files in DINGCLAW_BENCH_TABLE_DIR;
// 127.0.0.1, random port) with the dingclaw table created; answers probes (the table's own CPU) and
// `run` messages with the number of requests it served per DynamoDB action, read from Node's HTTP
// diagnostics channel.
import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage } from "node:http";
import { startDynalite } from "../../../functions/core/store/embedded.js";
import { openTable } from "../../../functions/core/store/table.js";
import { exitOnSigterm, serveProbes, toParent } from "./ipc.js";

const counts: Record<string, number> = {};
subscribe("http.server.request.start", (message) => {
  const target = String((message as { request: IncomingMessage }).request.headers["x-amz-target"] ?? "?");
  const action = target.split(".").pop() ?? target;
  counts[action] = (counts[action] ?? 0) + 1;
});

const name = process.env.DINGCLAW_TABLE_NAME ?? "dingclaw";
const dir = process.env.DINGCLAW_BENCH_TABLE_DIR;
const server = await startDynalite(dir ? { path: dir } : {});
const table = await openTable({ endpoint: server.endpoint, name, dataDir: "", region: "local" }, { env: {} });
await table.ensure();
await table.close();
exitOnSigterm();
serveProbes({
  onMessage: (message) => {
    if (message.type === "run") toParent({ type: "done", id: message.id, data: { ...counts } });
  },
});
toParent({ type: "ready", port: Number(new URL(server.endpoint).port), info: {} });
