// The Tablestore double as the real SDK meets it, and the Tablestore backend's handling of what it
// answers: request signing, temporary credentials and their rotation, documented condition and
// counter rules, TTL by cell age, GetRange paging, and faults (throttling, 5xx and lost answers retried
// up to maxAttempts, then TableUnavailableError).
import { createHash } from "node:crypto";
import TableStore from "tablestore";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TableUnavailableError } from "../../functions/core/store/errors.js";
import { absent, eq } from "../../functions/core/store/items.js";
import { openTable, type Table } from "../../functions/core/store/table.js";
import { sign, stringToSign } from "../doubles/tablestore/signing.js";
import { startTestTablestore, TABLESTORE_KEY, type TestTablestore } from "../helpers/tablestore.js";

let clock = Date.now();
let ts: TestTablestore;
beforeAll(async () => {
  ts = await startTestTablestore({ now: () => clock });
});
afterAll(() => ts.close());
afterEach(() => {
  ts.double.clear();
  ts.double.scanLimit = 5000;
});

const nowS = () => Math.floor(clock / 1000);
let seq = 0;
const key = () => ({ pk: `double#${++seq}`, sk: "x" });

function client(over: Partial<TableStore.ClientConfig> = {}): TableStore.Client {
  return new TableStore.Client({
    accessKeyId: TABLESTORE_KEY.accessKeyId,
    secretAccessKey: TABLESTORE_KEY.accessKeySecret,
    endpoint: ts.double.url,
    instancename: ts.double.instance,
    maxRetries: 0,
    ...over,
  });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return String((err as { message?: string }).message);
  }
}

describe("authentication", () => {
  it("checks the signature, the key, the instance and the body's MD5 like the service", async () => {
    const list = (c: TableStore.Client) => codeOf(c.listTable({}));
    expect(await list(client())).toBe("ok");
    expect(await list(client({ secretAccessKey: "wrong" }))).toContain("Signature mismatch.");
    expect(await list(client({ accessKeyId: "LTAI-unknown" }))).toContain("The AccessKeyID does not exist.");
    expect(await list(client({ instancename: "other" }))).toContain("The instance is not found.");

    const body = Buffer.alloc(0);
    const headers: Record<string, string> = {
      "x-ots-date": new Date(Date.now() - 20 * 60_000).toISOString(),
      "x-ots-apiversion": "2015-12-31",
      "x-ots-accesskeyid": TABLESTORE_KEY.accessKeyId,
      "x-ots-instancename": ts.double.instance,
      "x-ots-contentmd5": createHash("md5").update(body).digest("base64"),
    };
    headers["x-ots-signature"] = sign(TABLESTORE_KEY.accessKeySecret, stringToSign("/ListTable", "POST", headers));
    const skewed = await fetch(`${ts.double.url}/ListTable`, { method: "POST", headers, body });
    expect(skewed.status).toBe(403);
    expect(Buffer.from(await skewed.arrayBuffer()).toString()).toContain("Mismatch between system time and x-ots-date");
    const missing = await fetch(`${ts.double.url}/ListTable`, { method: "POST", body });
    expect(missing.status).toBe(400);
    expect(Buffer.from(await missing.arrayBuffer()).toString()).toContain("Missing header: x-ots-date.");
  });

  it("temporary credentials need their token; the table signs with whatever credentials are current", async () => {
    ts.double.setKey("STS.first", { secret: "s1", securityToken: "token-1" });
    ts.double.setKey("STS.second", { secret: "s2", securityToken: "token-2" });
    let current = { accessKeyId: "STS.first", accessKeySecret: "s1", securityToken: "token-1" };
    const table: Table = await openTable(ts.config, { env: {}, credentials: () => current, maxAttempts: 1 });
    try {
      const items = table.items(() => clock);
      const k = key();
      expect(await items.put(k, { v: 1, expiresAt: nowS() + 60 })).toBe(true);
      ts.double.revokeKey("STS.first");
      await expect(items.get(k)).rejects.toThrow(/AccessKeyID does not exist/);
      current = { accessKeyId: "STS.second", accessKeySecret: "s2", securityToken: "token-2" };
      expect(await items.get(k)).toMatchObject({ v: 1 });
      current = { ...current, securityToken: "stale" };
      await expect(items.get(k)).rejects.toThrow(/security token/);
    } finally {
      await table.close();
    }
  });
});

describe("documented semantics", () => {
  it("row existence expectations and column conditions fail with OTSConditionCheckFail", async () => {
    const c = client();
    const primaryKey = [{ pk: `double#${++seq}` }, { sk: "x" }];
    const put = (existence: number, column: TableStore.ColumnCondition | null = null) =>
      codeOf(c.putRow({ tableName: ts.config.name, condition: new TableStore.Condition(existence, column), primaryKey, attributeColumns: [{ n: TableStore.Long.fromNumber(1) }] }));
    const E = TableStore.RowExistenceExpectation;
    expect(await put(E.EXPECT_EXIST)).toContain("Condition check failed.");
    expect(await put(E.EXPECT_NOT_EXIST)).toBe("ok");
    expect(await put(E.EXPECT_NOT_EXIST)).toContain("Condition check failed.");
    const n = (v: number, passIfMissing = true) => new TableStore.SingleColumnCondition("n", TableStore.Long.fromNumber(v), TableStore.ComparatorType.EQUAL, passIfMissing);
    expect(await put(E.EXPECT_EXIST, n(2))).toContain("Condition check failed.");
    expect(await put(E.EXPECT_EXIST, n(1))).toBe("ok");
    const gone = (passIfMissing: boolean) => new TableStore.SingleColumnCondition("gone", "x", TableStore.ComparatorType.EQUAL, passIfMissing);
    expect(await put(E.IGNORE, gone(true))).toBe("ok");
    expect(await put(E.IGNORE, gone(false))).toContain("Condition check failed.");
  });

  it("atomic counters: INTEGER only, from 0, not combined with another change of the column", async () => {
    const c = client();
    const primaryKey = [{ pk: `double#${++seq}` }, { sk: "x" }];
    const update = (changes: object[]) =>
      codeOf(c.updateRow({ tableName: ts.config.name, condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null), primaryKey, updateOfAttributeColumns: changes }));
    expect(await update([{ INCREMENT: [{ n: TableStore.Long.fromNumber(5) }] }])).toBe("ok");
    expect(await update([{ PUT: [{ s: "text" }] }])).toBe("ok");
    expect(await update([{ INCREMENT: [{ s: TableStore.Long.fromNumber(1) }] }])).toContain("INTEGER");
    expect(await update([{ INCREMENT: [{ n: TableStore.Long.fromNumber(1) }] }, { PUT: [{ n: "x" }] }])).toContain("only be changed once");
    const row = await c.getRow({ tableName: ts.config.name, primaryKey });
    const n = row.row?.attributes?.find((a) => a.columnName === "n")?.columnValue as TableStore.Int64 | undefined;
    expect(n?.toNumber()).toBe(5);
  });

  it("drops cells older than the table's time_to_live, whatever expiresAt says", async () => {
    const items = ts.table.items(() => clock);
    const k = key();
    await items.put(k, { v: 1, expiresAt: nowS() + 300 * 86_400 });
    const ttl = ts.double.tables.get(ts.config.name)!.ttlS;
    expect(ttl).toBeGreaterThan(366 * 86_400);
    const saved = clock;
    clock += (ttl + 1) * 1000;
    try {
      expect(await ts.table.items(() => saved).get(k)).toBeUndefined();
    } finally {
      clock = saved;
    }
  });

  it("a range read stops after its scan limit and hands back next_start_primary_key, which the query follows", async () => {
    const items = ts.table.items(() => clock);
    const pk = `range#${++seq}`;
    for (let i = 0; i < 12; i++) await items.put({ pk, sk: `s${String(i).padStart(2, "0")}` }, { expiresAt: i % 3 === 0 ? nowS() - 1 : nowS() + 60 });
    ts.double.scanLimit = 3;
    const before = ts.double.requests.length;
    const found = await items.query(pk, { limit: 5 });
    expect(found.map((i) => i.sk)).toEqual(["s01", "s02", "s04", "s05", "s07"]);
    expect(ts.double.requests.slice(before).filter((r) => r.operation === "GetRange").length).toBeGreaterThan(1);
  });
});

describe("faults through the Tablestore backend", () => {
  it("throttling and 5xx are retried up to maxAttempts, then TableUnavailableError", async () => {
    const items = ts.table.items(() => clock);
    const k = key();
    ts.double.fault("server_busy", { times: 1, operations: ["PutRow"] });
    expect(await items.put(k, { v: 1, expiresAt: nowS() + 60 }, { if: absent })).toBe(true);
    ts.double.fault("quota_exhausted", { times: 3, operations: ["UpdateRow"] });
    const before = ts.double.requests.length;
    const err = await items.update(k, { set: { v: 2 } }, { if: eq("v", 1) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TableUnavailableError);
    expect((err as Error).message).toMatch(/OTSQuotaExhausted/);
    expect(ts.double.requests.slice(before).map((r) => r.fault)).toEqual(["quota_exhausted", "quota_exhausted", "quota_exhausted"]);
    ts.double.fault("server_error", { times: 5, operations: ["GetRow"] });
    await expect(items.get(k)).rejects.toBeInstanceOf(TableUnavailableError);
  });

  it("a write applied whose answer was lost is sent again: a conditional one then finds its own write", async () => {
    const items = ts.table.items(() => clock);
    const k = key();
    ts.double.fault("lose_response", { times: 1, operations: ["PutRow"] });
    expect(await items.put(k, { v: 1, expiresAt: nowS() + 60 }, { if: absent })).toBe(false);
    expect(await items.get(k)).toMatchObject({ v: 1 });
    expect(ts.double.requests.filter((r) => r.operation === "PutRow").slice(-2).map((r) => r.fault ?? r.error)).toEqual(["lose_response", "OTSConditionCheckFail"]);
  });

  it("a table that is down fails fast with TableUnavailableError, and recovers", async () => {
    const items = ts.table.items(() => clock);
    await ts.double.down();
    try {
      await expect(items.get(key())).rejects.toBeInstanceOf(TableUnavailableError);
    } finally {
      await ts.double.up();
    }
    expect(await items.get(key())).toBeUndefined();
  });
});
