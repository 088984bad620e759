// Table fault proxy: an HTTP proxy in front of a real DynamoDB-API server (dynalite) that passes
// requests through, or answers DynamoDB's own throttling/5xx errors, loses responses, or goes down.
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * - throttling / provisioned: HTTP 400 `ThrottlingException` / `ProvisionedThroughputExceededException`
 * - server_error: HTTP 500 `InternalServerError`
 * - reset: the connection is cut before the request reaches the table
 * - lose_response: the request IS applied by the table, then the connection is cut (the ack is lost)
 */
export type TableFaultKind = "throttling" | "provisioned" | "server_error" | "reset" | "lose_response";

export interface TableFaultOptions {
  /** How many matching requests it affects; default: until `clear()`. */
  times?: number;
  /** Only these DynamoDB actions (e.g. ["UpdateItem"]); default: all. */
  actions?: string[];
  /** Lets this many matching requests through first (e.g. skip: 1 hits the second UpdateItem). */
  skip?: number;
}

export interface ProxiedRequest {
  /** The DynamoDB action from `x-amz-target`, e.g. "PutItem". */
  action: string;
  /** The fault that answered it, if any; "down" is never recorded (the connection is refused). */
  fault?: TableFaultKind;
}

export interface TableProxy {
  /** `http://127.0.0.1:<port>`: use as the table endpoint. */
  url: string;
  port: number;
  fault(kind: TableFaultKind, opts?: TableFaultOptions): void;
  /** Removes every fault (not `down`). */
  clear(): void;
  /** Refuses connections (closes the listener and cuts open sockets) until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  readonly isDown: boolean;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

interface ActiveFault {
  kind: TableFaultKind;
  skip: number;
  left: number;
  actions: Set<string> | undefined;
}

const ERRORS: Record<"throttling" | "provisioned" | "server_error", { status: number; type: string; message: string }> = {
  throttling: { status: 400, type: "ThrottlingException", message: "Rate of requests exceeds the allowed throughput." },
  provisioned: {
    status: 400,
    type: "ProvisionedThroughputExceededException",
    message: "The level of configured provisioned throughput for the table was exceeded.",
  },
  server_error: { status: 500, type: "InternalServerError", message: "Internal server error" },
};

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startTableProxy(target: string, opts: { port?: number } = {}): Promise<TableProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const faults: ActiveFault[] = [];
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  let isDown = false;

  const takeFault = (action: string): TableFaultKind | undefined => {
    const i = faults.findIndex((f) => f.left > 0 && (!f.actions || f.actions.has(action)));
    if (i < 0) return undefined;
    const f = faults[i]!;
    if (f.skip > 0) {
      f.skip--;
      return undefined;
    }
    f.left--;
    if (f.left <= 0) faults.splice(i, 1);
    return f.kind;
  };

  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const out = request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, agent },
        (res) => {
          readAll(res).then((b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }), reject);
        },
      );
      out.on("error", reject);
      out.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readAll(req);
    const target = req.headers["x-amz-target"];
    const action = (Array.isArray(target) ? target[0] : target)?.split(".").pop() ?? "unknown";
    const kind = takeFault(action);
    requests.push(kind ? { action, fault: kind } : { action });
    if (kind === "reset") {
      req.socket.destroy();
      return;
    }
    if (kind === "throttling" || kind === "provisioned" || kind === "server_error") {
      const e = ERRORS[kind];
      res.writeHead(e.status, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "table-proxy" });
      res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${e.type}`, message: e.message }));
      return;
    }
    const answer = await forward(req, body);
    if (kind === "lose_response") {
      req.socket.destroy();
      return;
    }
    const headers = { ...answer.headers };
    delete headers["transfer-encoding"];
    delete headers.connection;
    res.writeHead(answer.status, { ...headers, "content-length": String(answer.body.length) });
    res.end(answer.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end("table proxy: upstream failed");
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  await listen(opts.port ?? 0);
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get isDown() {
      return isDown;
    },
    fault(kind, o = {}) {
      faults.push({ kind, skip: o.skip ?? 0, left: o.times ?? Infinity, actions: o.actions ? new Set(o.actions) : undefined });
    },
    clear() {
      faults.length = 0;
    },
    async down() {
      if (isDown) return;
      isDown = true;
      await stop();
    },
    async up() {
      if (!isDown) return;
      await listen(port);
      isDown = false;
    },
    async close() {
      if (!isDown) await stop();
      isDown = true;
      agent.destroy();
    },
  };
}
