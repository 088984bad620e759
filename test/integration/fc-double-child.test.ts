// The FC API double in child-process mode: each function instance is a real `node` process with
// only FC's environment, which a test can kill mid-invocation to watch the async retry finish.
import FC from "@alicloud/fc2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FcDouble, startFcDouble, zipBase64 } from "../doubles/fc/index.js";

const ACCOUNT = "1234567890123456";
const AK = "LTAI5tChildKey";
const SK = "child-secret-value";
const SVC = "svc";

const CODE = {
  "index.mjs": `
let calls = 0;
export const info = async (event, context) => JSON.stringify({
  pid: process.pid,
  calls: ++calls,
  cwd: process.cwd(),
  codePath: process.env.FC_FUNC_CODE_PATH,
  greeting: process.env.GREETING,
  keyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,
  vitest: process.env.VITEST ?? null,
  initialized: globalThis.initialized ?? false,
});
export const init = async (context) => { globalThis.initialized = context.function.name; };
export const slow = async (event, context) => {
  context.logger.info("slow started", event.toString());
  await new Promise((r) => setTimeout(r, 300));
  return "finished " + event;
};
export const web = (req, resp, context) => resp.send("pid " + process.pid + " " + req.body.toString());
`,
};

let fc: FcDouble;
let c: FC;

beforeAll(async () => {
  fc = await startFcDouble({
    accountId: ACCOUNT,
    region: "cn-hangzhou",
    accessKeys: { [AK]: SK },
    runMode: "child-process",
    asyncRetryDelayMs: () => 1,
  });
  c = new FC(ACCOUNT, { accessKeyID: AK, accessKeySecret: SK, region: "cn-hangzhou", endpoint: fc.url });
  await c.createService(SVC, { role: `acs:ram::${ACCOUNT}:role/r` });
  for (const [name, handler] of [
    ["info", "index.info"],
    ["slow", "index.slow"],
    ["web", "index.web"],
  ] as const) {
    await c.createFunction(SVC, {
      functionName: name,
      runtime: "nodejs20",
      handler,
      initializer: name === "info" ? "index.init" : undefined,
      environmentVariables: { GREETING: "hallo" },
      code: { zipFile: zipBase64(CODE) },
    });
  }
  await c.createTrigger(SVC, "web", { triggerName: "http", triggerType: "http", triggerConfig: { authType: "anonymous", methods: ["POST"] } });
});

afterAll(async () => {
  await fc.close();
});

describe("child-process runner", () => {
  it("runs a warm instance in the code dir with FC's environment only, after the initializer", async () => {
    const first = JSON.parse((await c.invokeFunction<string>(SVC, "info", "a")).data) as Record<string, unknown>;
    const second = JSON.parse((await c.invokeFunction<string>(SVC, "info", "b")).data) as Record<string, unknown>;
    expect(first.pid).not.toBe(process.pid);
    expect(second.pid).toBe(first.pid);
    expect(second.calls).toBe(2);
    expect(first).toMatchObject({
      greeting: "hallo",
      keyId: fc.roleCredentials.accessKeyId,
      vitest: null,
      initialized: "info",
    });
    expect(first.cwd).toBe(first.codePath);
  });

  it("serves HTTP triggers from a child process", async () => {
    const res = await fetch(`${fc.url}/2016-08-15/proxy/${SVC}/web/`, { method: "POST", body: "ping" });
    expect(await res.text()).toMatch(/^pid \d+ ping$/);
  });

  it("reports a killed instance to a sync caller as a crash", async () => {
    const killed = fc.killNextInvocation("slow");
    const res = await c.invokeFunction<{ errorMessage: string }>(SVC, "slow", "sync");
    await killed;
    expect(res.headers["x-fc-error-type"]).toBe("UnhandledInvocationError");
    expect(res.data.errorMessage).toMatch(/^Process exited unexpectedly before completing request/);
  });

  it("retries an async event whose instance was killed mid-message, in a fresh process", async () => {
    const killed = fc.killNextInvocation("slow", { serviceName: SVC, afterLog: "slow started job-1" });
    const res = await c.invokeFunction(SVC, "slow", "job-1", { "x-fc-invocation-type": "Async" });
    await killed;
    await fc.idle();
    const record = fc.asyncInvocations.find((r) => r.requestId === res.headers["x-fc-request-id"]);
    expect(record).toMatchObject({ attempts: 2, outcome: "succeeded" });
    expect(record?.errors).toHaveLength(1);
    expect(record?.errors[0]).toContain("Process exited unexpectedly");
    expect(record?.result?.toString()).toBe("finished job-1");
    const started = fc.functionLogs.filter((l) => l.function === "slow" && l.line.includes("slow started job-1"));
    expect(started).toHaveLength(2);
  });

  it("refuses to arm a kill for in-process functions", async () => {
    const inProcess = await startFcDouble({ accountId: ACCOUNT, region: "cn-hangzhou", accessKeys: {} });
    try {
      expect(() => inProcess.killNextInvocation("slow")).toThrow(/child-process/);
    } finally {
      await inProcess.close();
    }
  });
});
