// The IPC messages between `npm run bench` (test/bench/run.ts) and the processes it measures: probes
// of CPU time and memory taken inside each process, and the jobs the worker host runs. Plain types
// and no imports, so the measured processes load nothing extra; lib/procs.ts checks them with zod.

/** Resource figures a host reports about itself; CPU in microseconds, memory in bytes. */
export interface Probe {
  cpuUserUs: number;
  cpuSystemUs: number;
  rss: number;
  heapUsed: number;
  /** V8 heap committed (process.memoryUsage().heapTotal). */
  heapTotal: number;
  /** Memory of C++ objects bound to JS objects, Buffers included (process.memoryUsage().external). */
  external: number;
  arrayBuffers: number;
  /** Highest RSS the OS saw for the process over its whole life (getrusage maxrss). */
  maxRss: number;
  /** Highest sampled RSS since the last `peak-reset` (0 when sampling is off). */
  peakRss: number;
  /** Milliseconds since the process started. */
  uptimeMs: number;
  /** V8 heap spaces (committed and used bytes each), when the probe asked for them. */
  spaces?: Record<string, { committed: number; used: number }>;
}

/** Time a host spent with at least one request in flight, and the sum of all request durations. */
export interface Busy {
  requests: number;
  busyMs: number;
  sumMs: number;
}

export interface InvokeResult {
  id: number;
  ok: boolean;
  /** Epoch milliseconds (sub-millisecond precision) at the handler's start and end. */
  startedAt: number;
  endedAt: number;
  result?: string;
  error?: string;
}

export type FromHost =
  | { type: "ready"; port?: number; info: Record<string, number> }
  | { type: "probe"; id: number; probe: Probe; busy?: Busy }
  | { type: "invoked"; result: InvokeResult }
  | { type: "done"; id: number; data: Record<string, unknown> };

export type ToHost =
  | { type: "probe"; id: number; gc?: boolean; spaces?: boolean }
  | { type: "peak-reset" }
  | { type: "busy-reset" }
  | { type: "invoke"; id: number; event: string }
  | { type: "run"; id: number; args: Record<string, unknown> };

/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC, shared by every process), with
 * sub-millisecond precision: comparable across processes. (`performance.timeOrigin + now()` is not:
 * each process fixes its origin at start, and on a loaded VM the two clocks drift apart by ms per second.)
 */
export function epochMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
