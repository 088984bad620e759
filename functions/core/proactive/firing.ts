// One firing, run where jobs run (the FC worker, the gateway's in-process dispatcher): a reminder's due
// occurrence or a configured schedule's occurrence, claimed by the scheduler (store/idempotency.ts,
// prefix "fire") and handed over as a small zod-parsed job. It re-acquires the claim, sends through the
// robot OpenAPI (parts an earlier attempt delivered are not sent again), then moves the reminder on (its
// next occurrence, or done) or records the schedule's run. A late firing (at most 24 h) says how late;
// a failed send is tried again later with backoff, and one that keeps failing is marked failed.
import * as z from "zod";
import type { ScheduleConfig } from "./config.js";
import { LlmError } from "../llm/index.js";
import { describeError, type Logger } from "../log.js";
import { backoffDelay } from "../retry.js";
import type { FiringAnswers } from "../store/firing-answers.js";
import type { IdempotencyStore } from "../store/idempotency.js";
import type { Reminder, ReminderStore } from "../store/reminders.js";
import type { ScheduleRuns } from "../store/schedule-runs.js";
import { lateNote, reminderMessage } from "./reminders.js";
import { ProactiveSendError, type ProactiveMessage, type ProactiveResult } from "./send.js";
import { CronSchedule, displayTime } from "./time.js";
import type { Recipients } from "./config.js";

/** A firing more than this late is not sent (DESIGN §9: catch-up of at most 24 h). */
export const MAX_LATE_MS = 24 * 3_600_000;
/** Attempts of one occurrence before it is given up (a reminder is then marked failed). */
export const MAX_FIRING_ATTEMPTS = 5;
/** Waits between attempts: 1, 2, 4, 8 … minutes, at most 30. */
const RETRY_BACKOFF = { baseMs: 60_000, maxMs: 30 * 60_000 };

const FiringSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("reminder"), owner: z.string().min(1), id: z.string().min(1), dueAt: z.number() }),
  z.object({ type: z.literal("schedule"), name: z.string().min(1), occurrence: z.number() }),
]);
export type Firing = z.infer<typeof FiringSchema>;

export const FiringJobSchema = z.object({
  v: z.literal(1),
  kind: z.literal("firing"),
  firing: FiringSchema,
  claim: z.object({ key: z.string().min(1), token: z.string().min(1) }),
  requestId: z.string().optional(),
  firedAt: z.number(),
});
export type FiringJob = z.infer<typeof FiringJobSchema>;

/** The claim key of one occurrence. */
export function firingKey(f: Firing): string {
  return f.type === "reminder" ? `reminder:${f.owner}:${f.id}:${f.dueAt}` : `schedule:${f.name}:${f.occurrence}`;
}

/** Sends one proactive message; `done`/`onStep` carry what earlier attempts delivered (send.ts). */
export type ProactiveSend = (to: Recipients, message: ProactiveMessage, steps: { done: string[]; onStep: (key: string) => Promise<void> }) => Promise<ProactiveResult>;

export interface FiringDeps {
  /** Claims of firings (prefix "fire"). */
  claims: IdempotencyStore;
  reminders: ReminderStore;
  runs: ScheduleRuns;
  schedules: readonly ScheduleConfig[];
  send: ProactiveSend;
  /** Runs the agent on a schedule's prompt and returns its answer. */
  answer: (schedule: ScheduleConfig, run: { key: string; requestId?: string; log: Logger }) => Promise<string>;
  /** Where a prompt's answer is kept until its firing is done (a retry sends the rest of the same one). */
  answers: Pick<FiringAnswers, "get" | "put">;
  /** agents.defaults.timezone. */
  timezone: string;
  log: Logger;
  now: () => number;
}

export type FiringOutcome =
  | { status: "invalid" }
  | { status: "skipped"; reason: "completed" | "in_progress" | "stale" | "too_late" }
  | { status: "sent"; late: number }
  | { status: "retrying"; attempt: number; at: number }
  | { status: "failed"; error: string };

/** What one occurrence needs: where, what, and what to do once it went out or was given up. */
interface Plan {
  to: Recipients;
  occurrence: number;
  message: () => Promise<ProactiveMessage>;
  sent: () => Promise<void>;
  givenUp: (error: string) => Promise<void>;
}

/** Throws only when trying again may help (the table); the host's queue retries then. */
export async function runFiring(input: unknown, deps: FiringDeps): Promise<FiringOutcome> {
  const job = FiringJobSchema.safeParse(input);
  if (!job.success) {
    deps.log.error("invalid firing job dropped", { issues: job.error.issues.length });
    return { status: "invalid" };
  }
  const { firing, claim, requestId } = job.data;
  const log = deps.log.child({ requestId, firing: claim.key });
  const held = await deps.claims.resume(claim.key, claim.token);
  if (held.status !== "claimed") return { status: "skipped", reason: held.status };
  const complete = () => deps.claims.complete(claim.key, claim.token, { sentParts: steps });
  const steps = [...(held.progress?.sentParts ?? [])];

  const now = deps.now();
  const plan = firing.type === "reminder" ? await planReminder(firing, deps, now) : planSchedule(firing, deps, now, { key: claim.key, requestId, log });
  if (plan === "stale") {
    if (firing.type === "reminder") await deps.reminders.due.remove({ dueAt: firing.dueAt, owner: firing.owner, id: firing.id });
    await complete();
    return { status: "skipped", reason: "stale" };
  }
  const late = now - plan.occurrence;
  if (late > MAX_LATE_MS) {
    log.warn("firing missed by more than 24 h, not sent", { lateMs: late });
    await plan.givenUp(`错过了 ${displayTime(plan.occurrence, deps.timezone)} 的提醒（服务停止超过 24 小时）`);
    await complete();
    return { status: "skipped", reason: "too_late" };
  }

  try {
    const message = await plan.message();
    await deps.send(plan.to, message, {
      done: steps,
      onStep: async (step) => {
        steps.push(step);
        await deps.claims.recordParts(claim.key, claim.token, steps);
      },
    });
  } catch (err) {
    const retryable = err instanceof ProactiveSendError ? err.retryable : err instanceof LlmError;
    if (!(err instanceof ProactiveSendError) && !(err instanceof LlmError)) throw err;
    const error = err instanceof ProactiveSendError ? err.message : `模型没有给出回答（${err.kind}）`;
    if (retryable && held.attempt < MAX_FIRING_ATTEMPTS) {
      const at = deps.now() + backoffDelay(held.attempt, RETRY_BACKOFF);
      log.warn("firing failed, will try again", { attempt: held.attempt, retryAt: at, error: describeError(err) });
      await deps.claims.postpone(claim.key, claim.token, at);
      return { status: "retrying", attempt: held.attempt, at };
    }
    log.error("firing failed, giving up", { attempt: held.attempt, error: describeError(err) });
    await plan.givenUp(error);
    await complete();
    return { status: "failed", error };
  }
  await plan.sent();
  await complete();
  log.info("firing sent", { lateMs: late, attempt: held.attempt });
  return { status: "sent", late };
}

/** A reminder's occurrence: its due time, or for a recurring one the latest occurrence by now (only the latest missed one is sent). */
async function planReminder(f: Extract<Firing, { type: "reminder" }>, deps: FiringDeps, now: number): Promise<Plan | "stale"> {
  const r = await deps.reminders.get(f.owner, f.id);
  if (!r || r.status !== "active" || r.nextAt !== f.dueAt) return "stale";
  const cron = "cron" in r.timing ? new CronSchedule(r.timing.cron, r.timing.timezone) : undefined;
  const occurrence = Math.max(f.dueAt, cron?.latest(now) ?? f.dueAt);
  const settle = (change: (current: Reminder) => Omit<Reminder, "version" | "updatedAt">) => saveLatest(deps.reminders, r, f.dueAt, change);
  return {
    to: r.to,
    occurrence,
    message: () => Promise.resolve(reminderMessage(r, occurrence, deps.now(), deps.timezone)),
    sent: () =>
      settle((c) => {
        const next = cron?.next(Math.max(deps.now(), occurrence));
        const fired = { ...c, fired: c.fired + 1, lastFiredAt: occurrence };
        return next === undefined ? { ...fired, status: "done" } : { ...fired, nextAt: next };
      }),
    givenUp: (error) =>
      settle((c) => {
        // A recurring reminder that missed one occurrence by too much goes on with the next one.
        const next = cron?.next(deps.now());
        return next !== undefined && now - occurrence > MAX_LATE_MS ? { ...c, nextAt: next } : { ...c, status: "failed", error };
      }),
  };
}

/** Saves a change to the reminder, re-reading it when a concurrent write won (unless it moved on: a cancel). */
async function saveLatest(store: ReminderStore, first: Reminder, dueAt: number, change: (current: Reminder) => Omit<Reminder, "version" | "updatedAt">): Promise<void> {
  let current: Reminder | undefined = first;
  for (let round = 0; round < 5 && current; round++) {
    if (current.status !== "active" || current.nextAt !== dueAt) return;
    if (await store.save(current, change(current))) return;
    current = await store.get(first.owner, first.id);
  }
}

function planSchedule(
  f: Extract<Firing, { type: "schedule" }>,
  deps: FiringDeps,
  now: number,
  run: { key: string; requestId: string | undefined; log: Logger },
): Plan | "stale" {
  const s = deps.schedules.find((x) => x.name === f.name);
  if (!s) return "stale";
  return {
    to: s.to,
    occurrence: f.occurrence,
    message: async () => {
      const body = s.text ?? (await promptAnswer(s, deps, run));
      return { markdown: body + lateNote(f.occurrence, now, s.timezone) };
    },
    sent: () => deps.runs.finish(s.name, f.occurrence),
    givenUp: (error) => deps.runs.finish(s.name, f.occurrence, error),
  };
}

/** The answer an earlier attempt of this firing got, else a new one (kept before anything is sent). */
async function promptAnswer(s: ScheduleConfig, deps: FiringDeps, run: { key: string; requestId: string | undefined; log: Logger }): Promise<string> {
  const earlier = await deps.answers.get(run.key);
  if (earlier !== undefined) return earlier;
  const text = await deps.answer(s, { key: run.key, ...(run.requestId ? { requestId: run.requestId } : {}), log: run.log });
  await deps.answers.put(run.key, text);
  return text;
}
