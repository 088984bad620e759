// What every bench step gets: progress output and the shared dynalite process.
import type { HostProc } from "../lib/procs.js";

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
