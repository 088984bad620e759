// Runs handlers in child `node` processes, one warm process per FC instance (function + code +
// configuration), started in the unzipped code dir with only FC's environment. A process can be
// killed mid-invocation (armed with `armKill`: when the handler starts, or when it logs a given
// line), which fails its in-flight invocations the way an instance crash does on FC; the next
// invocation starts a fresh process.
import { type ChildProcess, fork } from "node:child_process";
import { createInterface } from "node:readline";
import { childEntry } from "./child-bundle.js";
import type { ErrorOutcome, EventOutcome, HttpOutcome, HttpRequestData } from "./fc-runtime.js";
import { type InvokeMessage, parseChildMessage } from "./ipc.js";
import { CRASH_MESSAGE, type InvocationHooks, type InvocationTarget, type Runner, timeoutOutcome, withTimeout } from "./types.js";

const HOST_VARS = ["PATH", "HOME", "LANG", "TMPDIR", "TEMP", "TMP", "SystemRoot"];

export type OutputSink = (label: string, stream: "stdout" | "stderr", line: string) => void;

export interface KillTrigger {
  /** delay after the trigger (default 0) */
  afterMs?: number;
  /** kill once the invocation logs a line (context.logger) containing / matching this, instead of when it starts */
  afterLog?: string | RegExp;
}

interface KillPlan extends KillTrigger {
  matches: (label: string) => boolean;
  done: () => void;
}

interface Pending {
  resolve: (outcome: EventOutcome | HttpOutcome) => void;
  hooks: InvocationHooks;
  kill: KillPlan | undefined;
}

function crashOutcome(code: number | null, signal: NodeJS.Signals | null): ErrorOutcome {
  const why = signal ? `signal ${signal}` : `exit code ${code ?? "unknown"}`;
  return { ok: false, errorType: "UnhandledInvocationError", error: { errorMessage: `${CRASH_MESSAGE} (${why})` } };
}

class ChildInstance {
  private readonly proc: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exitOutcome: ErrorOutcome | undefined;
  readonly exited: Promise<void>;

  constructor(
    readonly target: InvocationTarget,
    entry: string,
    onOutput: OutputSink,
    onExit: (instance: ChildInstance) => void,
  ) {
    const env: Record<string, string> = {};
    for (const k of HOST_VARS) {
      const v = process.env[k];
      if (v !== undefined) env[k] = v;
    }
    Object.assign(env, target.env);
    this.proc = fork(entry, [], {
      cwd: target.codeDir,
      env,
      execArgv: [],
      serialization: "advanced",
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    for (const stream of ["stdout", "stderr"] as const) {
      const readable = this.proc[stream];
      if (readable) createInterface({ input: readable }).on("line", (line) => onOutput(target.label, stream, line));
    }
    this.proc.on("message", (raw) => this.onMessage(raw));
    this.exited = new Promise((resolve) => {
      const finish = (outcome: ErrorOutcome) => {
        if (this.exitOutcome) return;
        this.exitOutcome = outcome;
        for (const p of this.pending.values()) p.resolve(outcome);
        this.pending.clear();
        onExit(this);
        resolve();
      };
      this.proc.on("exit", (code, signal) => finish(crashOutcome(code, signal)));
      this.proc.on("error", (err) =>
        finish({ ok: false, errorType: "UnhandledInvocationError", error: { errorMessage: `${CRASH_MESSAGE}: ${err.message}` } }),
      );
    });
  }

  get alive(): boolean {
    return this.exitOutcome === undefined;
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  invoke(
    t: InvocationTarget,
    input: InvokeMessage["input"],
    hooks: InvocationHooks,
    kill: KillPlan | undefined,
  ): Promise<EventOutcome | HttpOutcome> {
    if (this.exitOutcome) return Promise.resolve(this.exitOutcome);
    const id = this.nextId++;
    const message: InvokeMessage = {
      type: "invoke",
      id,
      codeDir: t.codeDir,
      handler: t.handler,
      initializer: t.initializer,
      context: t.context,
      input,
    };
    const result = new Promise<EventOutcome | HttpOutcome>((resolve) => {
      this.pending.set(id, { resolve, hooks, kill });
    });
    this.proc.send(message);
    return withTimeout<EventOutcome | HttpOutcome>(result, t.timeoutMs, () => {
      this.pending.delete(id);
      this.kill();
      return timeoutOutcome(t);
    });
  }

  kill(): void {
    if (this.alive) this.proc.kill("SIGKILL");
  }

  private scheduleKill(p: Pending): void {
    const plan = p.kill;
    if (!plan) return;
    p.kill = undefined;
    const timer = setTimeout(() => {
      this.kill();
      plan.done();
    }, plan.afterMs ?? 0);
    timer.unref();
  }

  private onMessage(raw: unknown): void {
    const msg = parseChildMessage(raw);
    if (!msg) return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.type === "log") {
      p.hooks.onLog(msg.level, msg.line);
      const pattern = p.kill?.afterLog;
      if (pattern !== undefined && (typeof pattern === "string" ? msg.line.includes(pattern) : pattern.test(msg.line))) {
        this.scheduleKill(p);
      }
    } else if (msg.type === "started" && p.kill && p.kill.afterLog === undefined) {
      this.scheduleKill(p);
    } else if (msg.type === "result") {
      this.pending.delete(msg.id);
      p.resolve(msg.outcome);
    }
  }
}

export class ChildProcessRunner implements Runner {
  private readonly instances = new Map<string, ChildInstance>();
  private readonly killPlans: KillPlan[] = [];
  private closed = false;

  constructor(private readonly onOutput: OutputSink) {}

  /** Kills the process running the next invocation whose label matches, when `trigger` fires; resolves after the kill. */
  armKill(matches: (label: string) => boolean, trigger: KillTrigger): Promise<void> {
    return new Promise((resolve) => this.killPlans.push({ ...trigger, matches, done: resolve }));
  }

  invokeEvent(target: InvocationTarget, payload: Buffer, hooks: InvocationHooks): Promise<EventOutcome> {
    return this.dispatch(target, { kind: "event", payload }, hooks) as Promise<EventOutcome>;
  }

  invokeHttp(target: InvocationTarget, request: HttpRequestData, hooks: InvocationHooks): Promise<HttpOutcome> {
    return this.dispatch(target, { kind: "http", request }, hooks) as Promise<HttpOutcome>;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.instances.values()];
    for (const i of all) i.kill();
    await Promise.all(all.map((i) => i.exited));
  }

  private async dispatch(target: InvocationTarget, input: InvokeMessage["input"], hooks: InvocationHooks) {
    const planIndex = this.killPlans.findIndex((p) => p.matches(target.label));
    const plan = planIndex >= 0 ? this.killPlans.splice(planIndex, 1)[0] : undefined;
    const entry = await childEntry();
    if (this.closed) return crashOutcome(null, "SIGKILL");
    return this.instanceFor(target, entry).invoke(target, input, hooks, plan);
  }

  private instanceFor(target: InvocationTarget, entry: string): ChildInstance {
    const existing = this.instances.get(target.instanceKey);
    if (existing?.alive) return existing;
    for (const [key, instance] of this.instances) {
      if (instance.target.label === target.label && key !== target.instanceKey && !instance.busy) instance.kill();
    }
    const created = new ChildInstance(target, entry, this.onOutput, (dead) => {
      if (this.instances.get(dead.target.instanceKey) === dead) this.instances.delete(dead.target.instanceKey);
    });
    this.instances.set(target.instanceKey, created);
    return created;
  }
}
