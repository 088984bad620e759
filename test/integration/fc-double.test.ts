// The FC API double's control plane and authentication, driven by the real @alicloud/fc2 client
// (and raw fetch where the SDK cannot send a broken request).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import FC from "@alicloud/fc2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crc64, type FcDouble, startFcDouble, zipBase64 } from "../doubles/fc/index.js";

const ACCOUNT = "1234567890123456";
const REGION = "cn-hangzhou";
const AK = "LTAI5tDoubleKey";
const SK = "double-secret-value";

let fc: FcDouble;
let clockOffsetMs = 0;

function client(overrides: Partial<FC.ClientConfig> & { accountId?: string } = {}): FC {
  const { accountId = ACCOUNT, ...config } = overrides;
  return new FC(accountId, { accessKeyID: AK, accessKeySecret: SK, region: REGION, endpoint: fc.url, ...config });
}

/** content-md5 as the SDK computes it, written independently of the double's code. */
function md5(body: string): string {
  return Buffer.from(createHash("md5").update(body).digest("hex"), "utf8").toString("base64");
}

function signedHeaders(
  method: string,
  apiPath: string,
  body: string | undefined,
  query: Record<string, string | string[]> | null = null,
): Record<string, string> {
  const headers: Record<string, string> = { date: new Date().toUTCString(), "x-fc-account-id": ACCOUNT };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-md5"] = md5(body);
  }
  headers.authorization = FC.getSignature(AK, SK, method, `/2016-08-15${apiPath}`, headers, query);
  return headers;
}

const HANDLER = `exports.handler = (event, context, callback) => callback(null, "ok:" + event);\n`;

beforeAll(async () => {
  fc = await startFcDouble({
    accountId: ACCOUNT,
    region: REGION,
    accessKeys: { [AK]: SK, "STS.tempKey": "sts-secret" },
    securityTokens: { "STS.tempKey": "sts-token" },
    now: () => Date.now() + clockOffsetMs,
  });
});

afterAll(async () => {
  await fc.close();
});

describe("FC double control plane with the real @alicloud/fc2 client", () => {
  it("round-trips services, functions, triggers and async configs, and deletes in FC's order", async () => {
    const c = client();
    const created = await c.createService("svc-a", {
      description: "first",
      role: "acs:ram::1234567890123456:role/fc-role",
      unknownField: "ignored",
    } as FC.ServiceOptions);
    expect(created.data).toMatchObject({ serviceName: "svc-a", description: "first", role: "acs:ram::1234567890123456:role/fc-role" });
    expect(created.data.serviceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.data).not.toHaveProperty("unknownField");
    expect(created.headers["x-fc-request-id"]).toEqual(expect.any(String));

    const got = await c.getService("svc-a");
    expect(got.data.serviceId).toBe(created.data.serviceId);
    const updated = await c.updateService("svc-a", { description: "second" });
    expect(updated.data.description).toBe("second");
    expect(updated.data.role).toBe("acs:ram::1234567890123456:role/fc-role");

    const zip = zipBase64({ "index.js": HANDLER });
    const fn = await c.createFunction("svc-a", {
      functionName: "fn-1",
      runtime: "nodejs20",
      handler: "index.handler",
      memorySize: "512",
      timeout: 10,
      instanceConcurrency: 20,
      environmentVariables: { GREETING: "hi" },
      code: { zipFile: zip },
    });
    expect(fn.data).toMatchObject({
      functionName: "fn-1",
      runtime: "nodejs20",
      handler: "index.handler",
      memorySize: 512,
      timeout: 10,
      instanceConcurrency: 20,
      environmentVariables: { GREETING: "hi" },
      codeSize: Buffer.from(zip, "base64").length,
      codeChecksum: crc64(Buffer.from(zip, "base64")),
    });
    expect(fn.data.functionId).toEqual(expect.any(String));
    await expect(
      c.createFunction("svc-a", { functionName: "fn-1", runtime: "nodejs20", handler: "index.handler", code: { zipFile: zip } }),
    ).rejects.toMatchObject({ name: "FCFunctionAlreadyExistsError", code: "FunctionAlreadyExists" });

    const up = await c.updateFunction("svc-a", "fn-1", { timeout: 30, description: "d" });
    expect(up.data).toMatchObject({ timeout: 30, description: "d", memorySize: 512, codeChecksum: fn.data.codeChecksum });

    for (const name of ["fn-2", "fn-3", "other"]) {
      await c.createFunction("svc-a", { functionName: name, runtime: "nodejs20", handler: "index.handler", code: { zipFile: zip } });
    }
    const page1 = await c.listFunctions("svc-a", { prefix: "fn-", limit: 2 });
    expect(page1.data.functions.map((f) => f.functionName)).toEqual(["fn-1", "fn-2"]);
    expect(page1.data.nextToken).toBe("fn-3");
    const page2 = await c.listFunctions("svc-a", { prefix: "fn-", limit: 2, nextToken: page1.data.nextToken });
    expect(page2.data.functions.map((f) => f.functionName)).toEqual(["fn-3"]);
    expect(page2.data.nextToken).toBeUndefined();

    const trig = await c.createTrigger("svc-a", "fn-1", {
      triggerName: "http",
      triggerType: "http",
      triggerConfig: { authType: "anonymous", methods: ["POST"] },
    });
    expect(trig.data).toMatchObject({
      triggerName: "http",
      triggerType: "http",
      triggerConfig: { authType: "anonymous", methods: ["POST"] },
      urlInternet: `${fc.url}/2016-08-15/proxy/svc-a/fn-1/`,
    });
    await expect(
      c.createTrigger("svc-a", "fn-1", { triggerName: "http", triggerType: "http", triggerConfig: { authType: "anonymous", methods: ["GET"] } }),
    ).rejects.toMatchObject({ code: "TriggerAlreadyExists" });
    const trigUp = await c.updateTrigger("svc-a", "fn-1", "http", { triggerConfig: { authType: "function", methods: ["GET", "POST"] } });
    expect(trigUp.data.triggerConfig).toEqual({ authType: "function", methods: ["GET", "POST"] });
    expect((await c.getTrigger("svc-a", "fn-1", "http")).data.triggerConfig).toEqual({ authType: "function", methods: ["GET", "POST"] });
    expect((await c.listTriggers("svc-a", "fn-1")).data.triggers.map((t) => t.triggerName)).toEqual(["http"]);

    const cfg = await c.putFunctionAsyncConfig("svc-a", "fn-1", null, { maxAsyncRetryAttempts: 1, maxAsyncEventAgeInSeconds: 600 });
    expect(cfg.data).toMatchObject({ maxAsyncRetryAttempts: 1, maxAsyncEventAgeInSeconds: 600, qualifier: "LATEST" });
    expect((await c.getFunctionAsyncConfig("svc-a", "fn-1", "LATEST")).data.maxAsyncRetryAttempts).toBe(1);

    await expect(c.deleteService("svc-a")).rejects.toMatchObject({ name: "FCServiceNotEmptyError", code: "ServiceNotEmpty" });
    await expect(c.deleteFunction("svc-a", "fn-1")).rejects.toMatchObject({ code: "FunctionNotEmpty" });
    await c.deleteTrigger("svc-a", "fn-1", "http");
    await c.deleteFunctionAsyncConfig("svc-a", "fn-1", null);
    await expect(c.getFunctionAsyncConfig("svc-a", "fn-1", null)).rejects.toMatchObject({ code: "AsyncConfigNotExists" });
    for (const name of ["fn-1", "fn-2", "fn-3", "other"]) await c.deleteFunction("svc-a", name);
    const del = await c.deleteService("svc-a");
    expect(del.data).toBe("");
    await expect(c.getService("svc-a")).rejects.toMatchObject({ name: "FCServiceNotFoundError", code: "ServiceNotFound" });
    expect(fc.requests.filter((r) => r.method === "DELETE").map((r) => r.status)).toContain(204);
  });

  it("answers missing resources and bad input with FC's error codes", async () => {
    const c = client();
    await c.createService("svc-err");
    await expect(c.getFunction("svc-err", "nope")).rejects.toMatchObject({ name: "FCFunctionNotFoundError", code: "FunctionNotFound" });
    await expect(c.getTrigger("svc-err", "nope", "t")).rejects.toMatchObject({ code: "FunctionNotFound" });
    await expect(c.createService("svc-err")).rejects.toMatchObject({ code: "ServiceAlreadyExists" });
    await expect(c.createService("bad name!")).rejects.toMatchObject({ code: "InvalidArgument" });
    await expect(c.getService("svc-err", {}, "prod")).rejects.toMatchObject({ code: "AliasNotFound" });
    await expect(
      c.createFunction("svc-err", { functionName: "f", runtime: "nodejs20", handler: "index.handler", code: { zipFile: "bm90IGEgemlw" } }),
    ).rejects.toMatchObject({ code: "InvalidArgument", message: expect.stringContaining("zip") as unknown });
    await expect(
      c.createFunction("svc-err", {
        functionName: "f",
        runtime: "nodejs20",
        handler: "index.handler",
        environmentVariables: { FC_SECRET: "x" },
        code: { zipFile: zipBase64({ "index.js": HANDLER }) },
      }),
    ).rejects.toMatchObject({ code: "InvalidArgument", message: expect.stringContaining("FC_SECRET") as unknown });
    await expect(
      c.createTrigger("svc-err", "f", { triggerName: "t", triggerType: "http", triggerConfig: { authType: "open", methods: [] } }),
    ).rejects.toMatchObject({ code: "FunctionNotFound" });
    await expect(c.get("/nowhere")).rejects.toMatchObject({ code: "PathNotSupported" });

    const badPath = await fetch(`${fc.url}/2016-08-15/services/%E0%A4%A`);
    expect(badPath.status).toBe(400);
    expect(await badPath.json()).toMatchObject({ ErrorCode: "InvalidArgument" });
    const outside = await fetch(`${fc.url}/2021-04-06/services`);
    expect(outside.status).toBe(400);
    expect(await outside.json()).toMatchObject({ ErrorCode: "PathNotSupported" });

    const body = "{not json";
    const res = await fetch(`${fc.url}/2016-08-15/services`, { method: "POST", headers: signedHeaders("POST", "/services", body), body });
    expect(res.status).toBe(400);
    expect(res.headers.get("x-fc-request-id")).toEqual(expect.any(String));
    expect(await res.json()).toMatchObject({ ErrorCode: "InvalidArgument" });
  });
});

describe("FC double timer triggers", () => {
  const EVENT_HANDLER = `exports.handler = async (event) => { globalThis.timerEvents = [...(globalThis.timerEvents ?? []), JSON.parse(event.toString())]; return "ok"; };\n`;
  const events = () => (globalThis as { timerEvents?: unknown[] }).timerEvents ?? [];

  it("validates triggerConfig {cronExpression, enable, payload} as FC documents it", async () => {
    const c = client();
    await c.createService("svc-timer-bad");
    await c.createFunction("svc-timer-bad", { functionName: "f", runtime: "nodejs20", handler: "index.handler", code: { zipFile: zipBase64({ "index.js": EVENT_HANDLER }) } });
    const create = (triggerConfig: Record<string, unknown>) => c.createTrigger("svc-timer-bad", "f", { triggerName: "t", triggerType: "timer", triggerConfig });
    for (const bad of [
      { enable: true },
      { cronExpression: "@every 1m" },
      { cronExpression: "@every 0m", enable: true },
      { cronExpression: "@daily", enable: true },
      { cronExpression: "* * * * *", enable: true },
      { cronExpression: "0 61 * * * *", enable: true },
      { cronExpression: "@every 1m", enable: true, payload: { not: "a string" } },
    ])
      await expect(create(bad), JSON.stringify(bad)).rejects.toMatchObject({ code: "InvalidArgument" });
    const ok = await create({ cronExpression: "0 0/5 * * * *", enable: true, payload: "p" });
    expect(ok.data).toMatchObject({ triggerType: "timer", triggerConfig: { cronExpression: "0 0/5 * * * *", enable: true, payload: "p" } });
    await expect(c.updateTrigger("svc-timer-bad", "f", "t", { triggerConfig: { cronExpression: "every minute", enable: true } })).rejects.toMatchObject({
      code: "InvalidArgument",
    });
  });

  it("fires asynchronously with {triggerTime, triggerName, payload}: on demand, and per occurrence of @every or a cron", async () => {
    const c = client();
    await c.createService("svc-timer");
    await c.createFunction("svc-timer", { functionName: "tick", runtime: "nodejs20", handler: "index.handler", code: { zipFile: zipBase64({ "index.js": EVENT_HANDLER }) } });
    await c.createTrigger("svc-timer", "tick", { triggerName: "every-minute", triggerType: "timer", triggerConfig: { cronExpression: "@every 1m", enable: true, payload: "hello" } });
    const at = Date.parse("2026-01-02T03:04:05.678Z");
    const record = fc.fireTimer("svc-timer", "tick", "every-minute", at);
    await fc.idle();
    expect(record).toMatchObject({ functionName: "tick", outcome: "succeeded" });
    expect(events().at(-1)).toEqual({ triggerTime: "2026-01-02T03:04:05Z", triggerName: "every-minute", payload: "hello" });

    const from = Date.now();
    expect(fc.fireDueTimers(from, from + 10 * 60_000).filter((r) => r.serviceName === "svc-timer")).toHaveLength(10);
    await c.updateTrigger("svc-timer", "tick", "every-minute", { triggerConfig: { cronExpression: "0 0/15 * * * *", enable: true, payload: "" } });
    const hour = Date.parse("2026-01-02T03:00:00Z");
    const fired = fc.fireDueTimers(hour, hour + 3_600_000).filter((r) => r.serviceName === "svc-timer");
    expect(fired.map((r) => (JSON.parse(r.payload.toString()) as { triggerTime: string }).triggerTime)).toEqual([
      "2026-01-02T03:15:00Z",
      "2026-01-02T03:30:00Z",
      "2026-01-02T03:45:00Z",
      "2026-01-02T04:00:00Z",
    ]);
    await c.updateTrigger("svc-timer", "tick", "every-minute", { triggerConfig: { cronExpression: "@every 1m", enable: false } });
    expect(fc.fireTimer("svc-timer", "tick", "every-minute")).toBeUndefined();
    expect(fc.fireDueTimers(from, from + 600_000).filter((r) => r.serviceName === "svc-timer")).toHaveLength(0);
    await fc.idle();
  });
});

describe("FC double authentication", () => {
  it("rejects a wrong secret the way the SDK reports FC's SignatureNotMatch", async () => {
    const err = await client({ accessKeySecret: "wrong" })
      .getService("any")
      .then(
        () => undefined,
        (e: unknown) => e as FC.FCError,
      );
    expect(err).toMatchObject({ name: "FCSignatureNotMatchError", code: "SignatureNotMatch" });
    expect(err?.message).toMatch(/^GET \/services\/any failed with 403\. requestid: [0-9a-f-]{36}, message: The request signature/);
    await expect(client({ accessKeyID: "LTAIunknown" }).getService("any")).rejects.toMatchObject({
      name: "FCInvalidAccessKeyIDError",
      code: "InvalidAccessKeyID",
    });
  });

  it("rejects a Date more than 15 minutes off the double's clock", async () => {
    const c = client();
    try {
      clockOffsetMs = 16 * 60 * 1000;
      await expect(c.listServices()).rejects.toMatchObject({ code: "RequestTimeTooSkewed" });
      clockOffsetMs = -16 * 60 * 1000;
      await expect(c.listServices()).rejects.toMatchObject({ code: "RequestTimeTooSkewed" });
      clockOffsetMs = 14 * 60 * 1000;
      await expect(c.listServices()).resolves.toMatchObject({ data: { services: expect.any(Array) as unknown } });
    } finally {
      clockOffsetMs = 0;
    }
  });

  it("checks content-md5 against the body: a tampered body with a valid signature is rejected", async () => {
    const original = JSON.stringify({ serviceName: "svc-md5" });
    const headers = signedHeaders("POST", "/services", original);
    const tampered = JSON.stringify({ serviceName: "svc-evil" });
    const bad = await fetch(`${fc.url}/2016-08-15/services`, { method: "POST", headers, body: tampered });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ ErrorCode: "InvalidArgument", ErrorMessage: expect.stringContaining("Content-MD5") as unknown });
    const good = await fetch(`${fc.url}/2016-08-15/services`, { method: "POST", headers, body: original });
    expect(good.status).toBe(201);
    expect(await good.json()).toMatchObject({ serviceName: "svc-md5" });
  });

  it("requires the account id of this endpoint", async () => {
    await expect(client({ accountId: "999" }).listServices()).rejects.toMatchObject({ code: "AccessDenied" });
  });

  it("accepts STS keys only with their registered security token", async () => {
    const ok = client({ accessKeyID: "STS.tempKey", accessKeySecret: "sts-secret", securityToken: "sts-token" });
    await expect(ok.listServices()).resolves.toMatchObject({ data: { services: expect.any(Array) as unknown } });
    const bad = client({ accessKeyID: "STS.tempKey", accessKeySecret: "sts-secret", securityToken: "stolen" });
    await expect(bad.listServices()).rejects.toMatchObject({ code: "InvalidSecurityToken" });
    const role = fc.roleCredentials;
    const asRole = client({ accessKeyID: role.accessKeyId, accessKeySecret: role.accessKeySecret, securityToken: role.securityToken });
    await expect(asRole.listServices()).resolves.toBeDefined();
  });

  it("signs /proxy/ calls including the sorted query values", async () => {
    const c = client();
    await c.createService("svc-proxy");
    await c.createFunction("svc-proxy", {
      functionName: "echo",
      runtime: "nodejs20",
      handler: "index.handler",
      code: {
        zipFile: zipBase64({
          "index.mjs": `export const handler = (req, resp) => { resp.setHeader("content-type", "application/json"); resp.send(JSON.stringify({ path: req.path, queries: req.queries })); };\n`,
        }),
      },
    });
    await c.createTrigger("svc-proxy", "echo", {
      triggerName: "http",
      triggerType: "http",
      triggerConfig: { authType: "function", methods: ["GET"] },
    });

    const res = await c.get<{ path: string; queries: unknown }>("/proxy/svc-proxy/echo/path", { b: "2", a: ["x", "y"] });
    expect(res.data).toEqual({ path: "/path", queries: { b: "2", a: ["x", "y"] } });

    await expect(client({ accessKeySecret: "wrong" }).get("/proxy/svc-proxy/echo/path", { a: "x" })).rejects.toMatchObject({
      code: "SignatureNotMatch",
    });
    const headers = signedHeaders("GET", "/proxy/svc-proxy/echo/path", undefined, { a: "x" });
    const altered = await fetch(`${fc.url}/2016-08-15/proxy/svc-proxy/echo/path?a=y`, { headers });
    expect(altered.status).toBe(403);
    const same = await fetch(`${fc.url}/2016-08-15/proxy/svc-proxy/echo/path?a=x`, { headers });
    expect(same.status).toBe(200);
    const unsigned = await fetch(`${fc.url}/2016-08-15/proxy/svc-proxy/echo/path?a=x`);
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toMatchObject({ ErrorCode: "MissingRequiredHeader" });
  });
});

describe("FC double checksums", () => {
  it("computes codeChecksum as CRC-64/ECMA-182 (the XZ form OSS and FC report)", () => {
    expect(crc64(Buffer.from("123456789"))).toBe(BigInt("0x995DC9BBDF1939FA").toString());
    expect(crc64(Buffer.alloc(0))).toBe("0");
  });
});

describe("FC double standalone", () => {
  it("prints its URL as one JSON line and serves the API", async () => {
    const proc = spawn(
      process.execPath,
      ["--import", "tsx", "test/doubles/fc/main.ts", "--port", "0", "--account-id", ACCOUNT, "--access-key", `${AK}:${SK}`],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: proc.stdout }).once("line", resolve);
        proc.once("exit", (code) => reject(new Error(`exited with ${code}`)));
      });
      const info = JSON.parse(line) as { url: string; port: number };
      expect(info.url).toBe(`http://127.0.0.1:${info.port}`);
      const c = new FC(ACCOUNT, { accessKeyID: AK, accessKeySecret: SK, region: REGION, endpoint: info.url });
      await expect(c.getService("none")).rejects.toMatchObject({ code: "ServiceNotFound" });
    } finally {
      proc.kill("SIGTERM");
    }
  });
});
