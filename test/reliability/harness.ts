// Reliability harness: the real message path (handleCallback → ingest → LocalDispatcher → processJob →
// agent) over several "worker instances" (own table client each, on dynalite or the Tablestore double)
// with a movable clock, simulated worker crashes at chosen points, seeded randomness, message tags to
// match replies, and a secrets scan.
import { setTimeout as delay } from "node:timers/promises";
import { formatWithOptions } from "node:util";
import { expect } from "vitest";
import { handleCallback, type CallbackDeps, type CallbackResponse } from "../../functions/core/http-callback.js";
import type { Job } from "../../functions/core/job.js";
import { LocalDispatcher } from "../../functions/core/local-dispatch.js";
import { processJob, type JobOutcome, type WorkerDeps } from "../../functions/core/process-job.js";
import { createRuntime, type Runtime } from "../../functions/core/runtime.js";
import type { ConversationStore } from "../../functions/core/store/conversations.js";
import { IdempotencyStore } from "../../functions/core/store/idempotency.js";
import type { TableKind } from "../../functions/core/store/kind.js";
import { openTable, type Table } from "../../functions/core/store/table.js";
import { signedHeaders } from "../helpers/messages.js";
import { startTestTablestore, type TestTablestore } from "../helpers/tablestore.js";
import { BACKUP_KEY, CLIENT_ID, CLIENT_SECRET, LLM_KEY, startWorld, type World, type WorldOptions } from "../helpers/world.js";

// ── seeded randomness ────────────────────────────────────────────────────────────────────────────

/** The run's seed: RELIABILITY_SEED if set (to replay a failure), else a fresh one. Printed in every summary. */
export function runSeed(): number {
  const fromEnv = Number(process.env.RELIABILITY_SEED);
  return Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : 1 + Math.floor(Math.random() * 2 ** 31);
}

export interface Rng {
  next(): number;
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: small, fast, good enough to drive test plans reproducibly. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)]!,
  };
}

// ── message tags: every test message carries "rq<number>z", the LLM double echoes it back ───────────

export const tag = (i: number): string => `rq${i}z`;
export const tagOf = (text: string | undefined): number | undefined => {
  const m = /\brq(\d+)z\b/.exec(text ?? "");
  return m ? Number(m[1]) : undefined;
};

/** Counts per tag of the replies DingTalk received, plus replies carrying no tag. */
export function repliesByTag(w: World): { counts: Map<number, number>; untagged: string[] } {
  const counts = new Map<number, number>();
  const untagged: string[] = [];
  for (const s of w.dt.sent()) {
    const t = tagOf(s.text);
    if (t === undefined) untagged.push(s.text ?? "");
    else counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return { counts, untagged };
}

/** Chat requests per tag of their last user message (the message being answered). */
export function llmCallsByTag(w: World): Map<number, number> {
  const counts = new Map<number, number>();
  for (const r of w.llm.chatRequests()) {
    const messages = (r.body as { messages?: { role: string; content: unknown }[] } | undefined)?.messages ?? [];
    const last = [...messages].reverse().find((m) => m.role === "user");
    const t = tagOf(typeof last?.content === "string" ? last.content : undefined);
    if (t !== undefined) counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return counts;
}

// ── simulated worker crashes ─────────────────────────────────────────────────────────────────────

/**
 * Where an attempt dies: before the LLM (conversation load), after the LLM before its answer is stored,
 * after the answer is stored before sending, between the parts of a multi-part reply (after the first
 * was delivered), after DingTalk accepted the reply but before that was recorded (the completion), and
 * right after the completion was recorded, before the job returned.
 */
export type CrashPoint = "before_llm" | "after_llm" | "before_send" | "between_parts" | "after_send_unrecorded" | "after_send";

export class SimulatedCrash extends Error {
  constructor(readonly point: CrashPoint) {
    super(`simulated worker crash (${point})`);
    this.name = "SimulatedCrash";
  }
}

export interface CrashHooks {
  /** Awaited before each attempt (e.g. to start a table fault exactly when the worker runs). */
  beforeAttempt?(msgId: string, attempt: number): void | Promise<void>;
  /** Where attempt `attempt` (1-based, per msgId) of this message dies, if it does. */
  crashAt?(msgId: string, attempt: number): CrashPoint | undefined;
  /** After a crash: "retry" lets the queue retry the job (FC's async retry); "drop" loses the attempt. */
  onCrash?(msgId: string, point: CrashPoint, job: Job): "retry" | "drop";
}

function crashingDeps(base: Runtime, point: CrashPoint): WorkerDeps {
  const crash = () => Promise.reject(new SimulatedCrash(point));
  const conversations = Object.assign(Object.create(base.conversations) as ConversationStore, {
    load: (key: string) => (point === "before_llm" ? crash() : base.conversations.load(key)),
    append: (...args: Parameters<ConversationStore["append"]>) =>
      point === "after_llm" ? crash() : base.conversations.append(...args),
  });
  const idempotency = Object.assign(Object.create(base.idempotency) as IdempotencyStore, {
    complete: (...args: Parameters<IdempotencyStore["complete"]>) =>
      point === "after_send" ? base.idempotency.complete(...args).then(crash) : base.idempotency.complete(...args),
  });
  let sends = 0;
  return {
    ...base,
    conversations,
    idempotency,
    send: async (target, message) => {
      if (point === "before_send" || (point === "between_parts" && ++sends === 2)) throw new SimulatedCrash(point);
      const sent = await base.send(target, message);
      if (point === "after_send_unrecorded") throw new SimulatedCrash(point);
      return sent;
    },
  };
}

// ── the rig ──────────────────────────────────────────────────────────────────────────────────────

export interface Clock {
  now: () => number;
  advance: (ms: number) => void;
}

export interface RigOptions {
  world?: WorldOptions;
  /** Worker instances, each with its own table client, LLM and DingTalk clients (default 3). */
  workers?: number;
  /** Jobs running at once in the queue (default 40). */
  concurrency?: number;
  /** Queue retries after the first attempt (default 3, like FC). */
  retries?: number;
  /** The queue's wait before a retry; default: 20 ms × retry (crash retries need no wait, table trouble does). */
  retrySleep?: (ms: number) => Promise<void>;
  /** The DingTalk clients' backoff sleep (default: instant). */
  clientSleep?: (ms: number) => Promise<void>;
  /** The table backend: dynalite (default) or the Tablestore double through the real SDK. */
  backend?: TableKind;
  /** Opens the table the callback and workers use (e.g. through the fault proxy); default: a new client on the backend's table. */
  openTable?: (w: World) => Promise<Table>;
  hooks?: CrashHooks;
}

export interface CrashRecord {
  msgId: string;
  point: CrashPoint;
  attempt: number;
}

export interface Rig {
  w: World;
  /** The Tablestore double and its table, with backend "tablestore". */
  tablestore: TestTablestore | undefined;
  clock: Clock;
  workers: Runtime[];
  dispatcher: LocalDispatcher;
  callback: CallbackDeps;
  hooks: CrashHooks;
  crashes: CrashRecord[];
  /** Every job outcome and every thrown attempt, in order. */
  outcomes: { msgId: string; outcome?: JobOutcome; error?: string }[];
  /** Every log line written during the run (the world's logger), and every console line (libraries). */
  lines: string[];
  /** POSTs a callback body, signed at the rig's clock, straight into handleCallback. */
  deliver(body: Record<string, unknown>, headers?: Record<string, string>): Promise<CallbackResponse>;
  /** Waits until no job is queued or running. */
  idle(): Promise<void>;
  /** Forgets the doubles' records (keeps the access tokens seen, for the secrets scan). */
  resetDoubles(): void;
  /** Client secret, LLM keys and every DingTalk access token issued so far. */
  secrets(): string[];
  close(): Promise<void>;
}

/** The console as it was before any rig captured it: summaries still reach the test output. */
const realConsoleLog = console.log.bind(console);
const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug"] as const;

/** Sends console.* (used by third-party libraries such as the Stream SDK) into `lines`; returns the undo. */
function captureConsole(lines: string[]): () => void {
  const saved = CONSOLE_METHODS.map((m) => Object.getOwnPropertyDescriptor(console, m));
  for (const m of CONSOLE_METHODS) console[m] = (...args: unknown[]) => void lines.push(formatWithOptions({ breakLength: Infinity }, ...args));
  return () => {
    CONSOLE_METHODS.forEach((m, i) => {
      const d = saved[i];
      if (d) Object.defineProperty(console, m, d);
    });
  };
}

export async function startRig(opts: RigOptions = {}): Promise<Rig> {
  const lines: string[] = [];
  const releaseConsole = captureConsole(lines);
  const w = await startWorld({ ...opts.world, write: (l) => lines.push(l) });
  const tablestore = opts.backend === "tablestore" ? await startTestTablestore() : undefined;
  let offset = 0;
  const clock: Clock = { now: () => Date.now() + offset, advance: (ms) => void (offset += ms) };
  // Generous timeouts (connecting included: hundreds of deliveries open sockets at once): the whole world
  // shares this process's CPU, and a timed-out table call here would be the test's overload, not the
  // system's behaviour under test.
  const timeouts = { requestTimeoutMs: 20_000, connectionTimeoutMs: 10_000 };
  const open =
    opts.openTable ?? ((world: World) => (tablestore ? tablestore.openTable(timeouts) : openTable(world.db.config, { env: {}, ...timeouts })));
  const sleep = opts.clientSleep ?? (() => Promise.resolve());
  const workers: Runtime[] = [];
  for (let i = 0; i < (opts.workers ?? 3); i++)
    workers.push(createRuntime(w.config, await open(w), { log: w.log.child({ worker: i }), now: clock.now, sleep }));
  const callbackTable = await open(w);
  const hooks: CrashHooks = opts.hooks ?? {};
  const crashes: CrashRecord[] = [];
  const outcomes: Rig["outcomes"] = [];
  const attempts = new Map<string, number>();
  const tokens = new Set<string>();
  let next = 0;

  const runJob = async (job: Job): Promise<JobOutcome | undefined> => {
    const msgId = typeof job.body.msgId === "string" ? job.body.msgId : "";
    const attempt = (attempts.get(msgId) ?? 0) + 1;
    attempts.set(msgId, attempt);
    const base = workers[next++ % workers.length]!;
    await hooks.beforeAttempt?.(msgId, attempt);
    const point = hooks.crashAt?.(msgId, attempt);
    try {
      const outcome = await processJob(job, point ? crashingDeps(base, point) : base);
      outcomes.push({ msgId, outcome });
      return outcome;
    } catch (err) {
      outcomes.push({ msgId, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
      if (err instanceof SimulatedCrash) {
        crashes.push({ msgId, point: err.point, attempt });
        if ((hooks.onCrash?.(msgId, err.point, job) ?? "retry") === "drop") return undefined;
      }
      throw err;
    }
  };

  const dispatcher = new LocalDispatcher({
    log: w.log,
    run: runJob,
    concurrency: opts.concurrency ?? 40,
    retries: opts.retries ?? 3,
    backoffMs: (retry) => 20 * retry,
    sleep: opts.retrySleep ?? ((ms) => delay(ms)),
  });
  const callback: CallbackDeps = {
    idempotency: new IdempotencyStore(callbackTable, { now: clock.now, log: w.log }),
    dispatch: dispatcher.dispatch,
    robotCode: CLIENT_ID,
    now: clock.now,
    log: w.log.child({ fn: "callback" }),
    secret: CLIENT_SECRET,
  };
  const collectTokens = () => {
    for (const t of w.dt.state.tokens.keys()) tokens.add(t);
    for (const c of w.dt.calls) {
      const t = c.headers["x-acs-dingtalk-access-token"];
      if (t) tokens.add(t);
    }
  };

  return {
    w,
    tablestore,
    clock,
    workers,
    dispatcher,
    callback,
    hooks,
    crashes,
    outcomes,
    lines,
    deliver: (body, headers) =>
      handleCallback(
        { method: "POST", headers: headers ?? signedHeaders(CLIENT_SECRET, clock.now()), body: Buffer.from(JSON.stringify(body)) },
        callback,
      ),
    idle: () => dispatcher.idle(),
    resetDoubles() {
      collectTokens();
      w.dt.reset();
      w.llm.reset();
    },
    secrets() {
      collectTokens();
      return [CLIENT_SECRET, LLM_KEY, BACKUP_KEY, ...tokens];
    },
    async close() {
      await dispatcher.close(5_000);
      await Promise.allSettled([...workers.map((r) => r.table.close()), callbackTable.close()]);
      await tablestore?.close();
      await w.close();
      releaseConsole();
    },
  };
}

/** Asserts that no secret occurs in the log lines or in any of `texts`; reports where one did. */
export function expectNoSecrets(rig: Rig, texts: Iterable<string> = [], seed?: number): number {
  const secrets = rig.secrets().filter((s) => s.length >= 6);
  expect(secrets.length).toBeGreaterThanOrEqual(3);
  const leaks: string[] = [];
  let scanned = 0;
  for (const text of [...rig.lines, ...texts]) {
    scanned++;
    for (const s of secrets) if (text.includes(s)) leaks.push(`${s.slice(0, 4)}… in: ${text.slice(0, 160)}`);
  }
  expect(leaks, `secrets leaked (seed ${seed ?? "-"})`).toEqual([]);
  return scanned;
}

/** Prints past the captured console (the test output keeps it). */
export function print(text: string): void {
  realConsoleLog(text);
}

/** One summary line for the README's "Reliability" section. */
export function summary(name: string, fields: Record<string, string | number>): void {
  realConsoleLog(`reliability ${name}: ${Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(" ")}`);
}

/** Runs `tasks` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (i < items.length) {
        const index = i++;
        await task(items[index]!, index);
      }
    }),
  );
}
