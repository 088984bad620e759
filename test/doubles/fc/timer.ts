// Timer triggers of the FC double, as FC 2.0 documents them:
// - triggerType "timer", triggerConfig {cronExpression, enable, payload} (TimeTriggerConfig,
//   alibabacloud.com/help/en/functioncompute/fc-2-0/developer-reference/api-fc-open-2021-04-06-struct-timetriggerconfig):
//   cronExpression "@every <n>m" / "@every <n>h" (every n minutes, at least 1) or a cron expression with
//   six fields, seconds first, evaluated in UTC; enable switches it on; payload is a string.
// - A firing invokes the function asynchronously (the trigger message "is limited like an async
//   invocation's payload, at most 128 KB", help.aliyun.com/zh/functioncompute/time-triggers) with the
//   event {"triggerTime": "2024-06-07T10:00:00Z", "triggerName": "<name>", "payload": "<payload>"}.
import { Cron } from "croner";
import * as z from "zod";
import { fcErrors } from "./errors.js";

const PAYLOAD_LIMIT = 128 * 1024;

export const TimerTriggerConfigSchema = z.looseObject({
  cronExpression: z.string({ error: "cronExpression is required" }).min(1, { error: "cronExpression is required" }),
  enable: z.boolean({ error: "enable must be true or false" }),
  payload: z
    .string({ error: "payload must be a string" })
    .refine((p) => Buffer.byteLength(p) <= PAYLOAD_LIMIT, { error: "payload is larger than 128 KB" })
    .optional(),
});

export interface TimerSettings {
  cronExpression: string;
  enable: boolean;
  payload: string;
}

/** When the schedule fires after `afterMs` (strictly), given when the trigger was created or last changed. */
export type TimerSchedule = (afterMs: number) => number;

function schedule(expression: string, anchorMs: number): TimerSchedule {
  const every = /^@every\s+(\d+)([mh])$/.exec(expression);
  if (every) {
    const n = Number(every[1]);
    if (n < 1) throw fcErrors.invalidArgument(`cronExpression '${expression}': the interval must be at least 1m`);
    const period = n * (every[2] === "h" ? 3_600_000 : 60_000);
    return (after) => anchorMs + (Math.floor((after - anchorMs) / period) + 1) * period;
  }
  if (expression.trim().split(/\s+/).length !== 6)
    throw fcErrors.invalidArgument(`cronExpression '${expression}' must be "@every <n>m" or a cron expression with 6 fields (seconds first)`);
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone: "UTC", paused: true, sloppyRanges: true });
  } catch (err) {
    throw fcErrors.invalidArgument(`cronExpression '${expression}' is invalid: ${err instanceof Error ? err.message : String(err)}`);
  }
  return (after) => cron.nextRun(new Date(after))?.getTime() ?? Number.POSITIVE_INFINITY;
}

/** Validates a timer trigger's config as FC does; InvalidArgument otherwise. */
export function timerSettings(config: unknown, anchorMs: number): TimerSettings & { next: TimerSchedule } {
  const parsed = TimerTriggerConfigSchema.safeParse(config);
  if (!parsed.success) throw fcErrors.invalidArgument(`triggerConfig: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  const { cronExpression, enable, payload } = parsed.data;
  return { cronExpression, enable, payload: payload ?? "", next: schedule(cronExpression, anchorMs) };
}

/** The event FC hands the function when a timer trigger fires (seconds precision, UTC). */
export function timerEvent(triggerName: string, payload: string, atMs: number): Buffer {
  const triggerTime = new Date(Math.floor(atMs / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  return Buffer.from(JSON.stringify({ triggerTime, triggerName, payload }));
}
