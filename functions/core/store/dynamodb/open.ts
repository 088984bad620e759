// Opens a table on the DynamoDB API: the configured endpoint (AWS_* credentials and region apply; a
// loopback endpoint gets dummy credentials when none are set), or an embedded dynalite in this process.
import { resolve } from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { readEnv } from "../../env.js";
import { registerSecret, silentLogger, type Logger } from "../../log.js";
import { isHttpUrl } from "../../url.js";
import { callTable, isLoopback, reason, safeEndpoint } from "../errors.js";
import { composeTable, type OpenTableOptions, type Table, type TableConfig } from "../table.js";
import { describeTable, dropTable, ensureTable } from "./admin.js";
import { isDynamoUnavailable } from "./errors.js";
import { DynamoItems } from "./items.js";
import type { EmbeddedServer } from "../embedded.js";

/** A table on the DynamoDB API, with its client (infra and tests reach the raw API through it). */
export interface DynamoTable extends Table {
  readonly client: DynamoDBClient;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const DUMMY_CREDENTIALS = { accessKeyId: "dingclaw-local", secretAccessKey: "dingclaw-local" };

/** Explicit credentials (deploy's table key) in the AWS SDK's shape. */
function awsCredentials(source: NonNullable<OpenTableOptions["credentials"]>) {
  const c = source();
  if (!c) throw new Error("the table credentials are not set: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  registerSecret(c.accessKeySecret);
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.accessKeySecret, ...(c.securityToken ? { sessionToken: c.securityToken } : {}) };
}

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
 * With `cfg.endpoint` it talks to that endpoint. Without one it starts dynalite in this process:
 * LevelDB files under `<dataDir>/table`, or in memory with `inMemory`. Does not create the table:
 * call `ensure()` once at start-up.
 */
export async function openDynamoTable(cfg: TableConfig, opts: OpenTableOptions = {}): Promise<DynamoTable> {
  if (!TABLE_NAME.test(cfg.name))
    throw new Error(`table name "${cfg.name}" is invalid: use 3-255 of A-Z a-z 0-9 _ . - (example: "dingclaw")`);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const log = opts.log ?? silentLogger;
  const env = readEnv(opts.env);
  registerSecret(env.AWS_SECRET_ACCESS_KEY);
  registerSecret(env.AWS_SESSION_TOKEN);

  let endpoint = cfg.endpoint;
  let server: EmbeddedServer | undefined;
  if (!endpoint) {
    const { startDynalite } = await import("../embedded.js");
    const path = opts.inMemory ? undefined : resolve(cfg.dataDir, "table");
    const started = await startDynalite(path ? { path } : {});
    server = started;
    endpoint = started.endpoint;
    log.info("table: embedded store started", { endpoint, path: path ?? "(memory)" });
  } else if (!isHttpUrl(endpoint)) {
    throw new Error(`DINGCLAW_TABLE_ENDPOINT "${safeEndpoint(endpoint)}" must be an http(s) URL (example: "http://127.0.0.1:8000")`);
  }

  const given = opts.credentials;
  const hasEnvCredentials = Boolean(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);
  const dummy = server !== undefined || (isLoopback(endpoint) && !hasEnvCredentials && !given?.());
  const client = new DynamoDBClient({
    endpoint,
    region: cfg.region,
    maxAttempts: opts.maxAttempts ?? 3,
    ...(dummy ? { credentials: DUMMY_CREDENTIALS } : given ? { credentials: () => Promise.resolve(awsCredentials(given)) } : {}),
    // In this process: no signing (see embedded.ts), and each command class's middleware stack
    // resolved once rather than on every send (the SDK's documented `cacheMiddleware`; nothing adds
    // middleware to this client after its first request).
    ...(server ? { signer: server.signer, cacheMiddleware: true } : {}),
    requestHandler: server?.requestHandler ?? {
      connectionTimeout: opts.connectionTimeoutMs ?? 1000,
      requestTimeout: opts.requestTimeoutMs ?? 3000,
      throwOnRequestTimeout: true,
      httpAgent: { keepAlive: true, maxSockets: 64 },
      httpsAgent: { keepAlive: true, maxSockets: 64 },
      logger: handlerLogger(log),
    },
  });

  const where = { name: cfg.name, endpoint };
  const table: DynamoTable = {
    ...composeTable(
      { kind: "dynamodb", name: cfg.name, endpoint, embedded: server !== undefined },
      {
        backend: new DynamoItems(client, where),
        ensure: (o) => ensureTable(client, cfg.name, { log, ...o }),
        status: () => describeTable(client, cfg.name),
        drop: () => dropTable(client, cfg.name),
        close: async () => {
          client.destroy();
          await server?.close();
        },
      },
      opts,
    ),
    client,
  };

  if (server) {
    try {
      // LevelDB opens lazily: surface a locked or unreadable data directory now, not on the first message.
      await callTable(where, "ListTables", isDynamoUnavailable, client.send(new ListTablesCommand({ Limit: 1 })));
    } catch (err) {
      await table.close().catch(() => {});
      throw new Error(`the embedded table store cannot be used: ${reason(err)}`, { cause: err });
    }
  }
  return table;
}
