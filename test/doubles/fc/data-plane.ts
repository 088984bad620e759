// FC's data plane in the double: InvokeFunction (sync → the handler's result, Async → 202 and the
// background queue) and HTTP-trigger calls on /proxy/{service}/{function}/{path}.
import type { IncomingHttpHeaders } from "node:http";
import type { AsyncQueue } from "./async-queue.js";
import { authenticate, type Credentials } from "./auth.js";
import { parseServiceRef } from "./control-plane.js";
import { FcApiError, fcErrors } from "./errors.js";
import { fc3Event, fc3Response } from "./fc3-http.js";
import type { Invoker } from "./invoker.js";
import type { ErrorOutcome, HttpOutcome, HttpRequestData } from "./runtime/fc-runtime.js";
import { checkName, functionNameSchema } from "./schemas.js";
import type { FcState } from "./state.js";

export const SYNC_PAYLOAD_LIMIT = 32 * 1024 * 1024;
export const ASYNC_PAYLOAD_LIMIT = 128 * 1024;
const LOG_TAIL_BYTES = 4096;

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface DataPlaneDeps {
  state: FcState;
  invoker: Invoker;
  queue: AsyncQueue;
  credentials: Credentials;
  /** FC's default-domain behaviour of forcing `Content-Disposition: attachment` on HTTP-trigger responses */
  attachmentHeader: boolean;
  /** "fc2": `(req, resp, context)` HTTP handlers; "fc3": event handlers given an FC 3.0 HTTP event. */
  httpTrigger: "fc2" | "fc3";
  trigger: { accountId: string; region: string; now: () => number };
}

function badResponse(message: string): ErrorOutcome {
  return { ok: false, errorType: "UnhandledInvocationError", error: { errorMessage: `BadResponse: ${message}` } };
}

/** FC 3.0: the request as an event for an event handler, its result `{statusCode, headers, body}` as the response. */
async function invokeFc3(deps: DataPlaneDeps, service: string, fn: string, qualifier: string, requestId: string, request: HttpRequestData): Promise<HttpOutcome> {
  const t = deps.trigger;
  const event = fc3Event(request, { accountId: t.accountId, region: t.region, domainPrefix: `${fn}-${service}`, requestId, now: t.now() });
  const { outcome } = await deps.invoker.invokeEvent(service, fn, qualifier, requestId, event);
  if (!outcome.ok) return outcome;
  const response = fc3Response(outcome);
  return response ? { ok: true, response } : badResponse("the result is not {statusCode, headers, isBase64Encoded, body}");
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

function errorReply(status: number, outcome: ErrorOutcome): RawReply {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "x-fc-error-type": outcome.errorType },
    body: Buffer.from(JSON.stringify(outcome.error)),
  };
}

function logTail(lines: string[]): string {
  const text = Buffer.from(lines.join("\n"));
  return text.subarray(Math.max(0, text.length - LOG_TAIL_BYTES)).toString("base64");
}

/** POST /services/{svc[.q]}/functions/{fn}/invocations (already authenticated). */
export async function handleInvocation(
  deps: DataPlaneDeps,
  ref: string,
  fn: string,
  requestId: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Promise<RawReply> {
  const { service, qualifier } = parseServiceRef(ref);
  checkName(functionNameSchema, fn, "function name");
  deps.state.getFunction(service, fn);
  const type = (header(headers, "x-fc-invocation-type") ?? "Sync").toLowerCase();
  if (type !== "sync" && type !== "async") throw fcErrors.invalidArgument(`X-Fc-Invocation-Type must be Sync or Async, not '${type}'`);

  if (type === "async") {
    if (body.length > ASYNC_PAYLOAD_LIMIT) throw fcErrors.entityTooLarge(ASYNC_PAYLOAD_LIMIT);
    deps.queue.enqueue({ requestId, serviceName: service, functionName: fn, qualifier, payload: body });
    return { status: 202, headers: {} };
  }

  if (body.length > SYNC_PAYLOAD_LIMIT) throw fcErrors.entityTooLarge(SYNC_PAYLOAD_LIMIT);
  const started = Date.now();
  const result = await deps.invoker.invokeEvent(service, fn, qualifier, requestId, body);
  const common: Record<string, string> = {
    "x-fc-code-checksum": result.codeChecksum,
    "x-fc-invocation-duration": String(Date.now() - started),
    "x-fc-invocation-service-version": qualifier,
    ...(header(headers, "x-fc-log-type")?.toLowerCase() === "tail" ? { "x-fc-log-result": logTail(result.logs) } : {}),
  };
  const outcome = result.outcome;
  if (!outcome.ok) {
    const reply = errorReply(200, outcome);
    return { ...reply, headers: { ...reply.headers, ...common } };
  }
  return { status: 200, headers: { "content-type": "application/octet-stream", ...common }, body: outcome.body };
}

/** Background run of one queued async event, as the queue's `run` callback. */
export async function runQueuedEvent(
  invoker: Invoker,
  event: { requestId: string; serviceName: string; functionName: string; qualifier: string; payload: Buffer },
): Promise<{ ok: true; body: Buffer } | { ok: false; message: string }> {
  try {
    const { outcome } = await invoker.invokeEvent(event.serviceName, event.functionName, event.qualifier, event.requestId, event.payload);
    return outcome.ok ? { ok: true, body: outcome.body } : { ok: false, message: `${outcome.errorType}: ${outcome.error.errorMessage}` };
  } catch (err) {
    return { ok: false, message: err instanceof FcApiError ? `${err.code}: ${err.message}` : String(err) };
  }
}

const DROPPED_REQUEST_HEADERS = new Set(["connection", "keep-alive"]);
const DROPPED_RESPONSE_HEADERS = new Set(["connection", "content-length", "date", "keep-alive", "server", "upgrade", "transfer-encoding"]);

export interface ProxyRequest {
  method: string;
  /** raw URL as received, e.g. "/2016-08-15/proxy/svc/fn/a%20b?x=1" */
  rawUrl: string;
  /** decoded API path after /2016-08-15 (for the signature) */
  apiPath: string;
  /** raw path remainder after /proxy/{svc}/{fn} */
  rawSubPath: string;
  service: string;
  fn: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  clientIP: string;
  body: Buffer;
}

/** Any method on /proxy/{svc[.q]}/{fn}/{path...}: the HTTP trigger. */
export async function handleProxy(deps: DataPlaneDeps, req: ProxyRequest, requestId: string): Promise<RawReply> {
  const { service, qualifier } = parseServiceRef(req.service);
  checkName(functionNameSchema, req.fn, "function name");
  const trigger = deps.state.httpTrigger(service, req.fn);
  if (!trigger) throw fcErrors.httpTriggerNotFound(service, req.fn);
  if (trigger.authType === "function") {
    authenticate(
      { method: req.method, apiPath: req.apiPath, headers: req.headers, proxyQuery: req.query, body: req.body },
      deps.credentials,
    );
  }
  if (!trigger.methods.includes(req.method.toUpperCase())) throw fcErrors.methodNotAllowed(req.method);
  if (req.body.length > SYNC_PAYLOAD_LIMIT) throw fcErrors.entityTooLarge(SYNC_PAYLOAD_LIMIT);

  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || k.startsWith("x-fc-") || DROPPED_REQUEST_HEADERS.has(k)) continue;
    headers[k] = Array.isArray(v) ? v.join(", ") : v;
  }
  const queries: Record<string, string | string[]> = {};
  for (const key of new Set(req.query.keys())) {
    const all = req.query.getAll(key);
    queries[key] = all.length === 1 ? all[0]! : all;
  }
  const request: HttpRequestData = {
    method: req.method,
    path: req.rawSubPath === "" ? "/" : req.rawSubPath,
    url: req.rawUrl,
    headers,
    queries,
    clientIP: req.clientIP,
    body: req.body,
  };
  const outcome =
    deps.httpTrigger === "fc3"
      ? await invokeFc3(deps, service, req.fn, qualifier, requestId, request)
      : (await deps.invoker.invokeHttp(service, req.fn, qualifier, requestId, request)).outcome;
  if (!outcome.ok) return errorReply(502, outcome);
  const { status, headers: out, body } = outcome.response;
  if (!Number.isInteger(status) || status < 100 || status > 599) return errorReply(502, badResponse(`invalid status code ${status}`));
  const replyHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(out)) {
    const lower = k.toLowerCase();
    if (lower.startsWith("x-fc-") || DROPPED_RESPONSE_HEADERS.has(lower)) continue;
    replyHeaders[lower] = v;
  }
  if (deps.attachmentHeader) replyHeaders["content-disposition"] = "attachment";
  return { status, headers: replyHeaders, body };
}
