// End to end: the real osls CLI (`serverless deploy | info | invoke | remove`, as child processes)
// with our provider plugin against the FC API double (functions run from their deployed zips in
// plain `node` child processes), the RAM double and a dynalite table; then a signed DingTalk message
// through the HTTP trigger gets its reply at the DingTalk double. Also: redeploy updates in place,
// remove leaves nothing, wrong credentials fail with one clear line. And the same with Tablestore:
// the functions reach the Tablestore double with the role's temporary credentials, allowed only by
// the policy deploy wrote (the double asks the RAM double).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ListTablesCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDynalite, type EmbeddedServer } from "../../functions/core/store/embedded.js";
import { startDingTalkDouble, type DingTalkDouble } from "../doubles/dingtalk/index.js";
import { startFcDouble, type FcDouble } from "../doubles/fc/index.js";
import { startLlmDouble, type LlmDouble } from "../doubles/llm/server.js";
import { roleAllows, startRamDouble, type RamDouble } from "../doubles/ram/index.js";
import { startTablestoreDouble, type TablestoreDouble } from "../doubles/tablestore/index.js";
import { callbackBody, signedHeaders } from "../helpers/messages.js";
import { eventually } from "../helpers/processes.js";
import { serverless } from "../helpers/serverless-cli.js";

const ACCOUNT = "1234567890123456";
const ACCESS_KEY_ID = "LTAI5tDeployKey0001";
const ACCESS_KEY_SECRET = "deploy-secret-0001-abcdefghij";
const CLIENT_ID = "dingdeploytest";
const CLIENT_SECRET = "deploy-test-client-secret-0001";
const LLM_KEY = "sk-deploy-llm-key-0001";
const SERVICE = "dingclaw-e2e";

/** What FC hands the functions of a service with a role (context.credentials). */
const ROLE = { accessKeyId: "STS.E2eRoleKey0001", accessKeySecret: "e2e-role-secret-0001", securityToken: "e2e-role-token-0001" };

let fcd: FcDouble;
let ots: TablestoreDouble;
let ram: RamDouble;
let table: EmbeddedServer;
let dt: DingTalkDouble;
let llm: LlmDouble;
let work: string;
let url = "";


function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: work,
    ALIBABA_CLOUD_ACCOUNT_ID: ACCOUNT,
    ALIBABA_CLOUD_ACCESS_KEY_ID: ACCESS_KEY_ID,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
    ALIBABA_CLOUD_FC_ENDPOINT: fcd.url,
    ALIBABA_CLOUD_RAM_ENDPOINT: ram.url,
    DINGCLAW_CONFIG: path.join(work, "config.json"),
    DINGCLAW_TABLE_ENDPOINT: table.endpoint,
    DINGTALK_API_BASE: dt.url,
    DINGTALK_OAPI_BASE: dt.url,
    ...extra,
  };
}


function service() {
  return fcd.state.services.get(SERVICE);
}

async function sendMessage(text: string): Promise<void> {
  const conversationId = `cid${text}==`;
  const hook = dt.sessionWebhookFor({ conversationId, conversationType: "direct", staffId: "staff001", robotCode: CLIENT_ID });
  const body = callbackBody({ text, robotCode: CLIENT_ID, conversationId, sessionWebhook: hook.url, sessionWebhookExpiredTime: hook.expiresAt });
  const res = await fetch(url, { method: "POST", headers: signedHeaders(CLIENT_SECRET), body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  await eventually(() => dt.sent().some((m) => m.conversationId === conversationId), 20_000, `the reply to "${text}"`);
  expect(dt.sent().find((m) => m.conversationId === conversationId)?.text).toBe(`echo: ${text}`);
}

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  work = await mkdtemp(path.join(tmpdir(), "dingclaw-deploy-e2e-"));
  [fcd, ram, table, dt, llm] = await Promise.all([
    startFcDouble({
      accountId: ACCOUNT,
      region: "cn-hangzhou",
      accessKeys: { [ACCESS_KEY_ID]: ACCESS_KEY_SECRET },
      runMode: "child-process",
      roleCredentials: ROLE,
    }),
    startRamDouble({ accountId: ACCOUNT, accessKeys: { [ACCESS_KEY_ID]: ACCESS_KEY_SECRET } }),
    startDynalite(),
    startDingTalkDouble({ apps: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }] }),
    startLlmDouble({ keys: [LLM_KEY] }),
  ]);
  const config = {
    agents: { defaults: { model_name: "glm" } },
    model_list: [{ model_name: "glm", model: "zhipu/glm-4.7", api_key: LLM_KEY, api_base: llm.url }],
    channels: { dingtalk: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET }, telegram: { token: "unrelated-channel-token" } },
    schedules: [{ name: "e2e-every-minute", cron: "* * * * *", to: { group: "cidE2eSchedule==" }, text: "每分钟的提醒" }],
  };
  await writeFile(path.join(work, "config.json"), JSON.stringify(config, null, 2));
  ots = await startTablestoreDouble({
    instance: "dingclaw-e2e",
    accountId: ACCOUNT,
    accessKeys: { [ACCESS_KEY_ID]: ACCESS_KEY_SECRET, [ROLE.accessKeyId]: { secret: ROLE.accessKeySecret, securityToken: ROLE.securityToken } },
    // The deploy key may do anything; the functions' role only what the deployed policy allows.
    authorize: (key, action, resource) => key === ACCESS_KEY_ID || roleAllows(ram.state, "dingclaw-ots-fc", action, resource),
  });
});

afterAll(async () => {
  await Promise.allSettled([fcd?.close(), ram?.close(), table?.close(), dt?.close(), llm?.close(), ots?.close()]);
  if (work) await rm(work, { recursive: true, force: true });
});

describe("serverless deploy to Alibaba FC (doubles)", () => {
  it("deploy provisions role, table, service, functions, trigger and async config, and prints the callback URL", async () => {
    const r = await serverless(["deploy", "--stage", "e2e", "--region", "cn-hangzhou"], cliEnv());
    expect(r.code, r.stdout + r.stderr).toBe(0);
    url = `${fcd.url}/2016-08-15/proxy/${SERVICE}/callback/`;
    expect(r.stdout).toContain(url);
    expect(r.stderr).toMatch(/function worker created/);
    expect(r.stderr).toMatch(/HTTP trigger http created/);
    expect(r.stderr).toMatch(/function notify created/);
    expect(r.stderr).toMatch(/timer trigger every-minute created \(@every 1m, UTC\)/);

    const svc = service();
    expect(svc?.fields.role).toMatch(/^acs:ram::1234567890123456:role\//);
    const role = ram.state.roles.get(`${SERVICE}-fc`);
    expect(role?.Arn).toBe(svc?.fields.role);
    expect(JSON.parse(role!.AssumeRolePolicyDocument)).toMatchObject({ Statement: [{ Principal: { Service: ["fc.aliyuncs.com"] } }] });
    const policy = ram.state.policies.get(`${SERVICE}-fc-policy`);
    const doc = JSON.parse(policy!.versions.get(policy!.DefaultVersion)!.PolicyDocument) as { Statement: { Action: string[]; Resource: string[] }[] };
    expect(doc.Statement).toEqual([
      expect.objectContaining({ Action: ["fc:InvokeFunction"], Resource: [expect.stringContaining(`services/${SERVICE}/functions/worker`), expect.any(String)] }),
    ]);
    expect([...ram.state.attachments]).toEqual([`${SERVICE}-fc\n${SERVICE}-fc-policy`]);

    const worker = svc!.functions.get("worker")!;
    const callback = svc!.functions.get("callback")!;
    expect(worker.fields).toMatchObject({ runtime: "nodejs20", handler: "index.handler", instanceConcurrency: 20, timeout: 300 });
    expect(callback.fields).toMatchObject({ runtime: "nodejs20", handler: "index.handler", memorySize: 256 });
    expect(worker.asyncConfigs.get("LATEST")?.fields).toEqual({ maxAsyncRetryAttempts: 3, maxAsyncEventAgeInSeconds: 3600 });
    expect([...callback.triggers.values()].map((t) => [t.name, t.type, t.fields.triggerConfig])).toEqual([
      ["http", "http", { authType: "anonymous", methods: ["POST"] }],
    ]);
    const callbackEnv = callback.fields.environmentVariables ?? {};
    expect(callbackEnv.DINGCLAW_TABLE_NAME).toBe(SERVICE);
    expect(callbackEnv.DINGCLAW_CONFIG_JSON).not.toContain(LLM_KEY);
    expect(worker.fields.environmentVariables?.DINGCLAW_CONFIG_JSON).toContain(LLM_KEY);
    for (const env of [callbackEnv, worker.fields.environmentVariables ?? {}]) {
      expect(env.DINGCLAW_CONFIG_JSON).not.toContain("unrelated-channel-token");
      expect(Object.keys(env)).not.toContain("DINGTALK_CLIENT_SECRET");
    }
    const tables = await new DynamoDBClient({ endpoint: table.endpoint, region: "local", credentials: { accessKeyId: "x", secretAccessKey: "x" } }).send(
      new ListTablesCommand({}),
    );
    expect(tables.TableNames).toContain(SERVICE);
  });

  it("a signed DingTalk message through the HTTP trigger is answered by the deployed worker", async () => {
    await sendMessage("你好");
    await fcd.idle();
    expect(fcd.asyncInvocations.map((a) => [a.functionName, a.outcome])).toEqual([["worker", "succeeded"]]);
    expect(llm.chatRequests()).toHaveLength(1);
  });

  it("a second deploy updates everything in place and the bot keeps answering", async () => {
    const before = service()!.functions.get("worker")!.lastModifiedTime;
    const r = await serverless(["deploy", "--stage", "e2e"], cliEnv({ DINGCLAW_WORKER_CONCURRENCY: "30" }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/service dingclaw-e2e updated/);
    expect(r.stderr).toMatch(/function worker updated/);
    expect(r.stderr).toMatch(/role dingclaw-e2e-fc unchanged, policy dingclaw-e2e-fc-policy unchanged/);
    expect(fcd.state.services.size).toBe(1);
    const svc = service()!;
    expect([...svc.functions.keys()].sort()).toEqual(["callback", "notify", "scheduler", "worker"]);
    expect(svc.functions.get("callback")!.triggers.size).toBe(1);
    expect(svc.functions.get("worker")!.fields.instanceConcurrency).toBe(30);
    expect(svc.functions.get("worker")!.lastModifiedTime >= before).toBe(true);
    expect(ram.state.roles.size).toBe(1);
    expect(ram.state.policies.size).toBe(1);
    await sendMessage("再来");
  });

  it("the timer trigger runs the deployed scheduler, which queues the due schedule for the worker: sent once", async () => {
    const trigger = service()!.functions.get("scheduler")!.triggers.get("every-minute")!;
    expect([trigger.type, trigger.fields.triggerConfig]).toEqual(["timer", { cronExpression: "@every 1m", enable: true, payload: "" }]);
    const posts = () => dt.sent().filter((m) => m.conversationId === "cidE2eSchedule==");
    const before = fcd.asyncInvocations.length;
    fcd.fireTimer(SERVICE, "scheduler", "every-minute");
    await eventually(() => posts().length > 0, 20_000, "the scheduled post");
    await fcd.idle();
    const runs = fcd.asyncInvocations.slice(before).map((a) => [a.functionName, a.outcome, a.result?.toString()]);
    expect(runs).toEqual([
      ["scheduler", "succeeded", expect.stringContaining('"dispatched":1')],
      ["worker", "succeeded", expect.stringContaining("sent")],
    ]);
    // Two more runs in the same minute (FC may overlap them) find the occurrence done: nothing more is sent.
    fcd.fireTimer(SERVICE, "scheduler", "every-minute");
    fcd.fireTimer(SERVICE, "scheduler", "every-minute");
    await fcd.idle();
    expect(posts()).toMatchObject([{ route: "openapi", conversationType: "group", text: expect.stringContaining("每分钟的提醒") as unknown }]);
  });

  it("info prints the service, functions and the callback URL", async () => {
    const r = await serverless(["info", "--stage", "e2e"], cliEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("timer trigger every-minute: @every 1m (UTC, enabled)");
    expect(r.stdout).toContain(url);
    expect(r.stdout).toMatch(/worker\s+nodejs20, 512 MB, 300 s, 30 per instance/);
    expect(r.stdout).toContain(`table:     ${SERVICE}`);
  });

  it("invoke runs the deployed worker and prints its result", async () => {
    const r = await serverless(["invoke", "-f", "worker", "--stage", "e2e", "--data", '{"not":"a job"}'], cliEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('{"status":"invalid"}');
  });

  it("invoke -f notify sends through the deployed notify function, once per id; a bad body fails with its reason", async () => {
    const data = JSON.stringify({ to: { group: "cidE2eNotify==" }, markdown: "**部署完成** v1.2", title: "CI", id: "e2e-release-1.2" });
    const r = await serverless(["invoke", "-f", "notify", "--stage", "e2e", "--data", data], cliEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split("\n").at(-1)!)).toMatchObject({ ok: true, id: "e2e-release-1.2", sent: { group: "cidE2eNotify==" } });
    const again = await serverless(["invoke", "-f", "notify", "--stage", "e2e", "--data", data], cliEnv());
    expect(again.stdout).toContain('"duplicate":true');
    expect(dt.sent().filter((m) => m.conversationId === "cidE2eNotify==")).toMatchObject([{ route: "openapi", msgtype: "markdown", title: "CI", text: "**部署完成** v1.2" }]);
    const bad = await serverless(["invoke", "-f", "notify", "--stage", "e2e", "--data", '{"to":{"group":"cidE2eNotify=="}}'], cliEnv());
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/function notify failed .*bad notification: text: needs either "text" or "markdown"/);
    expect(bad.stdout + bad.stderr).not.toMatch(/^\s+at /m);
  });

  it("wrong or missing credentials fail with one clear line, no stack trace and no secret", async () => {
    const wrong = "wrong-secret-value-000111";
    const missingEnv = cliEnv();
    delete missingEnv.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
    const [r, missing] = await Promise.all([
      serverless(["deploy", "--stage", "e2e"], cliEnv({ ALIBABA_CLOUD_ACCESS_KEY_SECRET: wrong })),
      serverless(["deploy", "--stage", "e2e"], missingEnv),
    ]);
    expect(missing.code).not.toBe(0);
    expect((missing.stdout + missing.stderr).split("\n").filter((l) => /credentials missing/.test(l))).toEqual([
      expect.stringMatching(/^Alibaba Cloud credentials missing: set ALIBABA_CLOUD_ACCESS_KEY_SECRET \(/),
    ]);
    expect(missing.stderr).not.toMatch(/bundle|^\s+at /m);
    expect(r.code).not.toBe(0);
    const output = r.stdout + r.stderr;
    const errorLines = output.split("\n").filter((l) => /rejected the credentials/.test(l));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/ALIBABA_CLOUD_ACCESS_KEY_SECRET/);
    expect(output).not.toMatch(/^\s+at /m);
    expect(output).not.toContain(wrong);
    expect(output).not.toContain(CLIENT_SECRET);
  });

  it("remove deletes the service, the role and the table it created", async () => {
    const r = await serverless(["remove", "--stage", "e2e"], cliEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(fcd.state.services.size).toBe(0);
    expect(ram.state.roles.size).toBe(0);
    expect(ram.state.policies.size).toBe(0);
    const tables = await new DynamoDBClient({ endpoint: table.endpoint, region: "local", credentials: { accessKeyId: "x", secretAccessKey: "x" } }).send(
      new ListTablesCommand({}),
    );
    expect(tables.TableNames ?? []).not.toContain(SERVICE);
  });
});

describe("serverless deploy with Tablestore (doubles)", () => {
  const OTS_SERVICE = "dingclaw-ots";
  const otsEnv = () => cliEnv({ DINGCLAW_TABLE_KIND: "tablestore", DINGCLAW_TABLE_ENDPOINT: ots.url, DINGCLAW_TABLE_INSTANCE: ots.instance });

  it("deploy creates the table with its TTL and grants the role exactly this table's row operations; no table key in any function", async () => {
    const r = await serverless(["deploy", "--stage", "ots"], otsEnv());
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/table dingclaw_ots created \(tablestore\)/);
    const t = ots.tables.get("dingclaw_ots");
    expect(t?.primaryKey).toEqual([{ name: "pk", type: 2 }, { name: "sk", type: 2 }]);
    expect(t!.ttlS).toBeGreaterThan(366 * 86_400);
    const policy = ram.state.policies.get(`${OTS_SERVICE}-fc-policy`)!;
    const doc = JSON.parse(policy.versions.get(policy.DefaultVersion)!.PolicyDocument) as { Statement: { Action: string[]; Resource: string[] }[] };
    expect(doc.Statement.filter((st) => st.Action.some((a) => a.startsWith("ots:")))).toEqual([
      expect.objectContaining({ Resource: [`acs:ots:cn-hangzhou:${ACCOUNT}:instance/dingclaw-e2e/table/dingclaw_ots`] }),
    ]);
    for (const fn of fcd.state.services.get(OTS_SERVICE)!.functions.values()) {
      const env = fn.fields.environmentVariables ?? {};
      expect(env).toMatchObject({ DINGCLAW_TABLE_KIND: "tablestore", DINGCLAW_TABLE_INSTANCE: "dingclaw-e2e", DINGCLAW_TABLE_NAME: "dingclaw_ots" });
      expect(Object.keys(env).filter((k) => /AWS_|ACCESS_KEY|SECRET|TOKEN/.test(k))).toEqual([]);
    }
  });

  it("chats through the deployed functions, which sign with the role's credentials", async () => {
    const before = ots.requests.length;
    url = `${fcd.url}/2016-08-15/proxy/${OTS_SERVICE}/callback/`;
    await sendMessage("表格存储");
    await fcd.idle();
    const ops = ots.requests.slice(before);
    expect(ops.map((o) => o.operation)).toEqual(expect.arrayContaining(["PutRow", "GetRow", "UpdateRow"]));
    expect(ops.filter((o) => o.error)).toEqual([]);
  });

  it("the deployed worker's table check (npm run doctor's) passes with the role", async () => {
    const r = await serverless(["invoke", "-f", "worker", "--stage", "ots", "--data", '{"check":"table"}'], otsEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/"status":"table-ok".*dingclaw_ots.*tablestore/);
  });

  it("info names the backend; remove deletes the table deploy created", async () => {
    const info = await serverless(["info", "--stage", "ots"], otsEnv());
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/table:\s+dingclaw_ots at http:\/\/127\.0\.0\.1:\d+ \(Tablestore, instance dingclaw-e2e, the functions' role\)/);
    const r = await serverless(["remove", "--stage", "ots"], otsEnv());
    expect(r.code, r.stderr).toBe(0);
    expect(ots.tables.has("dingclaw_ots")).toBe(false);
    expect(fcd.state.services.has(OTS_SERVICE)).toBe(false);
  });
});
