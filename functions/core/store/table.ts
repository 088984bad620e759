// The table: one DynamoDB-API client for a configured endpoint or an embedded dynalite, idempotent
// table creation (TTL where the backend has it), and the mapping of outages to TableUnavailableError.
import { resolve } from "node:path";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateTimeToLiveCommand,
  type TableDescription,
} from "@aws-sdk/client-dynamodb";
import type { AppConfig } from "../config.js";
import { describeError, registerSecret, silentLogger, type Logger } from "../log.js";

/** Every item carries this attribute (epoch seconds); reads treat items at or past it as absent. */
export const TTL_ATTRIBUTE = "expiresAt";

export interface Table {
  client: DynamoDBClient;
  name: string;
  /** The endpoint URL the client talks to (the embedded server's own URL when embedded). */
  endpoint: string;
  embedded: boolean;
  /**
   * Waits (up to `closeDrainMs`) for table calls already in flight, then destroys the client and, when
   * embedded, stops the server (LevelDB files are flushed). Idempotent.
   */
  close(): Promise<void>;
}

export interface OpenTableOptions {
  /** Embedded store only: keep everything in memory instead of LevelDB files under `dataDir`. */
  inMemory?: boolean;
  log?: Logger;
  /** Defaults: 1000 ms to connect, 3000 ms per request, 3 attempts (SDK standard retry): a dead table fails within ~10 s, a refused one at once. */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxAttempts?: number;
  /** Where AWS_* credentials are looked up to decide on dummy ones; default process.env. */
  env?: Record<string, string | undefined>;
  /** How long `close()` waits for calls in flight; default 5000 ms. */
  closeDrainMs?: number;
}

/** The table cannot be reached or is overloaded (network, timeout, 5xx, throttling). Hosts map it to 503. */
export class TableUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TableUnavailableError";
  }
}

const UNAVAILABLE_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "Throttling",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "InternalServerError",
  "InternalFailure",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

/** True for outages: throttling, network failures, timeouts and 5xx answers. */
export function isUnavailable(err: unknown, depth = 0): boolean {
  if (err instanceof TableUnavailableError) return true;
  if (typeof err !== "object" || err === null || depth > 5) return false;
  const e = err as SdkErrorShape;
  if (typeof e.name === "string" && UNAVAILABLE_NAMES.has(e.name)) return true;
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode ?? 0;
  if (status >= 500 || status === 429 || e.$retryable?.throttling === true) return true;
  if (err instanceof AggregateError) return err.errors.some((x) => isUnavailable(x, depth + 1));
  return e.cause !== undefined && isUnavailable(e.cause, depth + 1);
}

export function errorName(err: unknown): string {
  return typeof err === "object" && err !== null && typeof (err as SdkErrorShape).name === "string"
    ? ((err as SdkErrorShape).name as string)
    : "";
}

export function isConditionalCheckFailed(err: unknown): boolean {
  return errorName(err) === "ConditionalCheckFailedException";
}

function reason(err: unknown): string {
  const d = describeError(err);
  let code = d.code;
  if (!code && err instanceof AggregateError) code = describeError(err.errors[0]).code;
  const head = code && !d.message.includes(code) ? `${code} ` : "";
  return `${d.name}: ${head}${d.message || "(no message)"}`.slice(0, 300);
}

/** Turns outages into TableUnavailableError; other errors pass through unchanged. */
export function toTableError(err: unknown, where: string, action: string): unknown {
  if (err instanceof TableUnavailableError || !isUnavailable(err)) return err;
  return new TableUnavailableError(`table ${where} is unavailable (${action}: ${reason(err)})`, { cause: err });
}

/** Awaits one table call, mapping outages to TableUnavailableError. */
export async function call<T>(table: Pick<Table, "name" | "endpoint">, action: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw toTableError(err, `"${table.name}" at ${safeEndpoint(table.endpoint)}`, action);
  }
}

/** The endpoint without userinfo, query or fragment, safe for logs and error messages. */
export function safeEndpoint(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(invalid endpoint)";
  }
}

function isLoopback(endpoint: string): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname.replace(/^\[|\]$/g, "").toLowerCase();
  } catch {
    return false;
  }
  return (
    host === "localhost" || host.endsWith(".localhost") || host === "::1" || host === "0.0.0.0" || /^127\./.test(host)
  );
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const DUMMY_CREDENTIALS = { accessKeyId: "dingclaw-local", secretAccessKey: "dingclaw-local" };

/** For the HTTP handler's own warnings (socket pool saturation, slow requests), which default to console. */
function handlerLogger(log: Logger) {
  const text = (args: unknown[]) =>
    args
      .map((a) => (typeof a === "string" ? a : a instanceof Error ? a.message : JSON.stringify(a)))
      .join(" ")
      .slice(0, 500);
  const ignore = () => {};
  return {
    trace: ignore,
    debug: ignore,
    info: ignore,
    warn: (...args: unknown[]) => log.warn("table: http handler", { detail: text(args) }),
    error: (...args: unknown[]) => log.error("table: http handler", { detail: text(args) }),
  };
}

/**
 * Opens the table client. With `cfg.endpoint` set it talks to that endpoint (AWS_* credentials and
 * region apply; a loopback endpoint gets dummy credentials when none are set). Without one it starts
 * dynalite in this process: LevelDB files under `<dataDir>/table`, or in memory with `inMemory`.
 * Does not create the table: call `ensureTable` once at start-up.
 */
export async function openTable(cfg: AppConfig["table"], opts: OpenTableOptions = {}): Promise<Table> {
  if (!TABLE_NAME.test(cfg.name))
    throw new Error(`table name "${cfg.name}" is invalid: use 3-255 of A-Z a-z 0-9 _ . - (example: "dingclaw")`);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const log = opts.log ?? silentLogger;
  const env = opts.env ?? process.env;
  registerSecret(env.AWS_SECRET_ACCESS_KEY);
  registerSecret(env.AWS_SESSION_TOKEN);

  let endpoint = cfg.endpoint;
  let server: { close(): Promise<void> } | undefined;
  if (!endpoint) {
    const { startDynalite } = await import("./embedded.js");
    const path = opts.inMemory ? undefined : resolve(cfg.dataDir, "table");
    const started = await startDynalite(path ? { path } : {});
    server = started;
    endpoint = started.endpoint;
    log.info("table: embedded store started", { endpoint, path: path ?? "(memory)" });
  } else if (!/^https?:\/\/[^\s/]+/.test(endpoint)) {
    throw new Error(`DINGCLAW_TABLE_ENDPOINT "${safeEndpoint(endpoint)}" must be an http(s) URL (example: "http://127.0.0.1:8000")`);
  }

  const hasEnvCredentials = Boolean(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);
  const dummy = server !== undefined || (isLoopback(endpoint) && !hasEnvCredentials);
  const client = new DynamoDBClient({
    endpoint,
    region: cfg.region,
    maxAttempts: opts.maxAttempts ?? 3,
    ...(dummy ? { credentials: DUMMY_CREDENTIALS } : {}),
    requestHandler: {
      connectionTimeout: opts.connectionTimeoutMs ?? 1000,
      requestTimeout: opts.requestTimeoutMs ?? 3000,
      throwOnRequestTimeout: true,
      httpAgent: { keepAlive: true, maxSockets: 64 },
      httpsAgent: { keepAlive: true, maxSockets: 64 },
      logger: handlerLogger(log),
    },
  });

  const inFlight = trackInFlight(client);
  let closing: Promise<void> | undefined;
  const table: Table = {
    client,
    name: cfg.name,
    endpoint,
    embedded: server !== undefined,
    close: () =>
      (closing ??= (async () => {
        if (!(await inFlight.drained(opts.closeDrainMs ?? 5000)))
          log.warn("table: closing with calls still in flight", { calls: inFlight.count() });
        client.destroy();
        await server?.close();
      })()),
  };

  if (server) {
    try {
      // LevelDB opens lazily: surface a locked or unreadable data directory now, not on the first message.
      await call(table, "ListTables", client.send(new ListTablesCommand({ Limit: 1 })));
    } catch (err) {
      await table.close().catch(() => {});
      throw new Error(`the embedded table store cannot be used: ${reason(err)}`, { cause: err });
    }
  }
  return table;
}

/**
 * Counts the client's calls in flight, so closing waits for writes still under way (background records,
 * a job cut short by shutdown) instead of cutting them off mid-request.
 */
function trackInFlight(client: DynamoDBClient): { count(): number; drained(timeoutMs: number): Promise<boolean> } {
  let count = 0;
  const waiters = new Set<() => void>();
  client.middlewareStack.add(
    (next) => async (args) => {
      count++;
      try {
        return await next(args);
      } finally {
        if (--count === 0) for (const wake of waiters) wake();
      }
    },
    { step: "initialize", name: "dingclawInFlight" },
  );
  return {
    count: () => count,
    drained: (timeoutMs) =>
      count === 0
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const done = (ok: boolean) => {
              clearTimeout(timer);
              waiters.delete(wake);
              resolve(ok);
            };
            const wake = () => done(true);
            const timer = setTimeout(() => done(false), timeoutMs);
            waiters.add(wake);
          }),
  };
}

async function describeTableRaw(
  client: DynamoDBClient,
  name: string,
  where: Pick<Table, "name" | "endpoint">,
): Promise<TableDescription | undefined> {
  try {
    return (await call(where, "DescribeTable", client.send(new DescribeTableCommand({ TableName: name })))).Table;
  } catch (err) {
    if (errorName(err) === "ResourceNotFoundException") return undefined;
    throw err;
  }
}

/** The table's status ("ACTIVE", "CREATING"…) or "missing"; throws TableUnavailableError when unreachable. */
export async function describeTable(client: DynamoDBClient, name: string): Promise<string> {
  const desc = await describeTableRaw(client, name, { name, endpoint: await endpointOf(client) });
  return desc ? (desc.TableStatus ?? "ACTIVE") : "missing";
}

export interface EnsureTableOptions {
  log?: Logger;
  /** Upper bound for waiting until the table is ACTIVE; default 60 s. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Creates the table if missing (pk S HASH, sk S RANGE, on-demand), waits until it is ACTIVE, and enables
 * TTL on `expiresAt` where the backend supports it ("unsupported" otherwise: reads ignore expired items
 * anyway). Safe to call repeatedly and from several processes at once.
 */
export async function ensureTable(
  client: DynamoDBClient,
  name: string,
  opts: EnsureTableOptions = {},
): Promise<{ created: boolean; ttl: "enabled" | "unsupported" | "already" }> {
  const log = opts.log ?? silentLogger;
  const sleep = opts.sleep ?? defaultSleep;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const where = { name, endpoint: await endpointOf(client) };

  const describe = () => describeTableRaw(client, name, where);

  let desc = await describe();
  let created = false;
  if (!desc) {
    try {
      await call(
        where,
        "CreateTable",
        client.send(
          new CreateTableCommand({
            TableName: name,
            AttributeDefinitions: [
              { AttributeName: "pk", AttributeType: "S" },
              { AttributeName: "sk", AttributeType: "S" },
            ],
            KeySchema: [
              { AttributeName: "pk", KeyType: "HASH" },
              { AttributeName: "sk", KeyType: "RANGE" },
            ],
            BillingMode: "PAY_PER_REQUEST",
          }),
        ),
      );
      created = true;
      log.info("table: created", { table: name });
    } catch (err) {
      if (errorName(err) !== "ResourceInUseException") throw err;
    }
    desc = await describe();
  }

  const deadline = Date.now() + timeoutMs;
  let delay = 25;
  while (desc?.TableStatus !== "ACTIVE" && desc?.TableStatus !== "UPDATING") {
    if (Date.now() >= deadline)
      throw new TableUnavailableError(
        `table "${name}" did not become ACTIVE within ${timeoutMs} ms (status: ${desc?.TableStatus ?? "missing"})`,
      );
    await sleep(delay);
    delay = Math.min(delay * 2, 1000);
    desc = await describe();
  }

  const keys = (desc.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).sort().join(",");
  if (keys !== "pk:HASH,sk:RANGE")
    throw new Error(`table "${name}" exists with key schema ${keys || "(unknown)"}; dingclaw needs pk (HASH) and sk (RANGE)`);

  const ttl = await enableTtl(client, where, log);
  return { created, ttl };
}

async function enableTtl(
  client: DynamoDBClient,
  where: { name: string; endpoint: string },
  log: Logger,
): Promise<"enabled" | "unsupported" | "already"> {
  const name = where.name;
  try {
    const d = await call(where, "DescribeTimeToLive", client.send(new DescribeTimeToLiveCommand({ TableName: name })));
    const status = d.TimeToLiveDescription?.TimeToLiveStatus;
    const attr = d.TimeToLiveDescription?.AttributeName;
    if ((status === "ENABLED" || status === "ENABLING") && attr === TTL_ATTRIBUTE) return "already";
    if (status === "ENABLED" || status === "ENABLING") {
      log.warn("table: TTL is on another attribute; expired items are ignored on read but not deleted", {
        table: name,
        attribute: attr,
      });
      return "unsupported";
    }
  } catch (err) {
    if (err instanceof TableUnavailableError) throw err;
  }
  try {
    await call(
      where,
      "UpdateTimeToLive",
      client.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { Enabled: true, AttributeName: TTL_ATTRIBUTE },
        }),
      ),
    );
    log.info("table: TTL enabled", { table: name, attribute: TTL_ATTRIBUTE });
    return "enabled";
  } catch (err) {
    if (err instanceof TableUnavailableError) throw err;
    const d = describeError(err);
    if (d.name === "ValidationException" && /already (enabled|being)|in progress/i.test(d.message)) return "already";
    log.info("table: TTL not supported by this backend; expired items are ignored on read", {
      table: name,
      error: d.name,
    });
    return "unsupported";
  }
}

async function endpointOf(client: DynamoDBClient): Promise<string> {
  try {
    const ep = await client.config.endpoint?.();
    if (ep) return `${ep.protocol}//${ep.hostname}${ep.port ? `:${ep.port}` : ""}${ep.path === "/" ? "" : ep.path}`;
  } catch {
    // fall through: no custom endpoint configured
  }
  return "the default AWS endpoint";
}
