// Runs handlers inside the double's own process (fast, debuggable). The function's environment is
// applied to process.env while any invocation is in flight and restored when none is. Limitation:
// overlapping invocations of functions with different values for the same variable see the last
// writer's value, and a timed-out handler keeps running (it cannot be killed). Use the
// child-process runner when that matters.
import {
  callEventHandler,
  callHttpHandler,
  callInitializer,
  type ErrorOutcome,
  type EventOutcome,
  type FcContext,
  type HttpOutcome,
  type HttpRequestData,
  loadHandler,
  makeContext,
  unhandled,
} from "./fc-runtime.js";
import { type InvocationHooks, type InvocationTarget, type Runner, timeoutOutcome, withTimeout } from "./types.js";

/** Reference-counted overlay of variables on process.env. */
class EnvScope {
  private active = 0;
  private readonly saved = new Map<string, string | undefined>();

  enter(vars: Record<string, string>): void {
    for (const [k, v] of Object.entries(vars)) {
      if (!this.saved.has(k)) this.saved.set(k, process.env[k]);
      process.env[k] = v;
    }
    this.active++;
  }

  exit(): void {
    this.active--;
    if (this.active > 0) return;
    for (const [k, v] of this.saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    this.saved.clear();
  }
}

type AnyHandler = Awaited<ReturnType<typeof loadHandler>>;

export class InProcessRunner implements Runner {
  private readonly env = new EnvScope();
  private readonly initialized = new Map<string, Promise<ErrorOutcome | undefined>>();

  invokeEvent(target: InvocationTarget, payload: Buffer, hooks: InvocationHooks): Promise<EventOutcome> {
    return this.run(target, hooks, (fn, ctx) => callEventHandler(fn, payload, ctx));
  }

  invokeHttp(target: InvocationTarget, request: HttpRequestData, hooks: InvocationHooks): Promise<HttpOutcome> {
    return this.run(target, hooks, (fn, ctx) => callHttpHandler(fn, request, ctx));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async run<T extends EventOutcome | HttpOutcome>(
    target: InvocationTarget,
    hooks: InvocationHooks,
    call: (fn: AnyHandler, ctx: FcContext) => Promise<T>,
  ): Promise<T | ErrorOutcome> {
    this.env.enter(target.env);
    try {
      const work = (async (): Promise<T | ErrorOutcome> => {
        const ctx = makeContext(target.context, (level, line) => hooks.onLog(level, line));
        const initError = await this.initialize(target, ctx);
        if (initError) return initError;
        return call(await loadHandler(target.codeDir, target.handler), ctx);
      })().catch((err: unknown) => unhandled(err));
      return await withTimeout<T | ErrorOutcome>(work, target.timeoutMs, () => timeoutOutcome(target));
    } finally {
      this.env.exit();
    }
  }

  /** Runs the function's initializer once per instance; a failed one is retried on the next call. */
  private async initialize(target: InvocationTarget, ctx: FcContext): Promise<ErrorOutcome | undefined> {
    const initializer = target.initializer;
    if (!initializer) return undefined;
    let pending = this.initialized.get(target.instanceKey);
    if (!pending) {
      pending = loadHandler(target.codeDir, initializer).then((fn) => callInitializer(fn, ctx), unhandled);
      this.initialized.set(target.instanceKey, pending);
    }
    const result = await pending;
    if (result) this.initialized.delete(target.instanceKey);
    return result;
  }
}
