// The FC API double: a node:http server speaking the 2016-08-15 API so the real @alicloud/fc2
// client runs unchanged against it. Authenticates every request like FC, serves the control plane,
// and runs deployed handlers for invocations, HTTP triggers and timer triggers (fired on demand).
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { AsyncQueue, type AsyncInvocationRecord } from "./async-queue.js";
import { authenticate, type Credentials } from "./auth.js";
import { CodeStore } from "./code-store.js";
import { handleControlPlane } from "./control-plane.js";
import { type DataPlaneDeps, handleInvocation, handleProxy, type RawReply, runQueuedEvent } from "./data-plane.js";
import { FcApiError, fcErrors } from "./errors.js";
import { type FunctionLogLine, Invoker, type KillOptions, type RunMode } from "./invoker.js";
import { API_VERSION } from "./signing.js";
import { FcState } from "./state.js";
import { timerEvent } from "./timer.js";

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAX_KEPT_RECORDS = 10_000;

export interface RoleCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
}

export interface FcDoubleOptions {
  accountId: string;
  region: string;
  /** access key id → secret accepted for signed requests */
  accessKeys: Record<string, string>;
  /** STS access key id (starts with "STS") → the security token it must come with */
  securityTokens?: Record<string, string>;
  /**
   * Temporary credentials handed to functions of services that have a `role` (context.credentials
   * and ALIBABA_CLOUD_* variables). They are also accepted by the double's API, as STS keys.
   * Default: generated.
   */
  roleCredentials?: RoleCredentials;
  /** the double's clock (ms), for Date checks, timestamps and async event ages. Default Date.now */
  now?: () => number;
  host?: string;
  /** 0 (default) picks a free port */
  port?: number;
  /** where handlers run; a function decides per function. Default "in-process" */
  runMode?: RunMode | ((serviceName: string, functionName: string) => RunMode);
  /** delay before async retry number `retry` (1-based). Default 100 ms × 2^(retry−1), at most 2 s */
  asyncRetryDelayMs?: (retry: number) => number;
  sleep?: (ms: number) => Promise<void>;
  /** root for unzipped code; default a fresh temp dir removed on close */
  workDir?: string;
  /** FC's default domain forces `Content-Disposition: attachment` on HTTP-trigger responses. Default true */
  attachmentHeader?: boolean;
  /**
   * How HTTP triggers call handlers: "fc2" (default) `(req, resp, context)`; "fc3" as FC 3.0's built-in
   * runtimes do, an event handler given the request as an FC 3.0 HTTP event (see fc3-http.ts).
   */
  httpTrigger?: "fc2" | "fc3";
  /** called for every function log line (context.logger, and child-process stdout/stderr) */
  onFunctionLog?: (line: FunctionLogLine) => void;
}

export interface RequestLogEntry {
  requestId: string;
  method: string;
  /** decoded path after /2016-08-15 */
  path: string;
  status: number;
  errorCode?: string;
}

export interface FcDouble {
  url: string;
  port: number;
  accountId: string;
  region: string;
  state: FcState;
  roleCredentials: RoleCredentials;
  /** every async event accepted, with attempts and outcome */
  asyncInvocations: readonly AsyncInvocationRecord[];
  /** every API request served (method, path, status, FC error code) */
  requests: readonly RequestLogEntry[];
  functionLogs: readonly FunctionLogLine[];
  /** resolves when no async event is pending */
  idle(): Promise<void>;
  /**
   * Kills (SIGKILL) the child process running the next invocation of `functionName`, like an
   * instance crash: when its handler starts, or when it logs a line containing/matching
   * `opts.afterLog` through context.logger, plus `opts.afterMs`. Resolves once killed. Needs
   * runMode "child-process" for that function; throws otherwise.
   */
  killNextInvocation(functionName: string, opts?: KillOptions): Promise<void>;
  /**
   * Fires a timer trigger now (or as at `atMs`), as FC does: an async invocation with the event
   * {triggerTime, triggerName, payload}. Undefined when the trigger is disabled (enable: false).
   */
  fireTimer(serviceName: string, functionName: string, triggerName: string, atMs?: number): AsyncInvocationRecord | undefined;
  /** Fires every enabled timer trigger once per occurrence of its schedule in (fromMs, toMs]. */
  fireDueTimers(fromMs: number, toMs: number): AsyncInvocationRecord[];
  close(): Promise<void>;
}

function defaultRetryDelay(retry: number): number {
  return Math.min(2000, 100 * 2 ** (retry - 1));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(fcErrors.entityTooLarge(MAX_BODY_BYTES));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function write(res: ServerResponse, requestId: string, reply: RawReply): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = reply.status;
  for (const [k, v] of Object.entries(reply.headers)) res.setHeader(k, v);
  res.setHeader("x-fc-request-id", requestId);
  if (reply.body && reply.body.length > 0) {
    res.setHeader("content-length", reply.body.length);
    res.end(reply.body);
  } else {
    res.end();
  }
}

function jsonReply(status: number, value: unknown): RawReply {
  if (value === undefined) return { status, headers: {} };
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
    body: Buffer.from(JSON.stringify(value)),
  };
}

export async function startFcDouble(options: FcDoubleOptions): Promise<FcDouble> {
  const now = options.now ?? Date.now;
  const roleCredentials: RoleCredentials = options.roleCredentials ?? {
    accessKeyId: `STS.FcDoubleRole${randomBytes(4).toString("hex")}`,
    accessKeySecret: randomBytes(16).toString("hex"),
    securityToken: `fc-double-token-${randomBytes(16).toString("hex")}`,
  };
  const credentials: Credentials = {
    accountId: options.accountId,
    accessKeys: new Map([...Object.entries(options.accessKeys), [roleCredentials.accessKeyId, roleCredentials.accessKeySecret]]),
    securityTokens: new Map([
      ...Object.entries(options.securityTokens ?? {}),
      [roleCredentials.accessKeyId, roleCredentials.securityToken],
    ]),
    now,
  };
  const ownWorkDir = options.workDir === undefined;
  const workDir = options.workDir ?? (await mkdtemp(path.join(tmpdir(), "fc-double-")));
  const runMode = options.runMode ?? "in-process";
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  let baseUrl = "";
  const state = new FcState(now, (svc, fn) => `${baseUrl}/${API_VERSION}/proxy/${svc}/${fn}/`);
  const functionLogs: FunctionLogLine[] = [];
  const requests: RequestLogEntry[] = [];
  const invoker = new Invoker({
    state,
    codeStore: new CodeStore(workDir),
    accountId: options.accountId,
    region: options.region,
    roleCredentials,
    runMode: typeof runMode === "function" ? runMode : () => runMode,
    onLog: (line) => {
      if (functionLogs.length < MAX_KEPT_RECORDS) functionLogs.push(line);
      options.onFunctionLog?.(line);
    },
  });
  const queue = new AsyncQueue({
    now,
    sleep,
    retryDelayMs: options.asyncRetryDelayMs ?? defaultRetryDelay,
    limits: (r) => state.asyncLimits(r.serviceName, r.functionName, r.qualifier),
    run: (r) => runQueuedEvent(invoker, r),
  });
  const deps: DataPlaneDeps = {
    state,
    invoker,
    queue,
    credentials,
    attachmentHeader: options.attachmentHeader ?? true,
    httpTrigger: options.httpTrigger ?? "fc2",
    trigger: { accountId: options.accountId, region: options.region, now },
  };

  async function route(req: IncomingMessage, requestId: string, meta: { path: string }): Promise<RawReply> {
    const method = (req.method ?? "GET").toUpperCase();
    const rawUrl = req.url ?? "/";
    const url = new URL(rawUrl, "http://fc-double.invalid");
    meta.path = url.pathname;
    const prefix = `/${API_VERSION}/`;
    if (!url.pathname.startsWith(prefix)) throw fcErrors.pathNotSupported(method, url.pathname);
    let apiPath: string;
    try {
      apiPath = decodeURIComponent(url.pathname.slice(prefix.length - 1));
    } catch {
      throw fcErrors.invalidArgument(`the request path '${url.pathname}' is not correctly percent-encoded`);
    }
    meta.path = apiPath;
    const body = await readBody(req);
    const segments = apiPath.split("/").slice(1);

    if (segments[0] === "proxy") {
      const rawSegments = url.pathname.slice(prefix.length).split("/");
      if (segments.length < 3 || !segments[1] || !segments[2]) throw fcErrors.pathNotSupported(method, apiPath);
      return handleProxy(
        deps,
        {
          method,
          rawUrl,
          apiPath,
          rawSubPath: rawSegments.length > 3 ? "/" + rawSegments.slice(3).join("/") : "",
          service: segments[1],
          fn: segments[2],
          query: url.searchParams,
          headers: req.headers,
          clientIP: (req.socket.remoteAddress ?? "").replace(/^::ffff:/, ""),
          body,
        },
        requestId,
      );
    }

    authenticate({ method, apiPath, headers: req.headers, proxyQuery: null, body }, credentials);
    if (segments.length === 5 && segments[0] === "services" && segments[2] === "functions" && segments[4] === "invocations") {
      if (method !== "POST") throw fcErrors.pathNotSupported(method, apiPath);
      return handleInvocation(deps, segments[1]!, segments[3]!, requestId, req.headers, body);
    }
    const result = handleControlPlane(state, { method, segments, query: url.searchParams, body });
    if (!result) throw fcErrors.pathNotSupported(method, apiPath);
    return jsonReply(result.status, result.json);
  }

  const server = createServer((req, res) => {
    const requestId = randomUUID();
    const meta = { path: req.url ?? "" };
    const record = (entry: Pick<RequestLogEntry, "status" | "errorCode">) => {
      if (requests.length < MAX_KEPT_RECORDS) requests.push({ requestId, method: req.method ?? "", path: meta.path, ...entry });
    };
    route(req, requestId, meta).then(
      (reply) => {
        record({ status: reply.status });
        write(res, requestId, reply);
      },
      (err: unknown) => {
        const error = err instanceof FcApiError ? err : fcErrors.internal();
        if (!(err instanceof FcApiError)) console.error("fc-double: internal error", err);
        record({ status: error.status, errorCode: error.code });
        write(res, requestId, jsonReply(error.status, error.body()));
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  baseUrl = `http://${host}:${address.port}`;

  const fireTimer = (serviceName: string, functionName: string, triggerName: string, atMs = now()) => {
    const timer = state.timerTrigger(serviceName, functionName, triggerName);
    if (!timer) throw fcErrors.invalidArgument(`trigger '${triggerName}' is not a timer trigger`);
    if (!timer.enable) return undefined;
    return queue.enqueue({ requestId: randomUUID(), serviceName, functionName, qualifier: "LATEST", payload: timerEvent(triggerName, timer.payload, atMs) });
  };

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    port: address.port,
    accountId: options.accountId,
    region: options.region,
    state,
    roleCredentials,
    asyncInvocations: queue.records,
    requests,
    functionLogs,
    idle: () => queue.idle(),
    killNextInvocation: (fn, opts) => invoker.killNextInvocation(fn, opts),
    fireTimer,
    fireDueTimers: (fromMs, toMs) => {
      const fired: AsyncInvocationRecord[] = [];
      for (const [svc, service] of state.services)
        for (const [fn, f] of service.functions)
          for (const t of f.triggers.values()) {
            if (t.type !== "timer") continue;
            const timer = state.timerTrigger(svc, fn, t.name)!;
            for (let at = timer.next(fromMs); at <= toMs; at = timer.next(at)) {
              const r = fireTimer(svc, fn, t.name, at);
              if (r) fired.push(r);
            }
          }
      return fired;
    },
    close: () => {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await queue.close();
        await invoker.close();
        await stopped;
        if (ownWorkDir) await rm(workDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
