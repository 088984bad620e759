// Inside a table process the bench runs (dynalite, the Tablestore double): the requests its HTTP
// server answered, per operation, and the time each took from arrival to the end of its response,
// read from Node's HTTP diagnostics channels (nothing in the server changes).
import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage, ServerResponse } from "node:http";

export interface ServerStats {
  counts: Record<string, number>;
  /** Summed milliseconds per operation. */
  ms: Record<string, number>;
}

export function watchServer(operation: (req: IncomingMessage) => string): ServerStats {
  const stats: ServerStats = { counts: {}, ms: {} };
  const started = new WeakMap<IncomingMessage, { op: string; at: number }>();
  subscribe("http.server.request.start", (message) => {
    const req = (message as { request: IncomingMessage }).request;
    const op = operation(req);
    stats.counts[op] = (stats.counts[op] ?? 0) + 1;
    started.set(req, { op, at: performance.now() });
  });
  subscribe("http.server.response.finish", (message) => {
    const { request } = message as { request: IncomingMessage; response: ServerResponse };
    const s = started.get(request);
    if (s) stats.ms[s.op] = (stats.ms[s.op] ?? 0) + (performance.now() - s.at);
  });
  return stats;
}
