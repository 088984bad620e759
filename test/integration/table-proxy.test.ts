// The table fault proxy in front of real dynalite: pass-through, DynamoDB's throttling errors as the
// SDK sees them, lost responses (the write applied), refused connections and recovery.
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openDynamoTable, type DynamoTable } from "../../functions/core/store/dynamodb/open.js";
import { TableUnavailableError } from "../../functions/core/store/errors.js";
import { startTableProxy, type TableProxy } from "../doubles/table-proxy/index.js";
import { useTestTable } from "../helpers/dynalite.js";

const db = useTestTable();
let proxy: TableProxy;
let table: DynamoTable;

beforeAll(async () => {
  proxy = await startTableProxy(db.endpoint);
  table = await openDynamoTable({ ...db.config, endpoint: proxy.url }, { env: {}, maxAttempts: 1 });
});
afterAll(async () => {
  await table.close();
  await proxy.close();
});
afterEach(async () => {
  proxy.clear();
  await proxy.up();
  proxy.requests.length = 0;
});

const key = (id: string) => ({ pk: { S: `proxy#${id}` }, sk: { S: "x" } });
const put = (id: string) => table.client.send(new PutItemCommand({ TableName: table.name, Item: { ...key(id), v: { S: id } } }));
const get = async (id: string) => (await db.table.client.send(new GetItemCommand({ TableName: db.name, Key: key(id) }))).Item;

describe("table proxy", () => {
  it("passes requests through to the table", async () => {
    await put("a");
    expect(await get("a")).toMatchObject({ v: { S: "a" } });
    expect(proxy.requests).toEqual([{ action: "PutItem" }]);
  });

  it("answers DynamoDB's throttling errors for the next N matching requests", async () => {
    proxy.fault("throttling", { times: 1, actions: ["PutItem"] });
    proxy.fault("provisioned", { times: 1 });
    await expect(put("b")).rejects.toMatchObject({ name: "ThrottlingException" });
    await expect(put("b")).rejects.toMatchObject({ name: "ProvisionedThroughputExceededException" });
    await put("b");
    expect(await get("b")).toBeDefined();
    expect(proxy.requests.map((r) => r.fault)).toEqual(["throttling", "provisioned", undefined]);
  });

  it("skips the first matching requests when asked", async () => {
    proxy.fault("throttling", { actions: ["PutItem"], skip: 1, times: 1 });
    await put("s1");
    await expect(put("s2")).rejects.toMatchObject({ name: "ThrottlingException" });
    await put("s2");
    expect(proxy.requests.map((r) => r.fault)).toEqual([undefined, "throttling", undefined]);
  });

  it("loses a response after the table applied the write", async () => {
    proxy.fault("lose_response", { times: 1 });
    await expect(put("c")).rejects.toThrow();
    expect(await get("c")).toMatchObject({ v: { S: "c" } });
  });

  it("refuses connections while down, and recovers", async () => {
    await put("warm");
    await proxy.down();
    const err = await put("d").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    await proxy.up();
    await put("d");
    expect(await get("d")).toBeDefined();
  });

  it("its faults are what the store maps to TableUnavailableError", async () => {
    const { IdempotencyStore } = await import("../../functions/core/store/idempotency.js");
    const store = new IdempotencyStore(table);
    proxy.fault("server_error", { times: 1 });
    await expect(store.claim("proxy-claim")).rejects.toBeInstanceOf(TableUnavailableError);
    await proxy.down();
    await expect(store.claim("proxy-claim")).rejects.toBeInstanceOf(TableUnavailableError);
  });
});
