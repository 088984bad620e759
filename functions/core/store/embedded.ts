// The embedded table: a dynalite server in this process on 127.0.0.1 and a random port, with its
// LevelDB files in a directory or purely in memory, and a request handler for this process's AWS SDK
// client that hands each request to the server's own request listener without a socket. Loaded lazily
// so function bundles can leave it out.
import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import dynalite from "dynalite";
import { withCachedTableDefinitions } from "./embedded-table-definitions.js";

interface LevelDb {
  open(): Promise<void>;
  close(): Promise<void>;
}

/**
 * dynalite crashes the process when its LevelDB directory is locked (another process or server uses
 * it), so open it once ourselves first, with dynalite's own `level`, and fail with a clear error.
 */
async function assertUnlocked(path: string): Promise<void> {
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve("dynalite"));
  const { Level } = fromDynalite("level") as { Level: new (path: string, opts: object) => LevelDb };
  const db = new Level(path, { valueEncoding: "json" });
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new Error(`the embedded table files in ${path} cannot be opened (in use by another dingclaw process?): ${cause}`, {
      cause: err,
    });
  }
  await db.close();
}

/** The part of the AWS SDK's HTTP request the handler reads. */
export interface SdkHttpRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

/** The AWS SDK's request handler contract (smithy's HttpHandler), as far as a DynamoDB client uses it. */
export interface InProcessRequestHandler {
  handle(
    request: SdkHttpRequest,
    options?: { abortSignal?: { aborted: boolean } },
  ): Promise<{ response: { statusCode: number; headers: Record<string, string>; body: Uint8Array } }>;
  updateHttpClientConfig(): void;
  httpHandlerConfigs(): Record<string, never>;
  destroy(): void;
}

/** The AWS SDK's request signer contract (`sign(request, { signingDate })`), as its SigV4 auth scheme calls it. */
export interface PlaceholderSigner {
  sign<R extends { headers: Record<string, string> }>(request: R, opts?: { signingDate?: Date; signingRegion?: string }): Promise<R>;
}

export interface EmbeddedServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** The LevelDB directory, or undefined when in memory. */
  path: string | undefined;
  /** For a client in this process: the same server without a socket (no TCP, no HTTP parsing). */
  requestHandler: InProcessRequestHandler;
  /** For a client in this process: see `placeholderSigner`. */
  signer: PlaceholderSigner;
  close(): Promise<void>;
}

/**
 * dynalite checks no signature, only that a request carries SigV4's parts (an `AWS4-` Authorization
 * header with Credential, SignedHeaders and Signature, and an X-Amz-Date), and the embedded store
 * has no caller but this process: its client sends those parts with a placeholder signature instead
 * of hashing and HMAC-signing every request (about a fifth of an in-process request's CPU).
 */
export const placeholderSigner: PlaceholderSigner = {
  sign(request, opts) {
    const date = (opts?.signingDate ?? new Date()).toISOString().replace(/[-:]|\.\d{3}/g, "");
    const scope = `${date.slice(0, 8)}/${opts?.signingRegion ?? "local"}/dynamodb/aws4_request`;
    request.headers["x-amz-date"] = date;
    request.headers.authorization = `AWS4-HMAC-SHA256 Credential=dingclaw-local/${scope}, SignedHeaders=host;x-amz-date, Signature=unsigned`;
    return Promise.resolve(request);
  },
};

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

function requestUrl(request: SdkHttpRequest): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(request.query ?? {}))
    for (const value of Array.isArray(v) ? v : [v]) query.append(k, value ?? "");
  const q = query.toString();
  return (request.path || "/") + (q ? `?${q}` : "");
}

function bodyBuffer(body: unknown): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new Error("the embedded table takes string or byte request bodies only");
}

/**
 * Calls dynalite's request listener with a request and a response that have what it reads and writes
 * (method, url, headers, data/end events; statusCode, setHeader, end), so each call skips the
 * loopback socket, the HTTP framing on both sides and the SDK's socket pool, while dynalite still
 * validates and answers it exactly as over HTTP.
 */
function inProcessHandler(listener: Listener): InProcessRequestHandler {
  return {
    handle(request, options) {
      return new Promise((resolve, reject) => {
        if (options?.abortSignal?.aborted) {
          reject(Object.assign(new Error("Request aborted"), { name: "AbortError" }));
          return;
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = v;
        const body = bodyBuffer(request.body);
        const req = Object.assign(new EventEmitter(), { method: request.method, url: requestUrl(request), headers });
        const resHeaders: Record<string, string> = {};
        const res = {
          statusCode: 200,
          setHeader(name: string, value: unknown) {
            resHeaders[name.toLowerCase()] = String(value);
          },
          end(chunk?: string) {
            resolve({ response: { statusCode: res.statusCode, headers: resHeaders, body: chunk === undefined ? new Uint8Array() : Buffer.from(chunk) } });
          },
        };
        listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
        process.nextTick(() => {
          try {
            if (body) req.emit("data", body);
            req.emit("end");
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      });
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
}

/**
 * Starts dynalite without the artificial CREATING/DELETING delays real tables have, keeping its table
 * definitions in memory (see embedded-table-definitions.ts).
 */
export async function startDynalite(opts: { path?: string; port?: number } = {}): Promise<EmbeddedServer> {
  if (opts.path) {
    mkdirSync(opts.path, { recursive: true });
    await assertUnlocked(opts.path);
  }
  const { started: server } = withCachedTableDefinitions(() =>
    dynalite({
      ...(opts.path ? { path: opts.path } : {}),
      createTableMs: 0,
      deleteTableMs: 0,
      updateTableMs: 0,
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const [listener] = server.listeners("request") as Listener[];
  if (!listener) throw new Error("dynalite's server has no request listener");
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    path: opts.path,
    requestHandler: inProcessHandler(listener),
    signer: placeholderSigner,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      })),
  };
}
