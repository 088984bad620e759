// Load generator for the callback benches: autocannon (in this process) sending a fixed number of
// requests over a fixed number of keep-alive connections, each request a distinct, validly signed
// DingTalk message; bounded in time. Latencies and wall time are taken from autocannon's per-response
// events (its own summary rounds up to its sampling interval).
import autocannon from "autocannon";
import { epochMs } from "../protocol.js";

export interface LoadOptions {
  url: string;
  connections: number;
  amount: number;
  headers: Record<string, string>;
  /** A fresh body per request. */
  body: () => string;
  /** Stop after this long even if not all requests were answered. */
  maxMs: number;
}

export interface LoadResult {
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  wallMs: number;
  rps: number;
  /** Per-request latency, ms. */
  latencies: number[];
  truncated: boolean;
  statuses: Record<string, number>;
}

export function fire(opts: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    let last = 0;
    let truncated = false;
    const started = epochMs();
    const instance = autocannon(
      {
        url: opts.url,
        connections: opts.connections,
        amount: opts.amount,
        timeout: 10,
        sampleInt: 50,
        requests: [{ method: "POST", path: "/", headers: opts.headers, setupRequest: (req) => ({ ...req, body: opts.body() }) }],
      },
      (err, result) => {
        clearTimeout(guard);
        if (err) return reject(err);
        const wallMs = (last || epochMs()) - started;
        resolve({
          sent: latencies.length + result.errors + result.timeouts,
          ok: result["2xx"],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          wallMs,
          rps: latencies.length / (wallMs / 1000),
          latencies,
          truncated,
          statuses,
        });
      },
    );
    instance.on("response", (_client, status, _bytes, ms) => {
      latencies.push(ms);
      statuses[status] = (statuses[status] ?? 0) + 1;
      last = epochMs();
    });
    const guard = setTimeout(() => {
      truncated = true;
      instance.stop();
    }, opts.maxMs);
  });
}
