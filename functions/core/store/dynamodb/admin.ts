// DynamoDB table administration: idempotent creation (pk S HASH, sk S RANGE, on demand), waiting until
// it is ACTIVE, and TTL on `expiresAt` where the backend has it (dynalite and PolarDB may not: reads
// ignore expired items anyway). Used by the gateway at start-up and by `serverless deploy`.
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
} from "@aws-sdk/client-dynamodb";
import { describeError, silentLogger, type Logger } from "../../log.js";
import { pollUntil } from "../../retry.js";
import { callTable, errorName, TableUnavailableError } from "../errors.js";
import { TTL_ATTRIBUTE } from "../items.js";
import type { EnsuredTable } from "../table.js";
import { isDynamoUnavailable } from "./errors.js";

type Where = { name: string; endpoint: string };

function call<T>(where: Where, action: string, p: Promise<T>): Promise<T> {
  return callTable(where, action, isDynamoUnavailable, p);
}

async function describeTableRaw(
  client: DynamoDBClient,
  name: string,
  where: Where,
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

/**
 * Creates the table if missing (pk S HASH, sk S RANGE, on-demand), waits until it is ACTIVE, and enables
 * TTL on `expiresAt` where the backend supports it ("unsupported" otherwise: reads ignore expired items
 * anyway). Safe to call repeatedly and from several processes at once.
 */
export async function ensureTable(
  client: DynamoDBClient,
  name: string,
  opts: EnsureTableOptions = {},
): Promise<EnsuredTable> {
  const log = opts.log ?? silentLogger;
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

  const active = await pollUntil(desc, describe, (d): d is TableDescription => d?.TableStatus === "ACTIVE" || d?.TableStatus === "UPDATING", {
    timeoutMs,
    sleep: opts.sleep,
    timedOut: (d) => new TableUnavailableError(`table "${name}" did not become ACTIVE within ${timeoutMs} ms (status: ${d?.TableStatus ?? "missing"})`),
  });

  const keys = (active.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).sort().join(",");
  if (keys !== "pk:HASH,sk:RANGE")
    throw new Error(`table "${name}" exists with key schema ${keys || "(unknown)"}; dingclaw needs pk (HASH) and sk (RANGE)`);

  const ttl = await enableTtl(client, where, log);
  return { created, ttl };
}

async function enableTtl(
  client: DynamoDBClient,
  where: { name: string; endpoint: string },
  log: Logger,
): Promise<EnsuredTable["ttl"]> {
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

export async function dropTable(client: DynamoDBClient, name: string): Promise<"deleted" | "absent"> {
  try {
    await call({ name, endpoint: await endpointOf(client) }, "DeleteTable", client.send(new DeleteTableCommand({ TableName: name })));
    return "deleted";
  } catch (err) {
    if (errorName(err) === "ResourceNotFoundException") return "absent";
    throw err;
  }
}
