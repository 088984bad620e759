// What every bench step gets: progress output and the shared dynalite process.
import type { HostProc } from "../lib/procs.js";
import { CLIENT_ID, CLIENT_SECRET } from "../lib/world.js";

export interface StepContext {
  progress(line: string): void;
  dynalite: HostProc;
  /** DINGCLAW_TABLE_ENDPOINT / DINGCLAW_TABLE_NAME of the dynalite process. */
  tableEnv: { DINGCLAW_TABLE_ENDPOINT: string; DINGCLAW_TABLE_NAME: string };
}

/** The FC context a function instance gets (role credentials for invoking the worker). */
export const FC_CONTEXT = {
  accountId: "1234567890",
  region: "cn-hangzhou",
  credentials: { accessKeyId: "STS.bench-role", accessKeySecret: "bench-role-secret", securityToken: "bench-role-token" },
  service: { name: "dingclaw-bench" },
};

/** The environment of a callback process: the bench's app, the shared table, the worker invoked at `fcEndpoint`. */
export function callbackEnv(ctx: StepContext, fcEndpoint: string): Record<string, string> {
  return {
    ...ctx.tableEnv,
    DINGCLAW_CONFIG_JSON: JSON.stringify({ channels: { dingtalk: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET } } }),
    ALIBABA_CLOUD_FC_ENDPOINT: fcEndpoint,
    DINGCLAW_WORKER_FUNCTION: "worker",
    BENCH_FC_CONTEXT: JSON.stringify({ ...FC_CONTEXT, function: { name: "callback" } }),
  };
}
