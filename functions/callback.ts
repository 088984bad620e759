// FC HTTP trigger host: adapts FC 2.0 `(req, resp, context)` and FC 3.0 events to the core callback,
// which verifies, claims and dispatches the worker asynchronously. Thin; everything else is the core.
import "./fc/zod-jitless.js";
import { loadCallbackConfig, type CallbackConfig } from "./core/config-base.js";
import { readEnv, type Env } from "./core/env.js";
import { handleCallback, type CallbackRequest, type CallbackResponse } from "./core/http-callback.js";
import { captureConsole, createLogger, describeError, type Logger } from "./core/log.js";
import { IdempotencyStore } from "./core/store/idempotency.js";
import { openTable } from "./core/store/table.js";
import { parseContext, resolveContext, type RawContext } from "./fc/context.js";
import { roleCredentials, tableSigning } from "./fc/credentials.js";
import { fromFc2, fromFc3, isFc2Response, toFc2, toFc3, type Fc2Request, type Fc3Result } from "./fc/http-adapter.js";
import { fcDispatch, workerAddress } from "./fc/invoke-worker.js";

const TABLE_REQUIRED = "DINGCLAW_TABLE_ENDPOINT is not set: functions on FC need a table (Tablestore or DynamoDB-compatible)";

interface Instance {
  env: Env;
  config: CallbackConfig;
  idempotency: IdempotencyStore;
  log: Logger;
}

// Until the environment is read: start-up failures only.
const bootLog = createLogger();
captureConsole(bootLog);
let instance: Promise<Instance> | undefined;
const role = roleCredentials();

async function init(): Promise<Instance> {
  const env = readEnv();
  const log = createLogger({ level: env.LOG_LEVEL });
  captureConsole(log);
  const config = loadCallbackConfig(process.env, env);
  if (!config.table.endpoint) throw new Error(TABLE_REQUIRED);
  const table = await openTable(config.table, { log, ...tableSigning(config.table.kind, role) });
  return { env, config, idempotency: new IdempotencyStore(table), log };
}

async function respond(req: CallbackRequest | undefined, context: RawContext): Promise<CallbackResponse> {
  if (!req) return { status: 400, headers: { "content-type": "application/json" }, body: '{"error":"not an HTTP event"}' };
  role.update(resolveContext(context));
  let inst: Instance;
  try {
    inst = await (instance ??= init());
  } catch (err) {
    instance = undefined;
    bootLog.error("callback cannot start", { requestId: req.requestId, error: describeError(err) });
    return { status: 503, headers: { "content-type": "application/json" }, body: '{"error":"bot not available"}' };
  }
  const credentials = inst.config.credentials;
  const ctx = resolveContext(context, inst.env);
  return handleCallback(req, {
    secret: credentials?.clientSecret,
    robotCode: credentials?.robotCode ?? "",
    idempotency: inst.idempotency,
    now: Date.now,
    log: inst.log,
    dispatch: fcDispatch(ctx, workerAddress(inst.env, ctx)),
  });
}

/**
 * FC 2.0: handler(req, resp, context), answered through `resp`. FC 3.0: handler(event, context[, callback])
 * → {statusCode, headers, body}, resolved and, when FC passes a callback, also given to it. Every branch
 * resolves the same result, so the answer does not depend on which of the two the runtime reads.
 */
export async function handler(first: unknown, second: unknown, third?: unknown): Promise<Fc3Result> {
  if (isFc2Response(second)) {
    const context = parseContext(third);
    const out = await respond(await fromFc2(first as Fc2Request, context.requestId), context);
    toFc2(out, second);
    return toFc3(out);
  }
  const context = parseContext(second);
  const result = toFc3(await respond(fromFc3(first, context.requestId), context));
  if (typeof third === "function") (third as (err: null, value: Fc3Result) => void)(null, result);
  return result;
}
