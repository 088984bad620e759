// The FC hosts called as FC calls them: the callback with FC 2.0 `(req, resp, context)` and FC 3.0
// event inputs behaves identically and async-invokes the worker through the FC API double with the
// role credentials; the worker handler then answers once, however often the event is delivered.
// End to end on FC 3.0: the deployed callback bundle behind the double's HTTP trigger in FC 3.0 mode
// (the request as an FC 3.0 HTTP event, the `{statusCode, headers, body}` result as the response).
// The worker also runs firing jobs (a reminder the scheduler claimed), once however often delivered.
import FC from "@alicloud/fc2";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBundle } from "../../infra/bundle.js";
import type { FiringJob } from "../../functions/core/proactive/firing.js";
import { schedulerOf } from "../../functions/core/proactive/wiring.js";
import { startFcDouble, zipBase64, type FcDouble } from "../doubles/fc/index.js";
import { ROOT } from "../helpers/processes.js";
import { signedHeaders } from "../helpers/messages.js";
import { CLIENT_SECRET, startWorld, type World } from "../helpers/world.js";

type Handler = (a: unknown, b: unknown, c?: unknown) => Promise<unknown>;
const ROLE = { accessKeyId: "STS.role-key-id", accessKeySecret: "role-secret-000001", securityToken: "role-token-000001" };

let w: World;
let fc: FcDouble;
let callback: Handler;
let worker: Handler;
const context = { requestId: "fc-req-1", accountId: "1234567890", region: "cn-hangzhou", credentials: ROLE, service: { name: "dingclaw-test" } };

beforeAll(async () => {
  w = await startWorld();
  fc = await startFcDouble({
    accountId: "1234567890",
    region: "cn-hangzhou",
    accessKeys: { DEPLOYKEY: "deploy-secret" },
    roleCredentials: ROLE,
    httpTrigger: "fc3",
  });
  const client = new FC("1234567890", { accessKeyID: "DEPLOYKEY", accessKeySecret: "deploy-secret", region: "cn-hangzhou", endpoint: fc.url });
  await client.createService("dingclaw-test", { role: "acs:ram::1234567890:role/dingclaw" });
  await client.createFunction("dingclaw-test", {
    functionName: "worker",
    runtime: "nodejs20",
    handler: "index.handler",
    code: { zipFile: zipBase64({ "index.js": "exports.handler = async () => 'queued';" }) },
  });
  // Echoes the FC 3.0 event it was given, so the test sees its shape.
  await client.createFunction("dingclaw-test", {
    functionName: "echo",
    runtime: "nodejs20",
    handler: "index.handler",
    code: {
      zipFile: zipBase64({
        "index.js":
          "exports.handler = (event, context, callback) => callback(null, { statusCode: 201, headers: { 'x-seen': 'yes' }, " +
          "isBase64Encoded: true, body: Buffer.from(JSON.stringify({ isBuffer: Buffer.isBuffer(event), event: JSON.parse(event) })).toString('base64') });",
      }),
    },
  });
  const bundle = await buildBundle({ name: "callback", entry: "functions/callback.ts", handler: "index.handler" }, ROOT);
  await client.createFunction("dingclaw-test", {
    functionName: "callback",
    runtime: "nodejs20",
    handler: "index.handler",
    timeout: 30,
    code: { zipFile: Buffer.from(bundle.zip).toString("base64") },
    environmentVariables: {
      ...w.env,
      DINGCLAW_CONFIG_JSON: w.configJson,
      ALIBABA_CLOUD_FC_ENDPOINT: fc.url,
      DINGCLAW_WORKER_FUNCTION: "worker",
      LOG_LEVEL: "silent",
    },
  });
  for (const fn of ["echo", "callback"])
    await client.createTrigger("dingclaw-test", fn, {
      triggerName: "http",
      triggerType: "http",
      triggerConfig: { authType: "anonymous", methods: ["POST"] },
    });
  Object.assign(process.env, {
    ...w.env,
    DINGCLAW_CONFIG_JSON: w.configJson,
    ALIBABA_CLOUD_FC_ENDPOINT: fc.url,
    DINGCLAW_WORKER_FUNCTION: "worker",
    // The hosts log to stdout as on FC; the test output shows results only.
    LOG_LEVEL: "silent",
  });
  callback = ((await import("../../functions/callback.js")) as { handler: Handler }).handler;
  worker = ((await import("../../functions/worker.js")) as { handler: Handler }).handler;
});

afterAll(async () => {
  await fc?.close();
  await w?.close();
});

async function viaFc2(method: string, headers: Record<string, string>, body: string) {
  const req = Object.assign(Readable.from([Buffer.from(body)]), { method, headers });
  const out = { status: 0, headers: {} as Record<string, string>, body: "" };
  await callback(req, {
    setStatusCode: (s: number) => (out.status = s),
    setHeader: (k: string, v: string) => (out.headers[k] = v),
    send: (b: string | Buffer) => (out.body = b.toString()),
  }, context);
  return out;
}

async function viaFc3(method: string, headers: Record<string, string>, body: string) {
  const event = {
    version: "v1",
    rawPath: "/",
    headers,
    body: Buffer.from(body).toString("base64"),
    isBase64Encoded: true,
    requestContext: { requestId: "fc3-req", http: { method, path: "/" } },
  };
  const r = (await callback(Buffer.from(JSON.stringify(event)), context)) as { statusCode: number; headers: Record<string, string>; body: string };
  return { status: r.statusCode, headers: r.headers, body: r.body };
}

describe("FC hosts", () => {
  it("FC 2.0 and FC 3.0 inputs get identical answers", async () => {
    const cases: [string, Record<string, string>, () => string][] = [
      ["POST", signedHeaders(CLIENT_SECRET), () => JSON.stringify(w.message({ text: "FC 消息" }))],
      ["POST", signedHeaders("wrong-secret-000"), () => JSON.stringify(w.message())],
      ["POST", signedHeaders(CLIENT_SECRET), () => "{oops"],
      ["POST", signedHeaders(CLIENT_SECRET), () => JSON.stringify({ msgtype: "text" })],
      ["GET", {}, () => ""],
    ];
    for (const [method, headers, body] of cases) {
      const two = await viaFc2(method, headers, body());
      const three = await viaFc3(method, headers, body());
      expect({ status: three.status, body: three.body }).toEqual({ status: two.status, body: two.body });
    }
    expect((await viaFc2("POST", signedHeaders(CLIENT_SECRET), "x".repeat(1_100_000))).status).toBe(413);
  });

  it("dispatches the worker asynchronously with the role credentials, and the worker answers once", async () => {
    w.dt.reset();
    const before = fc.asyncInvocations.length;
    const requestsBefore = fc.requests.length;
    const r2 = await viaFc2("POST", signedHeaders(CLIENT_SECRET), JSON.stringify(w.message({ text: "二代", conversationId: "cidFc2==" })));
    const r3 = await viaFc3("POST", signedHeaders(CLIENT_SECRET), JSON.stringify(w.message({ text: "三代", conversationId: "cidFc3==" })));
    expect([r2.status, r3.status]).toEqual([200, 200]);
    await fc.idle();
    const jobs = fc.asyncInvocations.slice(before);
    expect(jobs).toHaveLength(2);
    // The double accepts only DEPLOYKEY (unknown to the callback) and the STS role key with its token.
    expect(fc.requests.slice(requestsBefore).filter((r) => r.path.endsWith("/invocations")).map((r) => r.status)).toEqual([202, 202]);

    for (const job of jobs) {
      const payload = Buffer.from(job.payload);
      expect(JSON.parse(await worker(payload, context) as string)).toEqual({ status: "done" });
      expect(JSON.parse(await worker(payload, context) as string)).toEqual({ status: "skipped" });
    }
    expect(w.dt.sent().map((s) => [s.conversationId, s.text])).toEqual([
      ["cidFc2==", "echo: 二代"],
      ["cidFc3==", "echo: 三代"],
    ]);
    expect(JSON.parse(await worker(Buffer.from("not json"), context) as string)).toEqual({ status: "invalid" });
  });
});

describe("FC worker: firings", () => {
  it("runs a firing job the scheduler claimed, and sends it once however often it is delivered", async () => {
    w.dt.reset();
    const at = Date.now() - 1000;
    await w.runtime.reminders.create({ owner: "fc-user", where: "dm:fc-user", to: { users: ["fc-user"] }, robotCode: w.config.dingtalk.credentials!.robotCode, text: "FC 提醒", timing: { at }, nextAt: at }, undefined);
    const jobs: FiringJob[] = [];
    await schedulerOf(w.runtime, (job) => (jobs.push(job), Promise.resolve()))(Date.now());
    const mine = jobs.filter((j) => j.firing.type === "reminder" && j.firing.owner === "fc-user");
    expect(mine).toHaveLength(1);
    const payload = Buffer.from(JSON.stringify(mine[0]));
    expect(JSON.parse((await worker(payload, context)) as string)).toEqual({ status: "sent" });
    expect(JSON.parse((await worker(payload, context)) as string)).toEqual({ status: "skipped" });
    expect(w.dt.sent().map((s) => [s.route, s.userId, s.text])).toEqual([["openapi", "fc-user", "⏰ **提醒**：FC 提醒"]]);
  });
});

describe("FC 3.0 HTTP trigger (the double in FC 3.0 mode)", () => {
  const trigger = (fn: string, path = "/") => `${fc.url}/2016-08-15/proxy/dingclaw-test/${fn}${path}`;

  it("hands the handler the documented event and maps its {statusCode, headers, isBase64Encoded, body}", async () => {
    const res = await fetch(trigger("echo", "/a%20b?x=1&x=2"), {
      method: "POST",
      headers: { "content-type": "application/json", "x-custom": "v" },
      body: '{"hello":"世界"}',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-seen")).toBe("yes");
    const { isBuffer, event } = (await res.json()) as { isBuffer: boolean; event: Record<string, unknown> };
    expect(isBuffer).toBe(true);
    expect(event).toMatchObject({
      version: "v1",
      rawPath: "/a%20b",
      body: '{"hello":"世界"}',
      isBase64Encoded: false,
      headers: { "content-type": "application/json", "x-custom": "v" },
      queryParameters: { x: "1,2" },
      requestContext: {
        accountId: "1234567890",
        domainName: "echo-dingclaw-test.cn-hangzhou.fcapp.run",
        http: { method: "POST", path: "/a b", protocol: "HTTP/1.1", sourceIp: "127.0.0.1" },
        requestId: res.headers.get("x-fc-request-id"),
      },
    });
    const binary = await fetch(trigger("echo"), { method: "POST", headers: { "content-type": "application/octet-stream" }, body: Buffer.from([0xff, 0x00]) });
    expect(((await binary.json()) as { event: { body: string; isBase64Encoded: boolean } }).event).toMatchObject({ body: "/wA=", isBase64Encoded: true });
  });

  it("serves DingTalk with the deployed callback bundle: verified, claimed and the worker invoked", async () => {
    w.dt.reset();
    const before = fc.asyncInvocations.length;
    const body = JSON.stringify(w.message({ text: "三代触发器", conversationId: "cidFc3Trigger==" }));
    const ok = await fetch(trigger("callback"), { method: "POST", headers: { ...signedHeaders(CLIENT_SECRET), "content-type": "application/json" }, body });
    expect(ok.status).toBe(200);
    const forged = await fetch(trigger("callback"), { method: "POST", headers: { ...signedHeaders("wrong-secret-000"), "content-type": "application/json" }, body });
    expect(forged.status).toBe(401);
    await fc.idle();
    const jobs = fc.asyncInvocations.slice(before);
    expect(jobs).toHaveLength(1);
    expect(JSON.parse(await worker(Buffer.from(jobs[0]!.payload), context) as string)).toEqual({ status: "done" });
    expect(w.dt.sent().map((s) => [s.conversationId, s.text])).toEqual([["cidFc3Trigger==", "echo: 三代触发器"]]);
  });

  it("resolves the result it also gives FC's callback", async () => {
    const event = Buffer.from(JSON.stringify({ version: "v1", rawPath: "/", headers: {}, body: "", isBase64Encoded: false, requestContext: { http: { method: "GET" } } }));
    let viaCallback: unknown;
    const resolved = await callback(event, context, (_err: unknown, value: unknown) => (viaCallback = value));
    expect(resolved).toEqual(viaCallback);
    expect(resolved).toMatchObject({ statusCode: 405 });
  });
});
