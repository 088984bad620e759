// The FC hosts called as FC calls them: the callback with FC 2.0 `(req, resp, context)` and FC 3.0
// event inputs behaves identically and async-invokes the worker through the FC API double with the
// role credentials; the worker handler then answers once, however often the event is delivered.
import FC from "@alicloud/fc2";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFcDouble, zipBase64, type FcDouble } from "../doubles/fc/index.js";
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
  fc = await startFcDouble({ accountId: "1234567890", region: "cn-hangzhou", accessKeys: { DEPLOYKEY: "deploy-secret" }, roleCredentials: ROLE });
  const client = new FC("1234567890", { accessKeyID: "DEPLOYKEY", accessKeySecret: "deploy-secret", region: "cn-hangzhou", endpoint: fc.url });
  await client.createService("dingclaw-test", { role: "acs:ram::1234567890:role/dingclaw" });
  await client.createFunction("dingclaw-test", {
    functionName: "worker",
    runtime: "nodejs20",
    handler: "index.handler",
    code: { zipFile: zipBase64({ "index.js": "exports.handler = async () => 'queued';" }) },
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
