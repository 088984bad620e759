// Host side of the bench IPC (runs inside measured processes): answers probes with this process's own
// CPU time (process.cpuUsage) and memory, samples peak RSS on request, and sends messages to the bench.
import { epochMs, type Busy, type FromHost, type Probe, type ToHost } from "../protocol.js";

export { epochMs };

export function toParent(message: FromHost): void {
  process.send?.(message);
}

export interface ProbeOptions {
  /** Request accounting, when the host serves requests. */
  busy?: () => Busy;
  resetBusy?: () => void;
  /** Other messages (invoke, run). */
  onMessage?: (message: ToHost) => void;
}

const SAMPLE_MS = 10;

/** For hosts the bench wrote: SIGTERM exits normally (so --cpu-prof and friends write their files). */
export function exitOnSigterm(): void {
  process.once("SIGTERM", () => process.exit(0));
}

/** Installs the IPC listener; a no-op without an IPC channel. */
export function serveProbes(opts: ProbeOptions = {}): void {
  if (!process.send) return;
  let peak = 0;
  let sampler: NodeJS.Timeout | undefined;
  const probe = (): Probe => {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    if (sampler) peak = Math.max(peak, mem.rss);
    return {
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      heapTotal: mem.heapTotal,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
      maxRss: process.resourceUsage().maxRSS * 1024,
      peakRss: peak,
      uptimeMs: performance.now(),
    };
  };
  process.on("message", (raw: unknown) => {
    const message = raw as ToHost;
    switch (message.type) {
      case "probe": {
        const gc = (globalThis as { gc?: () => void }).gc;
        if (message.gc && gc) gc();
        const answer = (spaces?: Probe["spaces"]) =>
          toParent({ type: "probe", id: message.id, probe: { ...probe(), ...(spaces ? { spaces } : {}) }, ...(opts.busy ? { busy: opts.busy() } : {}) });
        if (message.spaces) void heapSpaces().then(answer);
        else answer();
        return;
      }
      case "peak-reset":
        peak = process.memoryUsage.rss();
        sampler ??= setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), SAMPLE_MS);
        sampler.unref();
        return;
      case "busy-reset":
        opts.resetBusy?.();
        return;
      default:
        opts.onMessage?.(message);
    }
  });
}

/** V8's heap spaces; node:v8 is loaded only when a probe asks, so other probes load nothing. */
async function heapSpaces(): Promise<NonNullable<Probe["spaces"]>> {
  const v8 = await import("node:v8");
  return Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { committed: s.space_size, used: s.space_used_size }]));
}

/** Counts requests, the time at least one was in flight (what FC bills an instance with concurrency) and their summed durations. */
export class BusyMeter {
  private inFlight = 0;
  private since = 0;
  private stats: Busy = { requests: 0, busyMs: 0, sumMs: 0 };

  begin(): number {
    const now = performance.now();
    if (this.inFlight++ === 0) this.since = now;
    return now;
  }

  end(began: number): void {
    const now = performance.now();
    this.stats.requests++;
    this.stats.sumMs += now - began;
    if (--this.inFlight === 0) this.stats.busyMs += now - this.since;
  }

  read(): Busy {
    const open = this.inFlight > 0 ? performance.now() - this.since : 0;
    return { ...this.stats, busyMs: this.stats.busyMs + open };
  }

  reset(): void {
    this.stats = { requests: 0, busyMs: 0, sumMs: 0 };
    if (this.inFlight > 0) this.since = performance.now();
  }
}
