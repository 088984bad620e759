// The provider's serverless.yml schema, as the framework itself checks it: osls's own config-schema
// handler (strict Ajv, type coercion) with the schema our plugin registers. Values from `${env:X, ''}`
// (blank or numeric strings) pass; typos and wrong types are reported before anything runs.
import { createRequire } from "node:module";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AliyunProvider } from "../../infra/plugin.js";

interface SchemaHandler {
  defineProvider(name: string, schema: object): void;
  validateConfig(config: object): Promise<void>;
}
const require = createRequire(import.meta.url);
const ConfigSchemaHandler = require("osls/lib/classes/config-schema-handler/index.js") as new (serverless: object) => SchemaHandler;

let cacheDir: string;
beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(tmpdir(), "dingclaw-schema-"));
  process.env.SLS_SCHEMA_CACHE_BASE_DIR = cacheDir;
});
afterAll(async () => {
  delete process.env.SLS_SCHEMA_CACHE_BASE_DIR;
  await rm(cacheDir, { recursive: true, force: true });
});

/** serverless.yml as the framework hands it over after resolving `${env:X, ''}` with nothing set. */
function resolvedService(over: { provider?: Record<string, unknown>; worker?: Record<string, unknown> } = {}) {
  return {
    service: "dingclaw",
    frameworkVersion: "4",
    plugins: ["./infra/serverless-plugin.cjs"],
    provider: {
      name: "aliyun",
      runtime: "nodejs20",
      region: "cn-hangzhou",
      stage: "dev",
      role: "",
      logConfig: { project: "", logstore: "" },
      config: "./config.json",
      configJson: "",
      table: { endpoint: "", name: "", region: "", accessKeyId: "", secretAccessKey: "", retain: "false", manage: "" },
      environment: { DINGTALK_CLIENT_ID: "", LOG_LEVEL: "" },
      ...over.provider,
    },
    functions: {
      callback: {
        handler: "index.handler",
        entry: "functions/callback.ts",
        memorySize: 256,
        timeout: 30,
        instanceConcurrency: 20,
        environment: { ALIBABA_CLOUD_FC_ENDPOINT: "" },
        events: [{ http: { authType: "anonymous", methods: ["POST"] } }],
      },
      worker: {
        handler: "index.handler",
        entry: "functions/worker.ts",
        memorySize: 512,
        timeout: 300,
        instanceConcurrency: "20",
        async: { maxAsyncRetryAttempts: 3, maxAsyncEventAgeInSeconds: 3600 },
        ...over.worker,
      },
    },
  };
}

/** The framework's validation of `config` with our provider registered; resolves to the error message, if any. */
async function validate(config: ReturnType<typeof resolvedService>): Promise<string | undefined> {
  const serverless = {
    serviceDir: process.cwd(),
    service: { service: config.service, provider: { name: "aliyun" }, functions: {}, configValidationMode: "error" },
    configurationInput: config,
    processedInput: { commands: ["print"] },
    classes: { Error },
    setProvider: () => {},
  };
  const handler = new ConfigSchemaHandler(serverless);
  new AliyunProvider({ ...serverless, configSchemaHandler: handler }, {});
  try {
    await handler.validateConfig(config);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

describe("provider schema (generated from infra/settings.ts)", () => {
  it("accepts serverless.yml as shipped, with every ${env:X, ''} blank and numbers as strings", async () => {
    expect(await validate(resolvedService())).toBeUndefined();
    expect(await validate(resolvedService({ worker: { memorySize: " ", timeout: "" }, provider: { internetAccess: "" } }))).toBeUndefined();
  });

  it("reports a misspelled key, naming where", async () => {
    const msg = await validate(resolvedService({ provider: { table: { endpiont: "http://127.0.0.1:8000" } } }));
    expect(msg).toMatch(/provider\.table/);
    expect(msg).toMatch(/endpiont/);
  });

  it("reports wrong types and values", async () => {
    expect(await validate(resolvedService({ worker: { memorySize: "lots" } }))).toMatch(/memorySize/);
    expect(await validate(resolvedService({ provider: { runtime: "python3" } }))).toMatch(/runtime/);
    expect(await validate(resolvedService({ provider: { environment: { "BAD-NAME": "x" } } }))).toMatch(/environment/);
  });
});
