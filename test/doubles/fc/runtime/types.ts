// The contract between the double's invoker and its two ways of running handlers (in this process
// or in a child `node` process per function instance).
import type { ContextInit, ErrorOutcome, EventOutcome, HttpOutcome, HttpRequestData, LogLevel } from "./fc-runtime.js";

export interface InvocationTarget {
  /** Identifies one FC "instance": same function, code and configuration. */
  instanceKey: string;
  /** "service/function" */
  label: string;
  codeDir: string;
  handler: string;
  initializer: string | undefined;
  timeoutMs: number;
  /** FC's variables plus the function's environmentVariables (no host variables). */
  env: Record<string, string>;
  context: ContextInit;
}

export interface InvocationHooks {
  onLog(level: LogLevel, line: string): void;
}

export interface Runner {
  invokeEvent(target: InvocationTarget, payload: Buffer, hooks: InvocationHooks): Promise<EventOutcome>;
  invokeHttp(target: InvocationTarget, request: HttpRequestData, hooks: InvocationHooks): Promise<HttpOutcome>;
  close(): Promise<void>;
}

export function timeoutOutcome(target: InvocationTarget): ErrorOutcome {
  return {
    ok: false,
    errorType: "UnhandledInvocationError",
    error: { errorMessage: `Function timed out after ${Math.round(target.timeoutMs / 1000)} seconds` },
  };
}

export const CRASH_MESSAGE = "Process exited unexpectedly before completing request";

/** Resolves to `work`'s value, or to `onTimeout()` after `ms` (the timer never keeps the process alive). */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => resolve(onTimeout()), ms);
    timer.unref();
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
