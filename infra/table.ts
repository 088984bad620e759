// The deployment's table, on either backend, through the same table layer the functions use: created
// (with its TTL) when missing, marked with an item when deploy created it (the mark is renewed on
// every deploy, items live at most a year), and deleted by remove only then and only unless
// provider.table.retain is set, so a pre-existing table is never dropped. DynamoDB API: the table key
// from serverless.yml; Tablestore: the deploy credentials (ALIBABA_CLOUD_ACCESS_KEY_*).
import { errorName, isLoopback, safeEndpoint, TableUnavailableError } from "../functions/core/store/errors.js";
import { MAX_ITEM_LIFETIME_S, type ItemTable } from "../functions/core/store/items.js";
import { openTable, type AliyunCredentials, type EnsuredTable, type Table } from "../functions/core/store/table.js";
import type { AliyunCredentials as DeployCredentials } from "./credentials.js";
import { DeployError, explainCloudError } from "./errors.js";
import type { TableSettings } from "./settings.js";

/** The marker item: who created the table. */
export const MARKER_KEY = { pk: "deploy#table", sk: "deploy" };

export interface DeployTable {
  table: Table;
  name: string;
  where: string;
  close(): Promise<void>;
}

/** Credential failures as each backend reports them. */
const CREDENTIAL_ERRORS = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "AccessDeniedException",
  "OTSAuthFailed",
  "OTSNoPermissionAccess",
]);

function codeOf(err: unknown): string {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : errorName(err);
}

/** Opens the table with the credentials deploy uses (never the functions' own). */
export async function openDeployTable(t: TableSettings, deploy: DeployCredentials): Promise<DeployTable> {
  if (!t.endpoint)
    throw new DeployError(
      "the table endpoint is not set: set DINGCLAW_TABLE_ENDPOINT (provider.table.endpoint), e.g. your Tablestore instance's " +
        '"https://dingclaw.cn-hangzhou.ots.aliyuncs.com" or your PolarDB DynamoDB endpoint',
    );
  let credentials: AliyunCredentials | undefined;
  if (t.kind === "tablestore") {
    credentials = { accessKeyId: deploy.accessKeyId, accessKeySecret: deploy.accessKeySecret, ...(deploy.securityToken ? { securityToken: deploy.securityToken } : {}) };
  } else if (t.accessKeyId && t.secretAccessKey) {
    credentials = { accessKeyId: t.accessKeyId, accessKeySecret: t.secretAccessKey };
  } else if (!isLoopback(t.endpoint)) {
    throw new DeployError("the table credentials are not set: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (for PolarDB: the DynamoDB account name and its key)");
  }
  const table = await openTable(
    { kind: t.kind, endpoint: t.endpoint, name: t.name, instance: t.instance, region: t.region ?? "cn-hangzhou", dataDir: "" },
    { env: {}, ...(credentials ? { credentials: () => credentials } : {}), connectionTimeoutMs: 5000, requestTimeoutMs: 15_000 },
  ).catch((err: unknown) => {
    throw new DeployError(`cannot use the table: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  });
  return { table, name: t.name, where: safeEndpoint(t.endpoint), close: () => table.close() };
}

async function table<T>(d: DeployTable, action: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    const cause = err instanceof TableUnavailableError && err.cause !== undefined ? err.cause : err;
    const code = codeOf(cause);
    if (CREDENTIAL_ERRORS.has(code))
      return Promise.reject(
        new DeployError(
          `the table endpoint ${d.where} rejected the credentials (${code}) while trying to ${action}: ` +
            (d.table.kind === "tablestore"
              ? "check ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET and that the RAM user may manage Tablestore tables (AliyunOTSFullAccess)"
              : "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
          { cause: err },
        ),
      );
    return Promise.reject(explainCloudError(cause, "the table endpoint", d.where, action));
  }
}

function marker(items: ItemTable, owner: string): Promise<boolean> {
  const nowS = Math.floor(Date.now() / 1000);
  return items.put(MARKER_KEY, { createdBy: owner, markedAt: nowS, expiresAt: nowS + MAX_ITEM_LIFETIME_S });
}

/** Creates the table if missing (marking it as ours) and sets its TTL; renews the mark on a table it created before. */
export async function ensureDeployTable(d: DeployTable, owner: string): Promise<EnsuredTable> {
  const result = await table(d, `create table ${d.name}`, d.table.ensure({ timeoutMs: 120_000 }));
  const items = d.table.items();
  const mark = result.created ? undefined : await table(d, `read table ${d.name}`, items.get(MARKER_KEY));
  if (result.created || mark?.createdBy === owner) await table(d, `mark table ${d.name}`, marker(items, owner));
  return result;
}

/** Deletes the table when deploy created it for `owner`; otherwise leaves it. */
export async function removeDeployTable(d: DeployTable, owner: string, retain: boolean): Promise<"deleted" | "absent" | "kept" | "not-ours"> {
  if ((await table(d, `read table ${d.name}`, d.table.status())) === "missing") return "absent";
  const mark = await table(d, `read table ${d.name}`, d.table.items().get(MARKER_KEY));
  if (mark?.createdBy !== owner) return "not-ours";
  if (retain) return "kept";
  await table(d, `delete table ${d.name}`, d.table.drop());
  return "deleted";
}
