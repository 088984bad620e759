// FC `scheduler` function, run by its timer trigger every minute (serverless.yml `events: - timer`):
// one scheduler tick (proactive/scheduler.ts: finds due reminder firings and schedule occurrences and
// claims each) with each claimed firing queued for the worker as an async invocation, so one slow
// send never delays the rest. Thin; the event is FC's {triggerTime, triggerName, payload}, logged only.
import * as z from "zod";
import { readEnv } from "./core/env.js";
import { schedulerOf, type FiringJob } from "./core/proactive/wiring.js";
import { readContext } from "./fc/context.js";
import { roleCredentials } from "./fc/credentials.js";
import { parseEvent } from "./fc/event.js";
import { fcDispatch, workerAddress } from "./fc/invoke-worker.js";
import { instanceRuntime } from "./fc/runtime.js";

/** What FC hands a function when a timer trigger fires. */
const TimerEvent = z.looseObject({ triggerTime: z.string(), triggerName: z.string(), payload: z.string().optional() });

const role = roleCredentials();
const runtime = instanceRuntime(role);

export async function handler(event: unknown, context: unknown): Promise<string> {
  const env = readEnv();
  const ctx = readContext(context, env);
  role.update(ctx);
  const rt = await runtime();
  const timer = TimerEvent.safeParse(parseEvent(event));
  const log = rt.log.child({ fcRequestId: ctx.requestId, ...(timer.success ? { trigger: timer.data.triggerName, triggerTime: timer.data.triggerTime } : {}) });
  const tick = schedulerOf({ ...rt, log }, fcDispatch<FiringJob>(ctx, workerAddress(env, ctx)));
  return JSON.stringify(await tick(rt.now(), ctx.requestId));
}
