// The FC API double running deployed code: sync and async invocations (with retries and event
// age), HTTP triggers with FC 2.0 (req, resp, context) handlers, credentials and environment.
import FC from "@alicloud/fc2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FcDouble, startFcDouble, zipBase64 } from "../doubles/fc/index.js";

const ACCOUNT = "1234567890123456";
const REGION = "cn-shanghai";
const AK = "LTAI5tRuntimeKey";
const SK = "runtime-secret-value";
const SVC = "dingclaw";
const ROLE = { accessKeyId: "STS.roleKey", accessKeySecret: "role-secret", securityToken: "role-token" };

const CODE = {
  "event.mjs": `
export const handler = async (event, context) => JSON.stringify({
  echo: event.toString(),
  isBuffer: Buffer.isBuffer(event),
  greeting: process.env.GREETING,
  fcFunction: process.env.FC_FUNCTION_NAME,
  fcService: process.env.FC_SERVICE_NAME,
  fcRegion: process.env.FC_REGION,
  fcAccount: process.env.FC_ACCOUNT_ID,
  envKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,
  envToken: process.env.ALIBABA_CLOUD_SECURITY_TOKEN,
  requestId: context.requestId,
  credentials: context.credentials,
  fn: context.function,
  service: context.service.name,
  region: context.region,
  accountId: context.accountId,
  hasLogger: typeof context.logger.info === "function",
});
`,
  "callback.js": `
exports.handler = (event, context, callback) => {
  context.logger.info("callback handler got", event.toString());
  setTimeout(() => callback(null, Buffer.from("cb:" + event)), 1);
};
exports.object = (event, context, callback) => callback(null, { n: 1 });
exports.handledFail = (event, context, callback) => callback(new Error("told you"));
`,
  "fail.cjs": `exports.handler = async () => { throw new TypeError("boom"); };\n`,
  "flaky.mjs": `
const seen = new Map();
export const handler = async (event) => {
  const { id, failTimes } = JSON.parse(event.toString());
  const n = (seen.get(id) ?? 0) + 1;
  seen.set(id, n);
  if (n <= failTimes) throw new Error("flaky failure " + n);
  return "done after " + n;
};
`,
  "http-body.mjs": `
export const handler = (req, resp, context) => {
  resp.setStatusCode(201);
  resp.setHeader("Content-Type", "application/json");
  resp.setHeader("X-Fc-Sneaky", "dropped");
  resp.setHeader("X-Reply", "kept");
  resp.send(JSON.stringify({
    body: req.body.toString(),
    method: req.method,
    path: req.path,
    url: req.url,
    queries: req.queries,
    custom: req.headers["x-custom"],
    sawFcHeader: Object.keys(req.headers).some((k) => k.startsWith("x-fc-")),
    clientIP: req.clientIP,
    credentials: context.credentials,
    requestId: context.requestId,
  }));
};
`,
  "http-stream.cjs": `
exports.handler = (req, resp) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    resp.setHeader("content-type", "text/plain");
    resp.send(Buffer.concat(chunks).toString().toUpperCase());
  });
};
`,
  "http-async.mjs": `
import { Readable } from "node:stream";
export const handler = async (req, resp) => {
  await new Promise((r) => setTimeout(r, 1));
  resp.send(Readable.from(["streamed ", "reply"]));
};
`,
  "http-throw.mjs": `export const handler = async () => { throw new Error("kaput"); };\n`,
  "v2.mjs": `export const handler = async () => "version two";\n`,
  "init.mjs": `
let inits = 0;
export const init = (context, callback) => { inits++; callback(); };
export const handler = async () => "inits=" + inits;
export const hang = () => new Promise(() => {});
`,
};

let fc: FcDouble;
let c: FC;
let clockOffsetMs = 0;
const retryDelays: number[] = [];

async function deploy(name: string, handler: string, extra: Partial<FC.FunctionOptions> = {}): Promise<void> {
  await c.createFunction(SVC, {
    functionName: name,
    runtime: "nodejs20",
    handler,
    timeout: 5,
    code: { zipFile: zipBase64(CODE) },
    ...extra,
  });
}

async function httpTrigger(fn: string, methods: string[]): Promise<void> {
  await c.createTrigger(SVC, fn, { triggerName: "http", triggerType: "http", triggerConfig: { authType: "anonymous", methods } });
}

function recordFor(requestId: unknown) {
  const record = fc.asyncInvocations.find((r) => r.requestId === requestId);
  if (!record) throw new Error(`no async record for ${String(requestId)}`);
  return record;
}

beforeAll(async () => {
  fc = await startFcDouble({
    accountId: ACCOUNT,
    region: REGION,
    accessKeys: { [AK]: SK },
    roleCredentials: ROLE,
    now: () => Date.now() + clockOffsetMs,
    asyncRetryDelayMs: (retry) => retry * 1000,
    // Retries wait on the double's clock only: advance it instead of sleeping.
    sleep: (ms) => {
      retryDelays.push(ms);
      clockOffsetMs += ms;
      return Promise.resolve();
    },
  });
  c = new FC(ACCOUNT, { accessKeyID: AK, accessKeySecret: SK, region: REGION, endpoint: fc.url });
  await c.createService(SVC, { role: `acs:ram::${ACCOUNT}:role/dingclaw` });
  await c.createService("no-role");
  await deploy("event", "event.handler", { environmentVariables: { GREETING: "nihao" }, memorySize: 256 });
  await deploy("callback", "callback.handler");
  await deploy("object", "callback.object");
  await deploy("handled", "callback.handledFail");
  await deploy("fail", "fail.handler");
  await deploy("flaky", "flaky.handler");
  await deploy("http-body", "http-body.handler");
  await deploy("http-stream", "http-stream.handler");
  await deploy("http-async", "http-async.handler");
  await deploy("http-throw", "http-throw.handler");
  await deploy("init", "init.handler", { initializer: "init.init" });
  await deploy("hang", "init.hang", { timeout: 1 });
  await httpTrigger("http-body", ["POST", "PUT"]);
  await httpTrigger("http-stream", ["POST"]);
  await httpTrigger("http-async", ["GET"]);
  await httpTrigger("http-throw", ["GET"]);
  await c.createFunction("no-role", { functionName: "event", runtime: "nodejs20", handler: "event.handler", code: { zipFile: zipBase64(CODE) } });
});

afterAll(async () => {
  await fc.close();
});

describe("sync invocation", () => {
  it("returns an async handler's value with FC's context, credentials and environment", async () => {
    const res = await c.invokeFunction<string>(SVC, "event", "hello");
    expect(res.headers["x-fc-error-type"]).toBeUndefined();
    expect(res.headers["content-type"]).toBe("application/octet-stream");
    const out = JSON.parse(res.data) as Record<string, unknown>;
    expect(out).toMatchObject({
      echo: "hello",
      isBuffer: true,
      greeting: "nihao",
      fcFunction: "event",
      fcService: SVC,
      fcRegion: REGION,
      fcAccount: ACCOUNT,
      envKeyId: ROLE.accessKeyId,
      envToken: ROLE.securityToken,
      requestId: res.headers["x-fc-request-id"],
      credentials: ROLE,
      fn: { name: "event", handler: "event.handler", memory: 256, timeout: 5 },
      service: SVC,
      region: REGION,
      accountId: ACCOUNT,
      hasLogger: true,
    });
    expect(process.env.GREETING).toBeUndefined();
    expect(process.env.FC_FUNCTION_NAME).toBeUndefined();
  });

  it("gives no role credentials to functions of a service without a role", async () => {
    const out = JSON.parse((await c.invokeFunction<string>("no-role", "event", "x")).data) as Record<string, unknown>;
    expect(out.credentials).toEqual({});
    expect(out.envKeyId).toBeUndefined();
  });

  it("supports callback-style handlers, object results and log tails", async () => {
    const res = await c.invokeFunction<string>(SVC, "callback", "hi", { "x-fc-log-type": "Tail" });
    expect(res.data).toBe("cb:hi");
    const tail = Buffer.from(String(res.headers["x-fc-log-result"]), "base64").toString();
    expect(tail).toContain("callback handler got hi");
    expect((await c.invokeFunction<string>(SVC, "object", "")).data).toBe('{"n":1}');
    expect(fc.functionLogs.some((l) => l.function === "callback" && l.line.includes("callback handler got hi"))).toBe(true);
  });

  it("reports a thrown error as a 200 with x-fc-error-type UnhandledInvocationError", async () => {
    const res = await c.invokeFunction<{ errorMessage: string; errorType: string }>(SVC, "fail", "x");
    expect(res.headers["x-fc-error-type"]).toBe("UnhandledInvocationError");
    expect(res.data).toMatchObject({ errorMessage: "boom", errorType: "TypeError" });
    const handled = await c.invokeFunction<{ errorMessage: string }>(SVC, "handled", "x");
    expect(handled.headers["x-fc-error-type"]).toBe("HandledInvocationError");
    expect(handled.data.errorMessage).toBe("told you");
  });

  it("runs the new code after updateFunction", async () => {
    await c.createFunction(SVC, { functionName: "versioned", runtime: "nodejs20", handler: "event.handler", code: { zipFile: zipBase64(CODE) } });
    expect((await c.invokeFunction<string>(SVC, "versioned", "a")).data).toContain('"echo":"a"');
    await c.updateFunction(SVC, "versioned", { handler: "v2.handler", code: { zipFile: zipBase64({ "v2.mjs": CODE["v2.mjs"] }) } });
    expect((await c.invokeFunction<string>(SVC, "versioned", "a")).data).toBe("version two");
  });

  it("runs the initializer once per instance before the first call", async () => {
    expect((await c.invokeFunction<string>(SVC, "init", "")).data).toBe("inits=1");
    expect((await c.invokeFunction<string>(SVC, "init", "")).data).toBe("inits=1");
  });

  it("ends a handler that never settles at the function's timeout", async () => {
    const res = await c.invokeFunction<{ errorMessage: string }>(SVC, "hang", "");
    expect(res.headers["x-fc-error-type"]).toBe("UnhandledInvocationError");
    expect(res.data.errorMessage).toBe("Function timed out after 1 seconds");
  });

  it("answers an unknown function with FunctionNotFound", async () => {
    await expect(c.invokeFunction(SVC, "missing", "x")).rejects.toMatchObject({ code: "FunctionNotFound" });
  });
});

describe("async invocation", () => {
  it("accepts with 202 and an empty body, then runs the handler in the background", async () => {
    const res = await c.invokeFunction(SVC, "callback", "bg", { "X-Fc-Invocation-Type": "Async" });
    expect(res.data).toBe("");
    const requestId = res.headers["x-fc-request-id"];
    expect(requestId).toEqual(expect.any(String));
    await fc.idle();
    expect(recordFor(requestId)).toMatchObject({ functionName: "callback", attempts: 1, outcome: "succeeded", errors: [] });
    expect(recordFor(requestId).result?.toString()).toBe("cb:bg");
  });

  it("retries a failing handler maxAsyncRetryAttempts times with backoff", async () => {
    await c.putFunctionAsyncConfig(SVC, "fail", null, { maxAsyncRetryAttempts: 2 });
    retryDelays.length = 0;
    const res = await c.invokeFunction(SVC, "fail", "x", { "x-fc-invocation-type": "async" });
    await fc.idle();
    const record = recordFor(res.headers["x-fc-request-id"]);
    expect(record).toMatchObject({ attempts: 3, outcome: "failed" });
    expect(record.errors).toEqual(Array(3).fill("UnhandledInvocationError: boom"));
    expect(retryDelays).toEqual([1000, 2000]);
  });

  it("uses FC's default of 3 retries, so a handler failing twice succeeds", async () => {
    const res = await c.invokeFunction(SVC, "flaky", JSON.stringify({ id: "a", failTimes: 2 }), { "x-fc-invocation-type": "Async" });
    const never = await c.invokeFunction(SVC, "flaky", JSON.stringify({ id: "b", failTimes: 99 }), { "x-fc-invocation-type": "Async" });
    await fc.idle();
    expect(recordFor(res.headers["x-fc-request-id"])).toMatchObject({ attempts: 3, outcome: "succeeded" });
    expect(recordFor(res.headers["x-fc-request-id"]).result?.toString()).toBe("done after 3");
    expect(recordFor(never.headers["x-fc-request-id"])).toMatchObject({ attempts: 4, outcome: "failed" });
  });

  it("drops events older than maxAsyncEventAgeInSeconds", async () => {
    await c.putFunctionAsyncConfig(SVC, "flaky", null, { maxAsyncEventAgeInSeconds: 2, maxAsyncRetryAttempts: 5 });
    const res = await c.invokeFunction(SVC, "flaky", JSON.stringify({ id: "c", failTimes: 99 }), { "x-fc-invocation-type": "Async" });
    await fc.idle();
    // t=0 run 1 fails; +1 s run 2 fails; +2 s → age 3 s > 2 s: dropped.
    expect(recordFor(res.headers["x-fc-request-id"])).toMatchObject({ attempts: 2, outcome: "expired" });
  });

  it("rejects an async payload over 128 KB", async () => {
    await expect(
      c.invokeFunction(SVC, "callback", Buffer.alloc(128 * 1024 + 1), { "x-fc-invocation-type": "Async" }),
    ).rejects.toMatchObject({ code: "EntityTooLarge" });
  });
});

describe("HTTP trigger", () => {
  const base = () => `${fc.url}/2016-08-15/proxy/${SVC}`;

  it("runs a (req, resp, context) handler that reads req.body, without a signature when anonymous", async () => {
    const res = await fetch(`${base()}/http-body/some/path?x=1&x=2&y=3`, {
      method: "POST",
      headers: { "x-custom": "v", "x-fc-forged": "no", "content-type": "text/plain" },
      body: "hello body",
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-reply")).toBe("kept");
    expect(res.headers.get("x-fc-sneaky")).toBeNull();
    expect(res.headers.get("content-disposition")).toBe("attachment");
    const requestId = res.headers.get("x-fc-request-id");
    expect(await res.json()).toEqual({
      body: "hello body",
      method: "POST",
      path: "/some/path",
      url: `/2016-08-15/proxy/${SVC}/http-body/some/path?x=1&x=2&y=3`,
      queries: { x: ["1", "2"], y: "3" },
      custom: "v",
      sawFcHeader: false,
      clientIP: "127.0.0.1",
      credentials: ROLE,
      requestId,
    });
  });

  it("runs a handler that reads the request stream", async () => {
    const res = await fetch(`${base()}/http-stream/`, { method: "POST", body: "shout" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("SHOUT");
  });

  it("runs an async handler that sends a Readable", async () => {
    const res = await fetch(`${base()}/http-async`);
    expect(await res.text()).toBe("streamed reply");
  });

  it("answers a handler error with 502 and FC's error header", async () => {
    const res = await fetch(`${base()}/http-throw/`);
    expect(res.status).toBe(502);
    expect(res.headers.get("x-fc-error-type")).toBe("UnhandledInvocationError");
    expect(await res.json()).toMatchObject({ errorMessage: "kaput" });
  });

  it("refuses methods the trigger does not allow and functions without a trigger", async () => {
    const wrong = await fetch(`${base()}/http-stream/`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("x-fc-request-id")).toEqual(expect.any(String));
    const none = await fetch(`${base()}/event/`);
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ ErrorCode: "TriggerNotFound" });
  });
});
