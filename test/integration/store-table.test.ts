// The table client: idempotent creation (also concurrent), TTL tolerated where unsupported, the embedded
// store on disk and in memory, error mapping, and failing fast (no hang) when the table is down.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ApiUsageStore } from "../../functions/core/store/api-usage.js";
import { ConversationStore } from "../../functions/core/store/conversations.js";
import { IdempotencyStore } from "../../functions/core/store/idempotency.js";
import { ensureTable } from "../../functions/core/store/dynamodb/admin.js";
import { isDynamoUnavailable as isUnavailable } from "../../functions/core/store/dynamodb/errors.js";
import { openDynamoTable as openTable } from "../../functions/core/store/dynamodb/open.js";
import { callTable, TableUnavailableError } from "../../functions/core/store/errors.js";
import { useTestTable } from "../helpers/dynalite.js";

const warnings: string[] = [];
process.on("warning", (w) => warnings.push(`${w.name}: ${w.message}`));

const db = useTestTable();
const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "dingclaw-store-"));
  tempDirs.push(d);
  return d;
}

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

const conversationOpts = { ttlSeconds: 3_600, maxHistoryTokens: 8_000 };

describe("ensureTable", () => {
  it("creates once, then reports the table as existing; TTL is unsupported on dynalite and tolerated", async () => {
    const first = await ensureTable(db.table.client, "first-table");
    expect(first).toEqual({ created: true, ttl: "unsupported" });
    const second = await ensureTable(db.table.client, "first-table");
    expect(second).toEqual({ created: false, ttl: "unsupported" });
  });

  it("is safe when two processes create the same table at once", async () => {
    const other = await db.openTable();
    const results = await Promise.all([
      ensureTable(db.table.client, "racing-table"),
      ensureTable(other.client, "racing-table"),
      ensureTable(db.table.client, "racing-table"),
    ]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const racing = await db.openTable("racing-table");
    expect(await new IdempotencyStore(racing).claim("k")).toMatchObject({ status: "claimed" });
  });
});

describe("openTable", () => {
  it("embedded on disk: writes survive close and reopen", async () => {
    const dataDir = tempDir();
    const cfg = { endpoint: undefined, name: "dingclaw", dataDir, region: "local" };
    const first = await openTable(cfg);
    try {
      expect(first.embedded).toBe(true);
      expect(first.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await first.ensure();
      await new ConversationStore(first, conversationOpts).append("chat", [{ role: "user", content: "记住我", at: 1 }]);
      const idem = new IdempotencyStore(first);
      const claim = await idem.claim("robot:m1");
      if (claim.status !== "claimed") throw new Error("expected a claim");
      await idem.complete("robot:m1", claim.token, { replyId: "reply-1" });
    } finally {
      await first.close();
    }
    expect(readdirSync(join(dataDir, "table")).length).toBeGreaterThan(0);

    const again = await openTable(cfg);
    try {
      expect(await again.ensure()).toMatchObject({ created: false });
      const conv = await new ConversationStore(again, conversationOpts).load("chat");
      expect(conv.turns.map((t) => t.content)).toEqual(["记住我"]);
      expect(await new IdempotencyStore(again).claim("robot:m1")).toEqual({ status: "completed", replyId: "reply-1" });
    } finally {
      await again.close();
    }
  });

  it("closing waits for writes in flight: none is cut off, all are on disk after reopening", async () => {
    const dataDir = tempDir();
    const cfg = { endpoint: undefined, name: "dingclaw", dataDir, region: "local" };
    const first = await openTable(cfg);
    await first.ensure();
    const counts = Array.from({ length: 100 }, () => new ApiUsageStore(first, { app: "ding1" }).record("robot.send"));
    await first.close();
    expect((await Promise.allSettled(counts)).filter((r) => r.status === "rejected")).toEqual([]);

    const again = await openTable(cfg);
    try {
      expect((await new ApiUsageStore(again, { app: "ding1" }).month()).calls).toBe(100);
    } finally {
      await again.close();
    }
  });

  it("embedded: a data directory already in use is refused with a clear error", async () => {
    const dataDir = tempDir();
    const cfg = { endpoint: undefined, name: "dingclaw", dataDir, region: "local" };
    const holder = await openTable(cfg);
    try {
      await expect(openTable(cfg)).rejects.toThrow(/in use by another dingclaw process/);
    } finally {
      await holder.close();
    }
  });

  it("embedded: its own client reaches dynalite in this process, without an HTTP request; others still can over HTTP", async () => {
    const requests: string[] = [];
    const onRequest = (m: unknown) => requests.push(String((m as { request: { host: string } }).request.host));
    subscribe("http.client.request.start", onRequest);
    const t = await openTable({ endpoint: undefined, name: "dingclaw", dataDir: "", region: "local" }, { inMemory: true });
    try {
      await t.ensure();
      const idem = new IdempotencyStore(t);
      expect(await idem.claim("robot:m1")).toMatchObject({ status: "claimed" });
      expect(await idem.claim("robot:m1")).toMatchObject({ status: "in_progress" });
      expect(requests).toEqual([]);

      const other = await openTable({ endpoint: t.endpoint, name: "dingclaw", dataDir: "", region: "local" }, { env: {} });
      try {
        expect(await new IdempotencyStore(other).claim("robot:m1")).toMatchObject({ status: "in_progress" });
      } finally {
        await other.close();
      }
      expect(requests.length).toBeGreaterThan(0);
    } finally {
      unsubscribe("http.client.request.start", onRequest);
      await t.close();
    }
  });

  it("embedded in memory writes no files", async () => {
    const dataDir = join(tempDir(), "unused");
    const t = await openTable({ endpoint: undefined, name: "dingclaw", dataDir, region: "local" }, { inMemory: true });
    try {
      expect(t.embedded).toBe(true);
      await t.ensure();
      await new ConversationStore(t, conversationOpts).append("k", [{ role: "user", content: "x", at: 1 }]);
    } finally {
      await t.close();
      await t.close();
    }
    expect(existsSync(dataDir)).toBe(false);
  });

  it("a configured endpoint is used as is, with dummy credentials for loopback", async () => {
    const t = await openTable(db.config, { env: {} });
    try {
      expect(t).toMatchObject({ embedded: false, endpoint: db.endpoint, name: db.name });
      expect((await new ConversationStore(t, conversationOpts).load("nobody")).exists).toBe(false);
    } finally {
      await t.close();
    }
  });

  it("rejects a bad table name or endpoint with an example", async () => {
    await expect(openTable({ ...db.config, name: "x" })).rejects.toThrow(/example: "dingclaw"/);
    await expect(openTable({ ...db.config, endpoint: "localhost:8000" })).rejects.toThrow(/http\(s\) URL/);
  });

  it("suppresses the SDK's NodeVersionSupportWarning", () => {
    expect(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe("true");
    expect(warnings.filter((w) => w.includes("NodeVersionSupportWarning"))).toEqual([]);
  });
});

describe("a table that is down", () => {
  it("fails fast with TableUnavailableError on a closed port", { timeout: 10_000 }, async () => {
    const port = await closedPort();
    const t = await openTable({ ...db.config, endpoint: `http://127.0.0.1:${port}` }, { env: {} });
    try {
      const err = await t.ensure().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TableUnavailableError);
      expect((err as Error).message).toMatch(/ECONNREFUSED/);
      await expect(new IdempotencyStore(t).claim("k")).rejects.toBeInstanceOf(TableUnavailableError);
    } finally {
      await t.close();
    }
  });

  it("times out instead of hanging when the endpoint accepts but never answers", { timeout: 10_000 }, async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    const t = await openTable({ ...db.config, endpoint: `http://127.0.0.1:${port}` }, { env: {}, requestTimeoutMs: 200, maxAttempts: 2 });
    try {
      const err = await new ConversationStore(t, conversationOpts).load("k").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TableUnavailableError);
      expect((err as Error).message).toMatch(/timeout/i);
    } finally {
      await t.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});

describe("error mapping", () => {
  const sdkError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

  it("maps throttling, 5xx, network errors and timeouts to unavailable", () => {
    expect(isUnavailable(sdkError("ProvisionedThroughputExceededException", 400))).toBe(true);
    expect(isUnavailable(sdkError("ThrottlingException", 400))).toBe(true);
    expect(isUnavailable(sdkError("InternalServerError", 500))).toBe(true);
    expect(isUnavailable(sdkError("Whatever", 503))).toBe(true);
    expect(isUnavailable(Object.assign(new Error("connect"), { code: "ECONNRESET" }))).toBe(true);
    expect(isUnavailable(new Error("outer", { cause: Object.assign(new Error("x"), { code: "ETIMEDOUT" }) }))).toBe(true);
    expect(isUnavailable(Object.assign(new Error("t"), { name: "TimeoutError" }))).toBe(true);
  });

  it("leaves request errors alone", () => {
    const conditional = sdkError("ConditionalCheckFailedException", 400);
    expect(isUnavailable(conditional)).toBe(false);
    expect(isUnavailable(sdkError("ValidationException", 400))).toBe(false);
    expect(isUnavailable(sdkError("ResourceNotFoundException", 400))).toBe(false);
  });

  it("maps only outages to TableUnavailableError, naming the table and the action", async () => {
    const where = { name: "t", endpoint: "http://user:pw@h/?q=1" };
    const conditional = sdkError("ConditionalCheckFailedException", 400);
    await expect(callTable(where, "PutItem", isUnavailable, Promise.reject(conditional))).rejects.toBe(conditional);
    const mapped = await callTable(where, "PutItem", isUnavailable, Promise.reject(sdkError("ThrottlingException", 400))).catch((e: unknown) => e);
    expect(mapped).toBeInstanceOf(TableUnavailableError);
    expect((mapped as Error).message).toBe('table "t" at http://h is unavailable (PutItem: ThrottlingException: ThrottlingException)');
  });
});
