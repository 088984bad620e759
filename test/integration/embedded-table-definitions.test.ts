// The embedded dynalite's table definitions kept in memory (core/store/embedded-table-definitions.ts):
// reads reach LevelDB once, callers get their own copy, any definition write is seen at once (also a
// read racing a write), and through the server CreateTable / UpdateTable / DeleteTable behave as before,
// for this process's in-process client and for another over HTTP.
import { createRequire } from "node:module";
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateTableCommand,
} from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cacheTableDefinitions,
  withCachedTableDefinitions,
  type TableDefinitionsDb,
} from "../../functions/core/store/embedded-table-definitions.js";
import { startDynalite, type EmbeddedServer } from "../../functions/core/store/embedded.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const fromDynalite = createRequire(createRequire(import.meta.url).resolve("dynalite"));
const dynaliteDb = fromDynalite("./db") as { create(o: object): { tableDb: TableDefinitionsDb } };

const call = <T = unknown>(f: (cb: (err: Error | null | undefined, v?: unknown) => void) => void) =>
  new Promise<T | undefined>((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v as T | undefined))));

describe("cacheTableDefinitions on dynalite's own store", () => {
  it("reads LevelDB once, hands out copies, and sees every write", async () => {
    const { tableDb } = dynaliteDb.create({});
    const kept = cacheTableDefinitions(tableDb);
    await call((cb) => tableDb.put("t", { TableName: "t", TableStatus: "ACTIVE" }, cb));
    const first = await call<{ TableStatus: string }>((cb) => tableDb.get("t", cb));
    first!.TableStatus = "MUTATED BY A CALLER";
    expect(await call((cb) => tableDb.get("t", cb))).toEqual({ TableName: "t", TableStatus: "ACTIVE" });
    expect(await call((cb) => tableDb.get("t", cb))).toEqual({ TableName: "t", TableStatus: "ACTIVE" });
    expect(kept.levelDbReads()).toBe(1);

    await call((cb) => tableDb.put("t", { TableName: "t", TableStatus: "DELETING" }, cb));
    expect(await call((cb) => tableDb.get("t", cb))).toEqual({ TableName: "t", TableStatus: "DELETING" });
    await call((cb) => tableDb.del("t", cb));
    expect(await call((cb) => tableDb.get("t", cb))).toBeUndefined();
    expect(kept.levelDbReads()).toBe(3);
  });

  it("never keeps a definition read while a write was in flight", async () => {
    const { tableDb } = dynaliteDb.create({});
    cacheTableDefinitions(tableDb);
    await call((cb) => tableDb.put("t", { v: 1 }, cb));
    for (let i = 2; i < 12; i++) {
      const racing = call((cb) => tableDb.get("t", cb));
      await call((cb) => tableDb.put("t", { v: i }, cb));
      await racing;
      expect(await call((cb) => tableDb.get("t", cb))).toEqual({ v: i });
    }
  });

  it("does not keep a read that LevelDB answers after a write finished (answers out of order)", async () => {
    // A sub-database whose answers the test releases in any order, as LevelDB's thread pool may.
    let stored: unknown = { v: 1 };
    const held: (() => void)[] = [];
    const fake: TableDefinitionsDb = {
      get: (_k, cb) => {
        const value = stored;
        held.push(() => cb(null, value));
      },
      put: (_k, value, cb) => {
        stored = value;
        setImmediate(cb, null);
      },
      del: (_k, cb) => setImmediate(cb, null),
      batch: (_o, cb) => setImmediate(cb, null),
    };
    cacheTableDefinitions(fake);
    const racing = call((cb) => fake.get("t", cb));
    await call((cb) => fake.put("t", { v: 2 }, cb));
    held.shift()!();
    expect(await racing).toEqual({ v: 1 });
    const next = call((cb) => fake.get("t", cb));
    expect(held).toHaveLength(1);
    held.shift()!();
    expect(await next).toEqual({ v: 2 });
  });
});

describe("withCachedTableDefinitions", () => {
  it("wraps the store dynalite creates, so its requests stop reading the definition from LevelDB", async () => {
    const cached = withCachedTableDefinitions(() => dynalite({ createTableMs: 0 }));
    const server = cached.started;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    const client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: "local",
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    try {
      await client.send(keyedTable("counted", "pk", "S"));
      await waitActive(client, "counted");
      const before = cached.levelDbReads();
      for (let i = 0; i < 20; i++)
        await client.send(new PutItemCommand({ TableName: "counted", Item: { pk: { S: `k${i}` } } }));
      expect(cached.levelDbReads() - before).toBeLessThanOrEqual(1);
    } finally {
      client.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

function keyedTable(name: string, key: string, type: "S" | "N") {
  return new CreateTableCommand({
    TableName: name,
    AttributeDefinitions: [{ AttributeName: key, AttributeType: type }],
    KeySchema: [{ AttributeName: key, KeyType: "HASH" }],
    BillingMode: "PAY_PER_REQUEST",
  });
}

async function waitActive(client: DynamoDBClient, name: string): Promise<void> {
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === "ACTIVE") return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function waitGone(client: DynamoDBClient, name: string): Promise<void> {
  for (;;) {
    const gone = await client.send(new DescribeTableCommand({ TableName: name })).then(
      () => false,
      (err: Error) => err.name === "ResourceNotFoundException",
    );
    if (gone) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("the embedded server's table definitions through the DynamoDB API", () => {
  let server: EmbeddedServer;
  let inProcess: DynamoDBClient;
  let overHttp: DynamoDBClient;
  beforeAll(async () => {
    server = await startDynalite();
    inProcess = new DynamoDBClient({
      endpoint: server.endpoint,
      region: "local",
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
      requestHandler: server.requestHandler,
      signer: server.signer,
      cacheMiddleware: true,
    });
    overHttp = new DynamoDBClient({ endpoint: server.endpoint, region: "local", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
  });
  afterAll(async () => {
    inProcess.destroy();
    overHttp.destroy();
    await server.close();
  });

  it("deleting and re-creating a table with another key is seen at once by both clients", async () => {
    await inProcess.send(keyedTable("reshaped", "pk", "S"));
    await waitActive(inProcess, "reshaped");
    await inProcess.send(new PutItemCommand({ TableName: "reshaped", Item: { pk: { S: "a" } } }));
    expect((await overHttp.send(new GetItemCommand({ TableName: "reshaped", Key: { pk: { S: "a" } } }))).Item).toEqual({ pk: { S: "a" } });

    await overHttp.send(new DeleteTableCommand({ TableName: "reshaped" }));
    await waitGone(inProcess, "reshaped");
    await expect(inProcess.send(new GetItemCommand({ TableName: "reshaped", Key: { pk: { S: "a" } } }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });

    await overHttp.send(keyedTable("reshaped", "id", "N"));
    await waitActive(inProcess, "reshaped");
    await expect(inProcess.send(new PutItemCommand({ TableName: "reshaped", Item: { pk: { S: "a" } } }))).rejects.toMatchObject({
      name: "ValidationException",
    });
    await inProcess.send(new PutItemCommand({ TableName: "reshaped", Item: { id: { N: "1" } } }));
    expect((await overHttp.send(new GetItemCommand({ TableName: "reshaped", Key: { id: { N: "1" } } }))).Item).toEqual({ id: { N: "1" } });
  });

  it("an UpdateTable is described and applied at once", async () => {
    await inProcess.send(keyedTable("updated", "pk", "S"));
    await waitActive(inProcess, "updated");
    await inProcess.send(new PutItemCommand({ TableName: "updated", Item: { pk: { S: "a" } } }));
    await overHttp.send(
      new UpdateTableCommand({ TableName: "updated", BillingMode: "PROVISIONED", ProvisionedThroughput: { ReadCapacityUnits: 3, WriteCapacityUnits: 4 } }),
    );
    await waitActive(inProcess, "updated");
    const { Table } = await inProcess.send(new DescribeTableCommand({ TableName: "updated" }));
    expect(Table?.ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 3, WriteCapacityUnits: 4 });
    expect((await inProcess.send(new GetItemCommand({ TableName: "updated", Key: { pk: { S: "a" } } }))).Item).toEqual({ pk: { S: "a" } });
  });

  it("a CreateTable of an existing table and requests on a missing one answer as before", async () => {
    await inProcess.send(keyedTable("twice", "pk", "S"));
    await waitActive(inProcess, "twice");
    await expect(overHttp.send(keyedTable("twice", "pk", "S"))).rejects.toMatchObject({ name: "ResourceInUseException" });
    await expect(inProcess.send(new GetItemCommand({ TableName: "never-made", Key: { pk: { S: "a" } } }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });
});
