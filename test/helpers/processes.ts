// Test helper: run a host (gateway, doubles) as a real child process, capture every output line,
// wait for a line by predicate, and stop it with a signal. Used by the end-to-end tests.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface HostProcess {
  child: ChildProcess;
  /** stdout and stderr lines, in arrival order. */
  lines: string[];
  /** stdout lines parsed as JSON (non-JSON lines skipped). */
  records(): Record<string, unknown>[];
  waitFor(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * Starts a TypeScript entry from the repository root: by default `node --import tsx <script>`; with
 * `via: "launch"` as the npm scripts run it (`node infra/launch.mjs <script>`: bundled, plain node).
 */
export function startHost(
  script: string,
  env: Record<string, string | undefined>,
  args: string[] = [],
  opts: { via?: "tsx" | "launch" } = {},
): HostProcess {
  const runner = opts.via === "launch" ? ["infra/launch.mjs"] : ["--import", "tsx"];
  const child = spawn(process.execPath, [...runner, script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const stdout: string[] = [];
  const waiters = new Set<{ predicate: (l: string) => boolean; resolve: (l: string) => void }>();
  const feed = (target: string[] | undefined) => {
    let rest = "";
    return (chunk: Buffer) => {
      const parts = (rest + chunk.toString("utf8")).split("\n");
      rest = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        target?.push(line);
        for (const w of waiters)
          if (w.predicate(line)) {
            waiters.delete(w);
            w.resolve(line);
          }
      }
    };
  };
  child.stdout.on("data", feed(stdout));
  child.stderr.on("data", feed(undefined));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  return {
    child,
    lines,
    exited,
    records: () =>
      stdout.flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    waitFor(predicate, timeoutMs = 15_000) {
      const seen = lines.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = { predicate, resolve: (l: string) => (clearTimeout(timer), resolve(l)) };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`timed out waiting for a line; last lines:\n${lines.slice(-15).join("\n")}`));
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then(() => {
          if (!waiters.has(waiter)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          reject(new Error(`process exited while waiting; last lines:\n${lines.slice(-15).join("\n")}`));
        });
      });
    },
    async stop(signal = "SIGTERM", timeoutMs = 10_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Polls `check` until it returns a value other than undefined/false (event-driven tests' fallback). */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
