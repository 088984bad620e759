// FC async event host: parses the job from the event and runs the core's processJob (a message) or
// runFiringJob (a reminder or schedule the scheduler claimed). Throwing lets FC's async queue retry;
// the idempotency records keep a retry from sending twice. A `{"check":"table"}` event (npm run
// doctor) probes the table with the function's own credentials; a `{"usage":"YYYY-MM"}` event returns
// that month's usage report as JSON (as `npm run usage -- --json`).
import { loadConfig } from "./core/config.js";
import { readEnv } from "./core/env.js";
import { captureConsole, createLogger } from "./core/log.js";
import { processJob, type JobOutcome } from "./core/process-job.js";
import { isFiringJob, runFiringJob } from "./core/proactive/wiring.js";
import { createRuntime, type Runtime } from "./core/runtime.js";
import { probeTable, TableCheckEvent } from "./core/store/probe.js";
import { openTable } from "./core/store/table.js";
import { buildUsageReport, parseUsageEvent } from "./core/usage-report.js";
import { readContext } from "./fc/context.js";
import { roleCredentials, tableSigning } from "./fc/credentials.js";
import { parseEvent } from "./fc/event.js";

let runtime: Promise<Runtime> | undefined;
const role = roleCredentials();

async function init(): Promise<Runtime> {
  const log = createLogger({ level: readEnv().LOG_LEVEL });
  captureConsole(log);
  const config = loadConfig(process.env);
  if (!config.table.endpoint) throw new Error("DINGCLAW_TABLE_ENDPOINT is not set: functions on FC need a table (Tablestore or DynamoDB-compatible)");
  // Many worker instances answer at once: the app's API rate is counted in the shared table.
  return createRuntime(config, await openTable(config.table, { log, ...tableSigning(config.table.kind, role) }), { log, rateGate: "table" });
}

export async function handler(event: unknown, context: unknown): Promise<string> {
  const ctx = readContext(context);
  role.update(ctx);
  const rt = await (runtime ??= init().catch((err: unknown) => {
    runtime = undefined;
    throw err;
  }));
  const parsed = parseEvent(event);
  if (TableCheckEvent.safeParse(parsed).success) return JSON.stringify(await probeTable(rt.table));
  const usage = parseUsageEvent(parsed);
  if (usage) return JSON.stringify("error" in usage ? { status: "invalid", reason: usage.error } : await buildUsageReport(rt, usage.month));
  const log = rt.log.child({ fcRequestId: ctx.requestId });
  if (isFiringJob(parsed)) return JSON.stringify({ status: (await runFiringJob(parsed, { ...rt, log })).status });
  const outcome: JobOutcome = await processJob(parsed, { ...rt, log });
  return JSON.stringify({ status: outcome.status });
}
