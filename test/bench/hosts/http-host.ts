// The HTTP front both callback-side hosts share (the real callback bundle and the bare floor server),
// so their CPU figures differ only by what their handlers do: node:http on 127.0.0.1, request
// accounting for FC billing, probes over IPC, and a `ready` message carrying the port.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BusyMeter, exitOnSigterm, serveProbes, toParent } from "./ipc.js";

export type HttpHandle = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export async function startHttpHost(handle: HttpHandle, info: Record<string, number> = {}): Promise<void> {
  const meter = new BusyMeter();
  const server = createServer((req, res) => {
    const began = meter.begin();
    handle(req, res)
      .catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
      })
      .finally(() => meter.end(began));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  exitOnSigterm();
  serveProbes({ busy: () => meter.read(), resetBusy: () => meter.reset() });
  toParent({ type: "ready", port: (server.address() as AddressInfo).port, info: { ...info, listeningMs: performance.now() } });
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
}
