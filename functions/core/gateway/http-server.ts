// The gateway's small HTTP server: a route table over node:http with a bounded body reader,
// request ids, timeouts against slow clients, and JSON errors instead of crashes.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describeError, type Logger } from "../log.js";

export interface GatewayRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  /** Undefined when the body exceeded the route's limit. */
  body: Buffer | undefined;
  requestId: string;
}

export interface GatewayResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface Route {
  method: string;
  /** Exact path, or a prefix ending in "/*". */
  path: string;
  maxBodyBytes?: number;
  handle(req: GatewayRequest): Promise<GatewayResponse> | GatewayResponse;
}

export const json = (status: number, value: unknown, headers: Record<string, string> = {}): GatewayResponse => ({
  status,
  headers: { "content-type": "application/json; charset=utf-8", ...headers },
  body: JSON.stringify(value),
});

function matches(route: Route, path: string): boolean {
  return route.path.endsWith("/*") ? path.startsWith(route.path.slice(0, -1)) : route.path === path;
}

/** The client stopped sending the body (aborted, reset, bad chunked framing): its problem, not ours. */
class BodyReadError extends Error {
  constructor(cause: unknown) {
    super("request body incomplete", { cause });
    this.name = "BodyReadError";
  }
}

/** Reads at most `limit` bytes; undefined (and the rest discarded) when the body is larger. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > limit) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    req.on("error", (err) => reject(new BodyReadError(err)));
  });
}

export interface GatewayServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** The request target as a URL, or undefined when it is not one (e.g. "////" or "//host:bad"). */
function targetOf(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? "/", "http://local");
  } catch {
    return undefined;
  }
}

/** `routes` is read on every request, so routes pushed after start are served too. */
export async function startHttpServer(opts: { routes: Route[]; port: number; host: string; log: Logger }): Promise<GatewayServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const target = targetOf(req);
    const url = target ?? new URL("http://local/");
    const method = (req.method ?? "GET").toUpperCase();
    let out: GatewayResponse;
    const candidates = target ? opts.routes.filter((r) => matches(r, url.pathname)) : [];
    const route = candidates.find((r) => r.method === method);
    try {
      if (!target) {
        req.resume();
        out = json(400, { error: "invalid request target" });
      } else if (!route) {
        req.resume();
        out = candidates.length
          ? json(405, { error: "method not allowed" }, { allow: candidates.map((r) => r.method).join(", ") })
          : json(404, { error: "not found" });
      } else {
        const body = method === "GET" || method === "HEAD" ? Buffer.alloc(0) : await readBody(req, route.maxBodyBytes ?? 1024 * 1024);
        out = await route.handle({ method, path: url.pathname, query: url.searchParams, headers: req.headers, body, requestId });
      }
    } catch (err) {
      if (err instanceof BodyReadError) {
        opts.log.info("request body incomplete", { requestId, path: url.pathname, error: describeError(err.cause) });
        out = json(400, { error: "request body incomplete" });
      } else {
        opts.log.error("request failed", { requestId, path: url.pathname, error: describeError(err) });
        out = json(500, { error: "internal error", requestId });
      }
    }
    res.writeHead(out.status, { "x-request-id": requestId, ...out.headers });
    res.end(out.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.log.error("request failed", { error: describeError(err) });
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
      res.end();
    });
  });
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    server,
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
