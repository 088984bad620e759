// The deployment's table on the configured DynamoDB-API endpoint: created with the same ensureTable
// the functions use, marked with an item when deploy created it, and deleted by remove only then
// (and only unless provider.table.retain is set), so a pre-existing table is never dropped.
import {
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { registerSecret, silentLogger } from "../functions/core/log.js";
import { ensureTable } from "../functions/core/store/dynamodb/admin.js";
import { errorName, safeEndpoint } from "../functions/core/store/errors.js";
import { DeployError, explainCloudError } from "./errors.js";
import type { TableSettings } from "./settings.js";

/** The marker item: who created the table. */
export const MARKER_KEY = { pk: { S: "deploy#table" }, sk: { S: "deploy" } };
const HUNDRED_YEARS_S = 100 * 365 * 86_400;

function isLoopback(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || host === "::1" || /^127\./.test(host);
  } catch {
    return false;
  }
}

export interface DeployTable {
  client: DynamoDBClient;
  name: string;
  where: string;
  close(): void;
}

/** A client for the table endpoint with the credentials from serverless.yml (dummy ones for a local endpoint). */
export function openDeployTable(t: TableSettings): DeployTable {
  if (!t.endpoint)
    throw new DeployError(
      "the table endpoint is not set: set DINGCLAW_TABLE_ENDPOINT (provider.table.endpoint), e.g. your PolarDB DynamoDB endpoint",
    );
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  registerSecret(t.secretAccessKey);
  const explicit = t.accessKeyId && t.secretAccessKey ? { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey } : undefined;
  if (!explicit && !isLoopback(t.endpoint))
    throw new DeployError("the table credentials are not set: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (for PolarDB: the DynamoDB account name and its key)");
  const client = new DynamoDBClient({
    endpoint: t.endpoint,
    region: t.region ?? "cn-hangzhou",
    credentials: explicit ?? { accessKeyId: "dingclaw-local", secretAccessKey: "dingclaw-local" },
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5000, requestTimeout: 15_000 },
  });
  return { client, name: t.name, where: safeEndpoint(t.endpoint), close: () => client.destroy() };
}

function tableError(d: DeployTable, action: string, err: unknown): DeployError {
  const name = errorName(err);
  if (name === "UnrecognizedClientException" || name === "InvalidSignatureException" || name === "AccessDeniedException")
    return new DeployError(`the table endpoint ${d.where} rejected the credentials (${name}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  return explainCloudError(err, "the table endpoint", d.where, action);
}

async function table<T>(d: DeployTable, action: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw tableError(d, action, err);
  }
}

export interface EnsuredTable {
  created: boolean;
  ttl: "enabled" | "unsupported" | "already";
}

/** Creates the table if missing (marking it as ours), waits until ACTIVE, enables TTL where supported. */
export async function ensureDeployTable(d: DeployTable, owner: string): Promise<EnsuredTable> {
  const result = await table(d, `create table ${d.name}`, ensureTable(d.client, d.name, { log: silentLogger, timeoutMs: 120_000 }));
  if (result.created)
    await table(
      d,
      `mark table ${d.name}`,
      d.client.send(
        new PutItemCommand({
          TableName: d.name,
          Item: {
            ...MARKER_KEY,
            createdBy: { S: owner },
            createdAt: { N: String(Math.floor(Date.now() / 1000)) },
            expiresAt: { N: String(Math.floor(Date.now() / 1000) + HUNDRED_YEARS_S) },
          },
        }),
      ),
    );
  return result;
}

/** Deletes the table when deploy created it for `owner`; otherwise leaves it. */
export async function removeDeployTable(d: DeployTable, owner: string, retain: boolean): Promise<"deleted" | "absent" | "kept" | "not-ours"> {
  try {
    await d.client.send(new DescribeTableCommand({ TableName: d.name }));
  } catch (err) {
    if (errorName(err) === "ResourceNotFoundException") return "absent";
    throw tableError(d, `read table ${d.name}`, err);
  }
  const marker = await table(d, `read table ${d.name}`, d.client.send(new GetItemCommand({ TableName: d.name, Key: MARKER_KEY })));
  if (marker.Item?.createdBy?.S !== owner) return "not-ours";
  if (retain) return "kept";
  await table(d, `delete table ${d.name}`, d.client.send(new DeleteTableCommand({ TableName: d.name })));
  return "deleted";
}
