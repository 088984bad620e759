// The scheduler and firings over a host's Runtime: the firing claims (idempotency records with prefix
// "fire"), schedule runs, sends through the robot OpenAPI (send.ts) and the agent for schedules with a
// prompt. Hosts call `schedulerOf` (tick with their own dispatch) and `runFiringJob` (where jobs run).
import { answerPrompt } from "../agent.js";
import type { Runtime } from "../runtime.js";
import { FiringAnswers } from "../store/firing-answers.js";
import { IdempotencyStore } from "../store/idempotency.js";
import { ScheduleRuns } from "../store/schedule-runs.js";
import { FiringJobSchema, runFiring, type FiringDeps, type FiringJob, type FiringOutcome } from "./firing.js";
import { tick, type TickResult } from "./scheduler.js";
import { ProactiveSendError, sendProactive } from "./send.js";

export { FiringJobSchema, type FiringJob } from "./firing.js";

/** Firing records outlive the 24 h catch-up window, so a late re-run still finds an occurrence finished. */
const CLAIM_TTL_S = 2 * 86_400;

function claimsOf(rt: Runtime): IdempotencyStore {
  // A schedule's prompt runs the agent: the lease covers the whole turn.
  return new IdempotencyStore(rt.table, { now: rt.now, log: rt.log, prefix: "fire", completedTtlSeconds: CLAIM_TTL_S, leaseMs: rt.config.agent.turnBudgetMs + 120_000 });
}

export function firingDeps(rt: Runtime): FiringDeps {
  const robotCode = rt.config.dingtalk.credentials?.robotCode ?? "";
  return {
    claims: claimsOf(rt),
    reminders: rt.reminders,
    runs: new ScheduleRuns(rt.table, { now: rt.now }),
    schedules: rt.config.schedules,
    timezone: rt.config.agent.timezone,
    send: (to, message, steps) => {
      if (!rt.dingtalk) return Promise.reject(new ProactiveSendError("DingTalk credentials are not configured", "noCredentials", false));
      return sendProactive(rt.dingtalk, to, message, { robotCode, ...steps });
    },
    answer: (s, run) =>
      answerPrompt(s.prompt ?? "", { conversation: "group" in s.to ? { id: s.to.group, type: "group" } : { id: `schedule:${s.name}`, type: "direct" }, name: s.name }, rt, run),
    answers: new FiringAnswers(rt.table, { now: rt.now }),
    log: rt.log,
    now: rt.now,
  };
}

/** Whether a worker event is a firing job (else it is a message job). */
export const isFiringJob = (event: unknown): boolean => FiringJobSchema.safeParse(event).success;

/** Runs one firing job on the runtime (the FC worker, the gateway's dispatcher). */
export function runFiringJob(job: unknown, rt: Runtime): Promise<FiringOutcome> {
  return runFiring(job, firingDeps(rt));
}

/** One scheduler run on the runtime, handing each claimed firing to `dispatch`. */
export function schedulerOf(rt: Runtime, dispatch: (job: FiringJob) => Promise<void>): (now: number, requestId?: string) => Promise<TickResult> {
  const deps = { due: rt.reminders.due, runs: new ScheduleRuns(rt.table, { now: rt.now }), claims: claimsOf(rt), schedules: rt.config.schedules, dispatch, log: rt.log };
  return (now, requestId) => tick(deps, now, requestId);
}
