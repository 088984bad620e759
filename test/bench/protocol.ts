// The IPC messages between `npm run bench` (test/bench/run.ts) and the processes it measures: probes
// of CPU time and memory taken inside each process, and the jobs the worker host runs.
import { z } from "zod";

/** Resource figures a host reports about itself; CPU in microseconds, memory in bytes. */
export const ProbeSchema = z.object({
  cpuUserUs: z.number(),
  cpuSystemUs: z.number(),
  rss: z.number(),
  heapUsed: z.number(),
  /** Highest RSS the OS saw for the process over its whole life (getrusage maxrss). */
  maxRss: z.number(),
  /** Highest sampled RSS since the last `peak-reset` (0 when sampling is off). */
  peakRss: z.number(),
  /** Milliseconds since the process started. */
  uptimeMs: z.number(),
});
export type Probe = z.infer<typeof ProbeSchema>;

/** Time a host spent with at least one request in flight, and the sum of all request durations. */
export const BusySchema = z.object({ requests: z.number(), busyMs: z.number(), sumMs: z.number() });
export type Busy = z.infer<typeof BusySchema>;

export const InvokeResultSchema = z.object({
  id: z.number(),
  ok: z.boolean(),
  /** Epoch milliseconds (sub-millisecond precision) at the handler's start and end. */
  startedAt: z.number(),
  endedAt: z.number(),
  result: z.string().optional(),
  error: z.string().optional(),
});
export type InvokeResult = z.infer<typeof InvokeResultSchema>;

export const FromHostSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready"), port: z.number().optional(), info: z.record(z.string(), z.number()).default({}) }),
  z.object({ type: z.literal("probe"), id: z.number(), probe: ProbeSchema, busy: BusySchema.optional() }),
  z.object({ type: z.literal("invoked"), result: InvokeResultSchema }),
  z.object({ type: z.literal("done"), id: z.number(), data: z.record(z.string(), z.unknown()) }),
]);
export type FromHost = z.infer<typeof FromHostSchema>;
/** What a host sends (defaults not yet applied). */
export type FromHostMessage = z.input<typeof FromHostSchema>;

export type ToHost =
  | { type: "probe"; id: number; gc?: boolean }
  | { type: "peak-reset" }
  | { type: "busy-reset" }
  | { type: "invoke"; id: number; event: string }
  | { type: "run"; id: number; args: Record<string, unknown> };

/** Wall-clock epoch milliseconds with sub-millisecond precision, comparable across processes. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
