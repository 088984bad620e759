// Opens a table in a Tablestore instance with the official SDK: the endpoint and instance from the
// config, credentials read before every request (the FC role's latest temporary credentials, else
// ALIBABA_CLOUD_ACCESS_KEY_*), keep-alive connections, and the SDK's own retry limited to `maxAttempts`.
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import TableStore from "tablestore";
import { readEnv } from "../../env.js";
import { registerSecret, silentLogger } from "../../log.js";
import { safeEndpoint } from "../errors.js";
import { composeTable, type AliyunCredentials, type OpenTableOptions, type Table, type TableConfig } from "../table.js";
import { dropTablestoreTable, ensureTablestoreTable, tablestoreStatus } from "./admin.js";
import { decodeErrors } from "./errors.js";
import { TablestoreItems } from "./items.js";

/** Table names: letters, digits and `_`, not starting with a digit (https://help.aliyun.com/knowledge_detail/38580.html). */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

export function openTablestoreTable(cfg: TableConfig, opts: OpenTableOptions = {}): Promise<Table> {
  return Promise.resolve().then(() => open(cfg, opts));
}

function open(cfg: TableConfig, opts: OpenTableOptions): Table {
  if (!TABLE_NAME.test(cfg.name))
    throw new Error(`table name "${cfg.name}" is invalid for Tablestore: use 1-255 of A-Z a-z 0-9 _, not starting with a digit (example: "dingclaw_prod")`);
  if (!cfg.endpoint)
    throw new Error('DINGCLAW_TABLE_ENDPOINT is not set: Tablestore needs the instance endpoint (example: "https://dingclaw.cn-hangzhou.ots.aliyuncs.com")');
  if (!cfg.instance)
    throw new Error(`DINGCLAW_TABLE_INSTANCE is not set and ${safeEndpoint(cfg.endpoint)} does not name the instance (example: "dingclaw")`);
  const log = opts.log ?? silentLogger;
  const env = readEnv(opts.env);
  const fromEnv: AliyunCredentials | undefined =
    env.ALIBABA_CLOUD_ACCESS_KEY_ID && env.ALIBABA_CLOUD_ACCESS_KEY_SECRET
      ? {
          accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID,
          accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
          ...(env.ALIBABA_CLOUD_SECURITY_TOKEN ? { securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN } : {}),
        }
      : undefined;
  const credentials = (): AliyunCredentials => {
    const c = opts.credentials?.() ?? fromEnv;
    if (!c) throw new Error("Tablestore needs credentials: the function's role on FC, else ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    registerSecret(c.accessKeySecret);
    registerSecret(c.securityToken);
    return c;
  };
  const first = credentials();

  const secure = cfg.endpoint.startsWith("https:");
  const agentOptions = { keepAlive: true, maxSockets: 64 };
  const agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  const client = new TableStore.Client({
    accessKeyId: first.accessKeyId,
    secretAccessKey: first.accessKeySecret,
    endpoint: cfg.endpoint,
    instancename: cfg.instance,
    maxRetries: 0, // the item layer retries (tablestore/items.ts)
    httpOptions: {
      timeout: opts.requestTimeoutMs ?? 3000,
      agent,
    },
  });
  decodeErrors(client);
  client.config.getCredentials = () => {
    const c = credentials();
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.accessKeySecret, ...(c.securityToken ? { securityToken: c.securityToken } : {}) };
  };

  const where = { name: cfg.name, endpoint: cfg.endpoint };
  log.info("table: tablestore", { endpoint: safeEndpoint(cfg.endpoint), instance: cfg.instance, table: cfg.name });
  return composeTable(
    { kind: "tablestore", name: cfg.name, endpoint: cfg.endpoint, embedded: false },
    {
      backend: new TablestoreItems(client, where, opts.maxAttempts ?? 3),
      ensure: (o) => ensureTablestoreTable(client, where, { log, ...o }),
      status: () => tablestoreStatus(client, where),
      drop: () => dropTablestoreTable(client, where),
      close: () => {
        agent.destroy();
        return Promise.resolve();
      },
    },
    opts,
  );
}
