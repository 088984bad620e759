// serverless.yml → DeploySettings, the deploy credentials, and each function's environment: defaults,
// CLI overrides, empty `${env:X, ''}` values, clear one-line errors, FC's 4 KB environment limit.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCredentials } from "../../infra/credentials.js";
import { DeployError } from "../../infra/errors.js";
import { compactConfig, FC_ENV_LIMIT_BYTES, functionEnvironment, readBotConfig } from "../../infra/function-env.js";
import { parseSettings, type ServiceInput } from "../../infra/settings.js";

function input(over: { provider?: Record<string, unknown>; functions?: Record<string, unknown> } = {}): ServiceInput {
  return {
    service: "dingclaw",
    provider: { name: "aliyun", ...over.provider },
    functions: {
      callback: { handler: "index.handler", events: [{ http: { authType: "anonymous", methods: ["POST"] } }] },
      worker: { handler: "index.handler" },
      ...over.functions,
    },
  };
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DeployError);
    return (err as Error).message;
  }
  throw new Error("expected a DeployError");
}

describe("parseSettings: notify and the scheduler's timer trigger", () => {
  it("both are optional; notify takes no events, the scheduler exactly one timer (default every minute, enabled)", () => {
    const none = parseSettings(input(), {});
    expect([none.functions.notify, none.functions.scheduler]).toEqual([undefined, undefined]);
    const s = parseSettings(input({ functions: { notify: {}, scheduler: { events: [{ timer: null }] } } }), {});
    expect(s.functions.notify).toMatchObject({ entry: "functions/notify.ts", timeout: 60, http: undefined, timer: undefined, async: undefined });
    expect(s.functions.scheduler).toMatchObject({ entry: "functions/scheduler.ts", timer: { name: "timer", cronExpression: "@every 1m", enable: true, payload: "" } });
    const custom = parseSettings(
      input({ functions: { scheduler: { events: [{ timer: { name: "tick", cronExpression: "0 0/5 * * * *", enable: "false", payload: "p" } }] } } }),
      {},
    );
    expect(custom.functions.scheduler?.timer).toEqual({ name: "tick", cronExpression: "0 0/5 * * * *", enable: false, payload: "p" });
  });

  it("refuses a trigger where it does not belong and a schedule FC would not take", () => {
    const timer = { timer: { cronExpression: "@every 1m" } };
    expect(errorOf(() => parseSettings(input({ functions: { notify: { events: [timer] } } }), {}))).toMatch(/functions\.notify\.events: notify has no trigger/);
    expect(errorOf(() => parseSettings(input({ functions: { scheduler: {} } }), {}))).toMatch(/functions\.scheduler\.events: needs exactly one timer event/);
    expect(errorOf(() => parseSettings(input({ functions: { worker: { events: [timer] } } }), {}))).toMatch(/functions\.worker\.events/);
    expect(errorOf(() => parseSettings(input({ functions: { callback: { events: [timer] } } }), {}))).toMatch(/exactly one http event/);
    for (const bad of ["@every 0m", "@every 30s", "*/1 * * * *", "0 99 * * * *"])
      expect(errorOf(() => parseSettings(input({ functions: { scheduler: { events: [{ timer: { cronExpression: bad } }] } } }), {}))).toMatch(
        /functions\.scheduler\.events\.0.*must be "@every <n>m"/,
      );
    expect(errorOf(() => parseSettings(input({ functions: { scheduler: { events: [{ cron: "x" }] } } }), {}))).toMatch(/functions\.scheduler\.events\.0/);
  });
});

describe("parseSettings", () => {
  it("applies dingclaw's defaults: worker waits on many LLM calls per instance, long timeout, async retries", () => {
    const s = parseSettings(input(), {});
    expect(s).toMatchObject({ stage: "dev", region: "cn-hangzhou", fcServiceName: "dingclaw-dev", runtime: "nodejs20", roleArn: undefined });
    expect(s.functions.worker).toMatchObject({ instanceConcurrency: 20, timeout: 300, memorySize: 512, http: undefined });
    expect(s.functions.worker.async).toEqual({ maxAsyncRetryAttempts: 3, maxAsyncEventAgeInSeconds: 3600 });
    expect(s.functions.worker.instanceConcurrency).toBeGreaterThanOrEqual(20);
    expect(s.functions.worker.timeout).toBeGreaterThanOrEqual(120);
    expect(s.functions.callback).toMatchObject({ entry: "functions/callback.ts", http: { name: "http", authType: "anonymous", methods: ["POST"] } });
    expect(s.table).toMatchObject({ name: "dingclaw-dev", endpoint: undefined, retain: false });
    expect(s.managedRoleName).toBe("dingclaw-dev-fc");
  });

  it("CLI --stage and --region win over serverless.yml", () => {
    const s = parseSettings(input({ provider: { region: "cn-beijing", stage: "dev" } }), { region: "cn-shanghai", stage: "prod" });
    expect([s.region, s.stage, s.fcServiceName, s.table.name]).toEqual(["cn-shanghai", "prod", "dingclaw-prod", "dingclaw-prod"]);
  });

  it("treats empty ${env:X, ''} values as unset and reads numbers given as strings", () => {
    const s = parseSettings(
      input({
        provider: {
          role: "",
          logConfig: { project: "", logstore: "" },
          table: { endpoint: "", name: "", retain: "false" },
          environment: { DINGTALK_CLIENT_ID: "", DINGCLAW_MODEL: "glm", LOG_LEVEL: null },
        },
        functions: { worker: { instanceConcurrency: "30", timeout: " " } },
      }),
      {},
    );
    expect(s.roleArn).toBeUndefined();
    expect(s.logConfig).toBeUndefined();
    expect(s.environment).toEqual({ DINGCLAW_MODEL: "glm" });
    expect(s.functions.worker.instanceConcurrency).toBe(30);
    expect(s.functions.worker.timeout).toBe(300);
  });

  it("names the field, the problem and an example", () => {
    expect(errorOf(() => parseSettings(input({ provider: { role: "dingclaw-role" } }), {}))).toMatch(
      /^serverless\.yml: provider\.role: must be a role ARN like "acs:ram::/,
    );
    expect(errorOf(() => parseSettings(input({ functions: { worker: { instanceConcurrency: 500 } } }), {}))).toMatch(
      /functions\.worker\.instanceConcurrency/,
    );
    expect(errorOf(() => parseSettings(input({ provider: { logConfig: { project: "p", logstore: "" } } }), {}))).toMatch(/both project and logstore/);
    expect(errorOf(() => parseSettings(input({ functions: { extra: {} } }), {}))).toMatch(/only "callback", "worker", "notify", "scheduler" are supported, not extra/);
    expect(errorOf(() => parseSettings(input({ functions: { callback: { events: [] } } }), {}))).toMatch(/exactly one http event/);
    expect(errorOf(() => parseSettings(input({ provider: { table: { endpiont: "http://127.0.0.1:8000" } } }), {}))).toMatch(
      /provider\.table: Unrecognized key: "endpiont"/,
    );
    expect(errorOf(() => parseSettings(input(), { stage: "Prod Stage" }))).toMatch(/stage "prod stage"/);
    expect(errorOf(() => parseSettings(input(), { region: "hangzhou" }))).toMatch(/example: "cn-hangzhou"/);
    expect(errorOf(() => parseSettings(input({ provider: { table: { endpoint: "polardb:5432" } } }), {}))).toMatch(/http\(s\) URL/);
    expect(errorOf(() => parseSettings({ ...input(), provider: { name: "aws" } }, {}))).toMatch(/provider\.name: must be "aliyun"/);
  });
});

describe("readCredentials", () => {
  const full = { ALIBABA_CLOUD_ACCOUNT_ID: "1234567890123456", ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAIkey", ALIBABA_CLOUD_ACCESS_KEY_SECRET: "top-secret-value-1" };

  it("reads the standard variables", () => {
    expect(readCredentials(full)).toEqual({ accountId: "1234567890123456", accessKeyId: "LTAIkey", accessKeySecret: "top-secret-value-1", securityToken: undefined });
  });

  it("names every missing variable in one line", () => {
    const msg = errorOf(() => readCredentials({ ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAIkey" }));
    expect(msg).toMatch(/set ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_ACCOUNT_ID/);
    expect(msg).not.toContain("\n");
  });

  it("rejects a non-numeric account id and an STS key without token, without echoing the secret", () => {
    expect(errorOf(() => readCredentials({ ...full, ALIBABA_CLOUD_ACCOUNT_ID: "my-account" }))).toMatch(/numeric/);
    const msg = errorOf(() => readCredentials({ ...full, ALIBABA_CLOUD_ACCESS_KEY_ID: "STS.temp" }));
    expect(msg).toMatch(/ALIBABA_CLOUD_SECURITY_TOKEN/);
    expect(msg).not.toContain("top-secret-value-1");
  });
});

describe("function environments", () => {
  let dir: string;
  const config = {
    agents: { defaults: { model_name: "glm", model_fallbacks: ["backup"] } },
    model_list: [
      { model_name: "glm", model: "zhipu/glm-4.7", api_key: "sk-primary-key-0001" },
      { model_name: "backup", model: "deepseek/deepseek-chat", api_key: "sk-backup-key-0002" },
    ],
    channels: { dingtalk: { client_id: "dingabc", client_secret: "dt-secret-00001" }, telegram: { token: "tg-token" } },
    tools: { web: { enabled: true } },
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "infra-env-"));
    await writeFile(path.join(dir, "config.json"), JSON.stringify(config));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const settingsWith = (extra: Record<string, unknown> = {}) =>
    parseSettings(input({ provider: { config: "config.json", table: { endpoint: "http://pc-1.polardb.aliyuncs.com:5432", accessKeyId: "ddbuser", secretAccessKey: "ddb-secret-0001" }, ...extra } }), {});

  it("Tablestore: selected by the endpoint, the instance from its host, a valid table name, and no table key in any function", () => {
    const s = parseSettings(
      input({
        provider: {
          config: "config.json",
          table: { endpoint: "https://DingClaw.cn-shanghai.ots.aliyuncs.com", accessKeyId: "ddbuser", secretAccessKey: "ddb-secret-0001" },
        },
      }),
      { stage: "prod" },
    );
    expect(s.table).toMatchObject({ kind: "tablestore", instance: "dingclaw", name: "dingclaw_prod" });
    const bot = readBotConfig(s, dir, {});
    for (const fn of ["callback", "worker"] as const) {
      const env = functionEnvironment(s, bot, fn);
      expect(env).toMatchObject({
        DINGCLAW_TABLE_KIND: "tablestore",
        DINGCLAW_TABLE_ENDPOINT: "https://DingClaw.cn-shanghai.ots.aliyuncs.com",
        DINGCLAW_TABLE_INSTANCE: "dingclaw",
        DINGCLAW_TABLE_NAME: "dingclaw_prod",
      });
      expect(Object.keys(env).filter((k) => /AWS_|ACCESS_KEY|SECRET/.test(k))).toEqual([]);
    }
    const bound = "https://vpc1-dingclaw.cn-hangzhou.vpc.ots.aliyuncs.com";
    expect(parseSettings(input({ provider: { table: { endpoint: bound, instance: "dingclaw" } } }), {}).table).toMatchObject({ kind: "tablestore", instance: "dingclaw" });
    expect(errorOf(() => parseSettings(input({ provider: { table: { endpoint: bound } } }), {}))).toMatch(/provider\.table\.instance: .*example: "dingclaw"/);
    expect(errorOf(() => parseSettings(input({ provider: { table: { kind: "tablestore", name: "my-table" } } }), {}))).toMatch(/A-Z a-z 0-9 _ for Tablestore.*dingclaw_prod/);
    expect(errorOf(() => parseSettings(input({ provider: { table: { kind: "mongodb" } } }), {}))).toMatch(/provider\.table\.kind: must be "dynamodb" or "tablestore"/);
  });

  it("gives the callback only the DingTalk section and the worker the agents, models and tools too", () => {
    const s = settingsWith();
    const bot = readBotConfig(s, dir, {});
    const callback = functionEnvironment(s, bot, "callback");
    const worker = functionEnvironment(s, bot, "worker");
    expect(JSON.parse(callback.DINGCLAW_CONFIG_JSON!)).toEqual({ channels: { dingtalk: config.channels.dingtalk } });
    expect(JSON.parse(worker.DINGCLAW_CONFIG_JSON!)).toEqual({ agents: config.agents, model_list: config.model_list, tools: config.tools, channels: { dingtalk: config.channels.dingtalk } });
    expect(worker).toMatchObject({
      DINGCLAW_TABLE_ENDPOINT: "http://pc-1.polardb.aliyuncs.com:5432",
      DINGCLAW_TABLE_NAME: "dingclaw-dev",
      AWS_ACCESS_KEY_ID: "ddbuser",
      AWS_SECRET_ACCESS_KEY: "ddb-secret-0001",
    });
    expect(compactConfig(config, "worker")).not.toMatch(/\s{2}|\n/);
  });

  it("gives the worker tools, limits, audit and schedules, the scheduler the agents and schedules, notify only DingTalk", () => {
    const raw = {
      ...config,
      tools: { reminders: { max_active: 5 } },
      limits: { user_daily_tokens: 1000 },
      audit: { include_content: false },
      schedules: [{ name: "daily", cron: "0 9 * * *", to: { group: "cid1" }, text: "早" }],
      telegram: { token: "other" },
    };
    const dingtalk = { channels: { dingtalk: config.channels.dingtalk } };
    expect(JSON.parse(compactConfig(raw, "worker"))).toEqual({ agents: raw.agents, schedules: raw.schedules, model_list: raw.model_list, tools: raw.tools, limits: raw.limits, audit: raw.audit, ...dingtalk });
    expect(JSON.parse(compactConfig(raw, "scheduler"))).toEqual({ agents: raw.agents, schedules: raw.schedules, ...dingtalk });
    expect(JSON.parse(compactConfig(raw, "notify"))).toEqual(dingtalk);
    expect(JSON.parse(compactConfig(raw, "callback"))).toEqual(dingtalk);
  });

  it("validates the config like the functions do, with environment overrides", () => {
    const s = settingsWith({ config: "missing.json" });
    expect(errorOf(() => readBotConfig(s, dir, {}))).toMatch(/missing\.json: cannot be read \(ENOENT\)/);
    const defaults = parseSettings(input({ provider: { table: { endpoint: "http://127.0.0.1:8000" } } }), {});
    const empty = path.join(dir, "no-config-here");
    expect(errorOf(() => readBotConfig(defaults, empty, {}))).toMatch(/DingTalk credentials missing/);
    expect(readBotConfig(defaults, empty, { DINGTALK_CLIENT_ID: "dingenv", DINGTALK_CLIENT_SECRET: "env-secret-001" }).config.dingtalk.credentials?.clientId).toBe("dingenv");
  });

  it("takes inline DINGCLAW_CONFIG_JSON (CI secrets) over the file", () => {
    const s = settingsWith({ configJson: JSON.stringify({ channels: { dingtalk: { client_id: "dinginline", client_secret: "inline-secret-01" } } }) });
    const bot = readBotConfig(s, dir, {});
    expect([bot.source, bot.config.dingtalk.credentials?.clientId]).toEqual(["DINGCLAW_CONFIG_JSON", "dinginline"]);
    expect(errorOf(() => readBotConfig(settingsWith({ configJson: "{oops" }), dir, {}))).toBe("DINGCLAW_CONFIG_JSON: is not valid JSON");
  });

  it("fails past FC's 4 KB limit, naming the largest variables", () => {
    const s = settingsWith({ environment: { BIG_VALUE: "x".repeat(FC_ENV_LIMIT_BYTES) } });
    const bot = readBotConfig(s, dir, {});
    const msg = errorOf(() => functionEnvironment(s, bot, "worker"));
    expect(msg).toMatch(/environment of function worker is \d+ bytes, over FC's 4096-byte limit \(largest: BIG_VALUE 4105 B/);
    expect(msg).not.toContain("sk-primary-key-0001");
  });

  it("needs a table endpoint and refuses FC's reserved names", () => {
    const noTable = parseSettings(input({ provider: { config: "config.json" } }), {});
    expect(errorOf(() => functionEnvironment(noTable, readBotConfig(noTable, dir, {}), "callback"))).toMatch(/DINGCLAW_TABLE_ENDPOINT/);
    const reserved = settingsWith({ environment: { FC_REGION: "x" } });
    expect(errorOf(() => functionEnvironment(reserved, readBotConfig(reserved, dir, {}), "callback"))).toMatch(/FC_REGION cannot be used/);
  });
});
