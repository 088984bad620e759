// The recording dispatcher for the callback bench: a minimal stand-in for FC's invoke API that answers
// the worker's async invocation as FC does (202, x-fc-request-id) at once and records each job's
// msgId, without verifying signatures or running anything, so it costs the callback nothing extra.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

const JobShape = z.looseObject({ body: z.looseObject({ msgId: z.string() }) });
const INVOKE = /^\/2016-08-15\/services\/[^/]+\/functions\/[^/]+\/invocations$/;

export interface Recorder {
  url: string;
  /** Async invocations received (one per dispatched job). */
  invocations: number;
  msgIds: Set<string>;
  /** Client sockets seen: few means the callback reuses its connection to FC. */
  connections: number;
  malformed: number;
  reset(): void;
  close(): Promise<void>;
}

export async function startRecorder(): Promise<Recorder> {
  let requestId = 0;
  const sockets = new WeakSet<object>();
  const rec = {
    url: "",
    invocations: 0,
    msgIds: new Set<string>(),
    connections: 0,
    malformed: 0,
  };
  const server: Server = createServer((req, res) => {
    if (!sockets.has(req.socket)) {
      sockets.add(req.socket);
      rec.connections++;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.once("end", () => {
      const path = (req.url ?? "").split("?")[0] ?? "";
      if (req.method !== "POST" || !INVOKE.test(path) || req.headers["x-fc-invocation-type"] !== "Async") {
        res.writeHead(404, { "content-type": "application/json", "x-fc-request-id": `rec-${++requestId}` });
        res.end('{"ErrorCode":"NotFound","ErrorMessage":"not an async invocation"}');
        return;
      }
      let job: unknown;
      try {
        job = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        job = undefined;
      }
      const parsed = JobShape.safeParse(job);
      if (parsed.success) rec.msgIds.add(parsed.data.body.msgId);
      else rec.malformed++;
      rec.invocations++;
      res.writeHead(202, { "x-fc-request-id": `rec-${++requestId}`, "content-length": "0" });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  rec.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(rec, {
    reset() {
      rec.invocations = 0;
      rec.msgIds.clear();
      rec.connections = 0;
      rec.malformed = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
