// FC async event host: parses the job from the event and runs the core's processJob (a message) or
// runFiringJob (a reminder or schedule the scheduler claimed). Throwing lets FC's async queue retry;
// the idempotency records keep a retry from sending twice. A `{"check":"table"}` event (npm run
// doctor) probes the table with the function's own credentials; a `{"usage":"YYYY-MM"}` event returns
// that month's usage report as JSON (as `npm run usage -- --json`).
import { processJob, type JobOutcome } from "./core/process-job.js";
import { isFiringJob, runFiringJob } from "./core/proactive/wiring.js";
import { probeTable, TableCheckEvent } from "./core/store/probe.js";
import { buildUsageReport, parseUsageEvent } from "./core/usage-report.js";
import { readContext } from "./fc/context.js";
import { roleCredentials } from "./fc/credentials.js";
import { parseEvent } from "./fc/event.js";
import { instanceRuntime } from "./fc/runtime.js";

const role = roleCredentials();
const runtime = instanceRuntime(role);

export async function handler(event: unknown, context: unknown): Promise<string> {
  const ctx = readContext(context);
  role.update(ctx);
  const rt = await runtime();
  const parsed = parseEvent(event);
  if (TableCheckEvent.safeParse(parsed).success) return JSON.stringify(await probeTable(rt.table));
  const usage = parseUsageEvent(parsed);
  if (usage) return JSON.stringify("error" in usage ? { status: "invalid", reason: usage.error } : await buildUsageReport(rt, usage.month));
  const log = rt.log.child({ fcRequestId: ctx.requestId });
  if (isFiringJob(parsed)) {
    // Its usage counts are held for one write each: written before the instance may be frozen.
    const fired = await runFiringJob(parsed, { ...rt, log }).finally(() => rt.settle?.());
    return JSON.stringify({ status: fired.status });
  }
  const outcome: JobOutcome = await processJob(parsed, { ...rt, log });
  return JSON.stringify({ status: outcome.status });
}
