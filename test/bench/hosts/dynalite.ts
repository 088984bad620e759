// dynalite in its own process for the bench (in memory, or LevelDB files in DINGCLAW_BENCH_TABLE_DIR;
// 127.0.0.1, random port) with the dingclaw table created; answers probes (the table's own CPU) and
// `run` messages with the number of requests it served per DynamoDB action (`{ stats: true }`: also
// the time they took), read from Node's HTTP diagnostics channels.
import { startDynalite } from "../../../functions/core/store/embedded.js";
import { openTable } from "../../../functions/core/store/table.js";
import { exitOnSigterm, serveProbes, toParent } from "./ipc.js";
import { watchServer } from "./server-stats.js";

const stats = watchServer((req) => {
  const target = String(req.headers["x-amz-target"] ?? "?");
  return target.split(".").pop() ?? target;
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
    if (message.type === "run") toParent({ type: "done", id: message.id, data: message.args.stats ? { ...stats } : { ...stats.counts } });
  },
});
toParent({ type: "ready", port: Number(new URL(server.endpoint).port), info: {} });
