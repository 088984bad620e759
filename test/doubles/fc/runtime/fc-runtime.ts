// What FC 2.0's Node.js runtime does inside an instance: load `file.export` from the code dir, build
// `context`, call event handlers `(event, context, callback)` / async and HTTP handlers
// `(req, resp, context)`, and turn results and errors into FC's invocation outcomes.
import { existsSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";

export interface FcCredentials {
  accessKeyId: string | undefined;
  accessKeySecret: string | undefined;
  securityToken: string | undefined;
}

/** The serialisable part of FC's `context` (the logger is added where the handler runs). */
export interface ContextInit {
  requestId: string;
  credentials: FcCredentials;
  function: {
    name: string;
    handler: string;
    memory: number;
    timeout: number;
    initializer: string | undefined;
    initializationTimeout: number;
  };
  service: { name: string; logProject: string; logStore: string; qualifier: string; versionId: string };
  region: string;
  accountId: string;
}

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogSink = (level: LogLevel, message: string) => void;

export interface FcLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  setLogLevel(level: string): void;
}

export interface FcContext extends ContextInit {
  logger: FcLogger;
}

export interface HttpRequestData {
  method: string;
  /** path after `/2016-08-15/proxy/{service}/{function}` */
  path: string;
  /** the request URL as received (path and query) */
  url: string;
  headers: Record<string, string>;
  queries: Record<string, string | string[]>;
  clientIP: string;
  body: Buffer;
}

export interface FcErrorBody {
  errorMessage: string;
  errorType?: string;
  stackTrace?: string[];
}

export type ErrorOutcome = {
  ok: false;
  errorType: "HandledInvocationError" | "UnhandledInvocationError";
  error: FcErrorBody;
};
export type EventOutcome = { ok: true; body: Buffer } | ErrorOutcome;
export type HttpResponseData = { status: number; headers: Record<string, string>; body: Buffer };
export type HttpOutcome = { ok: true; response: HttpResponseData } | ErrorOutcome;

type AnyFunction = (...args: unknown[]) => unknown;

const LEVELS: Record<string, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function makeLogger(requestId: string, sink: LogSink): FcLogger {
  let min = LEVELS.debug!;
  const emit = (level: LogLevel, args: unknown[]) => {
    if (LEVELS[level]! < min) return;
    const text = args.map((a) => (typeof a === "string" ? a : safeInspect(a))).join(" ");
    sink(level, `${new Date().toISOString()} ${requestId} [${level.toUpperCase()}] ${text}`);
  };
  return {
    debug: (...a) => emit("debug", a),
    info: (...a) => emit("info", a),
    log: (...a) => emit("info", a),
    warn: (...a) => emit("warn", a),
    error: (...a) => emit("error", a),
    setLogLevel: (level) => {
      min = LEVELS[level.toLowerCase()] ?? min;
    },
  };
}

function safeInspect(value: unknown): string {
  if (value instanceof Error) return value.stack ?? value.message;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function makeContext(init: ContextInit, sink: LogSink): FcContext {
  return { ...init, logger: makeLogger(init.requestId, sink) };
}

/** Resolves `file.export` against `codeDir` (file.mjs, file.js, file.cjs) and imports it. */
export async function loadHandler(codeDir: string, spec: string): Promise<AnyFunction> {
  const dot = spec.lastIndexOf(".");
  if (dot <= 0 || dot === spec.length - 1) throw new Error(`Invalid handler '${spec}': expected 'file.export'`);
  const base = spec.slice(0, dot);
  const exportName = spec.slice(dot + 1);
  const root = path.resolve(codeDir);
  const candidates = [".mjs", ".js", ".cjs"].map((ext) => path.resolve(root, base + ext));
  const file = candidates.find((f) => f.startsWith(root + path.sep) && existsSync(f));
  if (!file) throw new Error(`Cannot find module '${base}' (looked for ${base}.mjs, ${base}.js, ${base}.cjs)`);
  const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Record<string, unknown>;
  const direct = mod[exportName];
  const viaDefault =
    mod.default && typeof mod.default === "object" ? (mod.default as Record<string, unknown>)[exportName] : undefined;
  const fn = typeof direct === "function" ? direct : viaDefault;
  if (typeof fn !== "function") throw new Error(`Handler '${exportName}' is missing on module '${base}'`);
  return fn as AnyFunction;
}

export function errorBody(err: unknown): FcErrorBody {
  if (err instanceof Error) {
    return {
      errorMessage: err.message,
      errorType: err.name,
      ...(err.stack ? { stackTrace: err.stack.split("\n").map((l) => l.trim()) } : {}),
    };
  }
  if (typeof err === "string") return { errorMessage: err };
  return { errorMessage: safeInspect(err) };
}

export function unhandled(err: unknown): ErrorOutcome {
  return { ok: false, errorType: "UnhandledInvocationError", error: errorBody(err) };
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}

/** FC's encoding of an event handler's result: bytes as-is, strings as utf8, anything else as JSON. */
export function encodeResult(value: unknown): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === "string") return Buffer.from(value, "utf8");
  return Buffer.from(JSON.stringify(value) ?? "", "utf8");
}

/**
 * Calls a handler written either with a node-style callback (last parameter) or as an async
 * function; whichever settles first wins. Callback errors are "handled", throws/rejections
 * "unhandled", as FC labels them.
 */
function callDual(fn: AnyFunction, args: unknown[]): Promise<{ ok: true; value: unknown } | ErrorOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: { ok: true; value: unknown } | ErrorOutcome) => {
      if (!settled) {
        settled = true;
        resolve(o);
      }
    };
    const callback = (err?: unknown, value?: unknown) => {
      if (err !== undefined && err !== null) settle({ ok: false, errorType: "HandledInvocationError", error: errorBody(err) });
      else settle({ ok: true, value });
    };
    try {
      const ret = fn(...args, callback);
      if (isThenable(ret)) {
        ret.then(
          (value) => settle({ ok: true, value }),
          (err: unknown) => settle(unhandled(err)),
        );
      }
    } catch (err) {
      settle(unhandled(err));
    }
  });
}

export async function callEventHandler(fn: AnyFunction, event: Buffer, context: FcContext): Promise<EventOutcome> {
  const r = await callDual(fn, [event, context]);
  return r.ok ? { ok: true, body: encodeResult(r.value) } : r;
}

/** Runs an initializer `(context, callback)` or `async (context)`. */
export async function callInitializer(fn: AnyFunction, context: FcContext): Promise<ErrorOutcome | undefined> {
  const r = await callDual(fn, [context]);
  return r.ok ? undefined : r;
}

export type FcHttpRequest = Readable & HttpRequestData;

export interface FcHttpResponse {
  setStatusCode(code: number): void;
  setHeader(name: string, value: unknown): void;
  deleteHeader(name: string): void;
  send(body?: Buffer | Uint8Array | string | Readable): void;
}

export function makeHttpRequest(data: HttpRequestData): FcHttpRequest {
  const stream = new Readable({ read() {} });
  stream.push(data.body);
  stream.push(null);
  return Object.assign(stream, {
    method: data.method,
    path: data.path,
    url: data.url,
    headers: data.headers,
    queries: data.queries,
    clientIP: data.clientIP,
    body: data.body,
  });
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Calls an FC 2.0 HTTP handler; the response is complete when `resp.send` has been called. */
export function callHttpHandler(fn: AnyFunction, data: HttpRequestData, context: FcContext): Promise<HttpOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: HttpOutcome) => {
      if (!settled) {
        settled = true;
        resolve(o);
      }
    };
    let status = 200;
    const headers = new Map<string, [string, string]>();
    let sent = false;
    const resp: FcHttpResponse = {
      setStatusCode: (code) => {
        status = code;
      },
      setHeader: (name, value) => {
        headers.set(name.toLowerCase(), [name, Array.isArray(value) ? value.map(String).join(", ") : String(value)]);
      },
      deleteHeader: (name) => {
        headers.delete(name.toLowerCase());
      },
      send: (body) => {
        if (sent) return;
        sent = true;
        const finish = (buf: Buffer) =>
          settle({ ok: true, response: { status, headers: Object.fromEntries([...headers.values()]), body: buf } });
        if (body instanceof Readable) collect(body).then(finish, (err: unknown) => settle(unhandled(err)));
        else finish(encodeResult(body ?? ""));
      },
    };
    try {
      const ret = fn(makeHttpRequest(data), resp, context);
      if (isThenable(ret)) ret.then(undefined, (err: unknown) => settle(unhandled(err)));
    } catch (err) {
      settle(unhandled(err));
    }
  });
}
