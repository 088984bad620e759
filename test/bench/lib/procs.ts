// Child processes the bench measures: spawned with an IPC channel, their `ready`, probes, job results
// and `done` answers parsed with zod, their output kept (last lines) for error messages.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { epochMs, type Busy, type FromHost, type InvokeResult, type Probe, type ToHost } from "../protocol.js";
import { FromHostSchema } from "./messages.js";
import { ROOT } from "./paths.js";

export interface StartOptions {
  /** Node flags before the script (e.g. --import tsx). */
  nodeArgs?: string[];
  args?: string[];
  env: Record<string, string | undefined>;
  /** How long `ready` may take (default 20 s). */
  readyTimeoutMs?: number;
  /** Wait for a ready IPC message (default true); false for hosts that cannot send one. */
  waitReady?: boolean;
}

export interface Ready {
  port: number | undefined;
  info: Record<string, number>;
  /** Epoch ms when the message arrived. */
  at: number;
}

const KEEP_LINES = 200;
/** `npm run bench -- --cpu-prof` sets this: every measured process writes a V8 CPU profile there on exit. */
let PROFILE_DIR: string | undefined;

export function profileInto(dir: string | undefined): void {
  PROFILE_DIR = dir;
}

/** Children still running: killed if the bench itself exits early, so nothing outlives it. */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** Kills `child` (SIGKILL) if the bench exits while it still runs. */
export function killOnBenchExit(child: ChildProcess): void {
  live.add(child);
  child.once("exit", () => live.delete(child));
}

export class HostProc {
  readonly child: ChildProcess;
  readonly spawnedAt: number;
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  readonly ready: Promise<Ready>;
  private nextId = 1;
  private readonly probes = new Map<number, (p: { probe: Probe; busy?: Busy }) => void>();
  private readonly dones = new Map<number, (d: Record<string, unknown>) => void>();
  private readonly lineWaiters = new Set<{ test: (l: string) => boolean; resolve: (at: number) => void }>();
  onInvoked: (r: InvokeResult) => void = () => {};

  private constructor(
    readonly name: string,
    script: string,
    opts: StartOptions,
  ) {
    this.spawnedAt = epochMs();
    const profile = PROFILE_DIR ? [`--cpu-prof`, `--cpu-prof-dir=${path.join(PROFILE_DIR, name.replace(/[^\w.-]+/g, "-"))}`] : [];
    this.child = spawn(process.execPath, [...profile, ...(opts.nodeArgs ?? []), script, ...(opts.args ?? [])], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const keep = () => {
      let rest = "";
      return (chunk: Buffer) => {
        const parts = (rest + chunk.toString("utf8")).split("\n");
        rest = parts.pop() ?? "";
        const at = epochMs();
        for (const line of parts) {
          this.lines.push(line);
          for (const w of this.lineWaiters)
            if (w.test(line)) {
              this.lineWaiters.delete(w);
              w.resolve(at);
            }
        }
        if (this.lines.length > KEEP_LINES) this.lines.splice(0, this.lines.length - KEEP_LINES);
      };
    };
    this.child.stdout?.on("data", keep());
    this.child.stderr?.on("data", keep());
    live.add(this.child);
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code) => {
        live.delete(this.child);
        resolve(code);
      }),
    );
    let markReady!: (r: Ready) => void;
    this.ready = new Promise<Ready>((resolve, reject) => {
      markReady = resolve;
      if (opts.waitReady === false) return;
      const limit = opts.readyTimeoutMs ?? 20_000;
      const timer = setTimeout(() => reject(this.failure(`not ready within ${limit} ms`)), limit);
      markReady = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(this.failure(`exited (${code}) before it was ready`));
      });
    });
    this.child.on("message", (raw: unknown) => {
      const parsed = FromHostSchema.safeParse(raw);
      if (!parsed.success) return;
      this.receive(parsed.data, markReady);
    });
  }

  static start(name: string, script: string, opts: StartOptions): HostProc {
    return new HostProc(name, script, opts);
  }

  private receive(m: FromHost, markReady: (r: Ready) => void): void {
    switch (m.type) {
      case "ready":
        markReady({ port: m.port, info: m.info, at: epochMs() });
        return;
      case "probe":
        this.probes.get(m.id)?.({ probe: m.probe, ...(m.busy ? { busy: m.busy } : {}) });
        this.probes.delete(m.id);
        return;
      case "invoked":
        this.onInvoked(m.result);
        return;
      case "done":
        this.dones.get(m.id)?.(m.data);
        this.dones.delete(m.id);
        return;
    }
  }

  failure(what: string): Error {
    return new Error(`${this.name} ${what}; last output:\n${this.lines.slice(-20).join("\n")}`);
  }

  send(message: ToHost): void {
    this.child.send(message);
  }

  /** CPU and memory from inside the process; after a full GC with `gc`, V8's heap spaces with `spaces`. */
  probe(gc = false, spaces = false): Promise<{ probe: Probe; busy?: Busy }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(this.failure("did not answer a probe")), 10_000);
      this.probes.set(id, (p) => {
        clearTimeout(timer);
        resolve(p);
      });
      this.send({ type: "probe", id, gc, ...(spaces ? { spaces } : {}) });
    });
  }

  /** Sends a `run` and resolves with its `done` data. */
  run(args: Record<string, unknown>, timeoutMs = 120_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(this.failure("did not finish its run")), timeoutMs);
      this.dones.set(id, (d) => {
        clearTimeout(timer);
        resolve(d);
      });
      this.send({ type: "run", id, args });
    });
  }

  /** Epoch ms when an output line matching `test` arrived (NaN if it already had). */
  waitForLine(test: (line: string) => boolean, timeoutMs = 20_000): Promise<number> {
    if (this.lines.some(test)) return Promise.resolve(Number.NaN);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.lineWaiters.delete(waiter);
        reject(this.failure("did not print the expected line"));
      }, timeoutMs);
      const waiter = {
        test,
        resolve: (at: number) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
      this.lineWaiters.add(waiter);
    });
  }

  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export function cpuUs(p: Probe): number {
  return p.cpuUserUs + p.cpuSystemUs;
}
