// The Tablestore double in its own process for the bench (127.0.0.1, random port), as the dynalite host
// is for the DynamoDB API, with the dingclaw table created through the real backend. It accepts the
// bench's machine key and the FC role's temporary key the functions sign with; `run` answers with the
// requests served per operation, their time, and the capacity units consumed by the double's
// documented rules.
import { openTable } from "../../../functions/core/store/table.js";
import { startTablestoreDouble } from "../../doubles/tablestore/index.js";
import { exitOnSigterm, serveProbes, toParent } from "./ipc.js";
import { watchServer } from "./server-stats.js";

const machineKey = { id: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID ?? "", secret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? "" };
const role = JSON.parse(process.env.BENCH_ROLE_KEY ?? "{}") as { accessKeyId?: string; accessKeySecret?: string; securityToken?: string };
const stats = watchServer((req) => (req.url ?? "/").split("?")[0]!.slice(1));
const double = await startTablestoreDouble({
  instance: process.env.DINGCLAW_TABLE_INSTANCE ?? "dingclaw",
  accessKeys: {
    [machineKey.id]: machineKey.secret,
    ...(role.accessKeyId ? { [role.accessKeyId]: { secret: role.accessKeySecret ?? "", securityToken: role.securityToken } } : {}),
  },
});
const name = process.env.DINGCLAW_TABLE_NAME ?? "dingclaw";
const table = await openTable({ kind: "tablestore", endpoint: double.url, instance: double.instance, name, dataDir: "", region: "cn-hangzhou" }, { env: process.env });
await table.ensure();
await table.close();
exitOnSigterm();
serveProbes({
  onMessage: (message) => {
    if (message.type === "run")
      toParent({ type: "done", id: message.id, data: message.args.stats ? { ...stats, cu: { ...double.consumed } } : { ...stats.counts } });
  },
});
toParent({ type: "ready", port: Number(new URL(double.url).port), info: {} });
