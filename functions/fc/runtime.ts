// The Runtime of an FC event function (worker, scheduler), built once per instance: the config from
// the environment, the table signed with the role's latest credentials, the app's API rate counted
// in the table (many instances run at once). A failed start is tried again on the next invocation.
import { loadConfig } from "../core/config.js";
import { readEnv } from "../core/env.js";
import { captureConsole, createLogger } from "../core/log.js";
import { createRuntime, type Runtime } from "../core/runtime.js";
import { openTable } from "../core/store/table.js";
import { tableSigning, type RoleCredentials } from "./credentials.js";

async function init(role: RoleCredentials): Promise<Runtime> {
  const log = createLogger({ level: readEnv().LOG_LEVEL });
  captureConsole(log);
  const config = loadConfig(process.env);
  if (!config.table.endpoint) throw new Error("DINGCLAW_TABLE_ENDPOINT is not set: functions on FC need a table (Tablestore or DynamoDB-compatible)");
  return createRuntime(config, await openTable(config.table, { log, ...tableSigning(config.table.kind, role) }), { log, rateGate: "table" });
}

/** The instance's Runtime, started on first use. */
export function instanceRuntime(role: RoleCredentials): () => Promise<Runtime> {
  let runtime: Promise<Runtime> | undefined;
  return () =>
    (runtime ??= init(role).catch((err: unknown) => {
      runtime = undefined;
      throw err;
    }));
}
