// Config: PicoClaw examples load unchanged; each mistake gives a clear, secret-free error; env wins.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCallbackConfig } from "../../functions/core/config-base.js";
import { ConfigError, loadConfig, parseConfig } from "../../functions/core/config.js";

const seed = {
  agents: { defaults: { workspace: "~/.picoclaw/workspace", model_name: "glm-4" } },
  model_list: [{ model_name: "glm-4", model: "zhipu/glm-4.7", api_key: "zhipu-key-123456" }],
  channels: {
    dingtalk: { enabled: true, client_id: "dingxxxxxxxxxxxxxx", client_secret: "seed-secret-abcdef", allow_from: [] },
  },
};

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("loads the seed's complete example unchanged", () => {
    const cfg = parseConfig(seed);
    expect(cfg.agent.primary).toBe("glm-4");
    expect(cfg.models).toEqual([
      {
        name: "glm-4",
        provider: "zhipu",
        model: "glm-4.7",
        baseURL: "https://open.bigmodel.cn/api/paas/v4",
        apiKey: "zhipu-key-123456",
        vision: false,
        tools: true,
        allowFrom: [],
      },
    ]);
    expect(cfg.dingtalk.credentials).toEqual({
      clientId: "dingxxxxxxxxxxxxxx",
      clientSecret: "seed-secret-abcdef",
      robotCode: "dingxxxxxxxxxxxxxx",
    });
    expect(cfg.dingtalk.mode).toBe("stream");
    expect(cfg.dingtalk.apiBase).toBe("https://api.dingtalk.com");
    expect(cfg.raw.agents.defaults.workspace).toBe("~/.picoclaw/workspace");
    expect(cfg.warnings).toEqual([]);
  });

  it("loads a multi-provider list with fallbacks and same-name endpoints", () => {
    const cfg = parseConfig({
      agents: { defaults: { model: "qwen", model_fallbacks: ["deepseek", "glm"], system_prompt: "你是助手", max_tokens: 512, temperature: 0.3 } },
      model_list: [
        { model_name: "glm", model: "zhipu/glm-4-flash", api_key: "k-zhipu-1" },
        { model_name: "qwen", model: "qwen/qwen-plus", api_key: "k-qwen-1" },
        { model_name: "qwen", model: "qwen/qwen-plus", api_key: "k-qwen-2", api_base: "https://proxy.example.com/v1/" },
        { model_name: "deepseek", model: "deepseek/deepseek-chat", api_key: "k-deepseek" },
      ],
      channels: { dingtalk: { client_id: "dingabc", client_secret: "s3cret-value", mode: "http", allow_from: ["u1", 42] } },
      gateway: { host: "0.0.0.0" },
    });
    expect(cfg.agent).toMatchObject({ primary: "qwen", fallbacks: ["deepseek", "glm"], systemPrompt: "你是助手", maxTokens: 512 });
    expect(cfg.models.map((m) => [m.name, m.baseURL])).toEqual([
      ["glm", "https://open.bigmodel.cn/api/paas/v4"],
      ["qwen", "https://dashscope.aliyuncs.com/compatible-mode/v1"],
      ["qwen", "https://proxy.example.com/v1"],
      ["deepseek", "https://api.deepseek.com"],
    ]);
    expect(cfg.dingtalk.allowFrom).toEqual(["u1", "42"]);
    expect(cfg.dingtalk.mode).toBe("http");
  });

  it("rejects a missing client_secret, naming the field and an example", () => {
    const err = errorOf(() => parseConfig({ ...seed, channels: { dingtalk: { client_id: "dingxxxxxxxxxxxxxx" } } }));
    expect(err.message).toMatch(/channels\.dingtalk\.client_secret: is missing/);
    expect(err.message).toMatch(/example:/);
  });

  it("rejects a model without a slash", () => {
    const err = errorOf(() =>
      parseConfig({ ...seed, model_list: [{ model_name: "glm-4", model: "glm-4.7", api_key: "zhipu-key-123456" }] }),
    );
    expect(err.message).toMatch(/model_list\[0\]\.model: must be "provider\/model-id".*example: "zhipu\/glm-4.7"/);
  });

  it("rejects a fallback that names no entry, listing the choices", () => {
    const err = errorOf(() =>
      parseConfig({ ...seed, agents: { defaults: { model_name: "glm-4", model_fallbacks: ["gpt-9"] } } }),
    );
    expect(err.message).toMatch(/agents\.defaults\.model_fallbacks\[0\]: "gpt-9" names no model_list entry \(choices: glm-4\)/);
  });

  it("requires api_base for an unknown provider in use, and only warns when unused", () => {
    const used = errorOf(() =>
      parseConfig({ model_list: [{ model_name: "x", model: "acme/x-1", api_key: "acme-key-1" }] }),
    );
    expect(used.message).toMatch(/model_list\[0\]\.api_base: unknown provider "acme" needs api_base/);
    const cfg = parseConfig({
      model_list: [
        { model_name: "glm-4", model: "zhipu/glm-4.7", api_key: "k-zhipu-1" },
        { model_name: "gemini", model: "antigravity/gemini-2.0-flash", auth_method: "oauth" },
      ],
    });
    expect(cfg.models.map((m) => m.name)).toEqual(["glm-4"]);
    expect(cfg.warnings[0]).toMatch(/"gemini".*unknown provider "antigravity"/);
  });

  it("never echoes a secret in an error", () => {
    const err = errorOf(() =>
      parseConfig({ model_list: [{ model_name: "x", model: "noslash", api_key: "sk-very-secret-key" }], channels: { dingtalk: { client_id: 7, client_secret: "top-secret-xyz" } } }),
    );
    expect(err.message).not.toContain("sk-very-secret-key");
    expect(err.message).not.toContain("top-secret-xyz");
    expect(err.problems.length).toBeGreaterThanOrEqual(2);
  });

  it("lets environment overrides win", () => {
    const cfg = parseConfig(seed, {
      DINGTALK_CLIENT_ID: "dingfromenv",
      DINGTALK_CLIENT_SECRET: "secret-from-env",
      DINGTALK_API_BASE: "http://127.0.0.1:1234/",
      DINGTALK_OAPI_BASE: "http://127.0.0.1:1235",
      DINGCLAW_TABLE_ENDPOINT: "http://127.0.0.1:8000",
      DINGCLAW_TABLE_NAME: "tbl",
      DINGCLAW_DATA_DIR: "/tmp/d",
    });
    expect(cfg.dingtalk.credentials).toMatchObject({ clientId: "dingfromenv", clientSecret: "secret-from-env" });
    expect(cfg.dingtalk.apiBase).toBe("http://127.0.0.1:1234");
    expect(cfg.dingtalk.oapiBase).toBe("http://127.0.0.1:1235");
    expect(cfg.table).toMatchObject({ endpoint: "http://127.0.0.1:8000", name: "tbl", dataDir: "/tmp/d" });
  });

  it("reads the file named by DINGCLAW_CONFIG, inline JSON, and starts with defaults when there is none", () => {
    const dir = mkdtempSync(join(tmpdir(), "dingclaw-cfg-"));
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify(seed));
    const nowhere = mkdtempSync(join(tmpdir(), "dingclaw-empty-"));
    expect(loadConfig({ DINGCLAW_CONFIG: file }).agent.primary).toBe("glm-4");
    expect(loadConfig({ DINGCLAW_CONFIG_JSON: JSON.stringify(seed) }).models).toHaveLength(1);
    const cwd = process.cwd();
    process.chdir(nowhere);
    const empty = loadConfig({});
    process.chdir(cwd);
    expect(empty.dingtalk.credentials).toBeUndefined();
    expect(empty.models).toEqual([]);
    expect(empty.missingFile).toBe("./config.json");
    expect(loadConfig({ DINGCLAW_CONFIG: file }).missingFile).toBeUndefined();
    expect(() => loadConfig({ DINGCLAW_CONFIG: join(dir, "missing.json") })).toThrow(/cannot be read/);
    writeFileSync(file, '{"model_list": [ {"api_key": "sk-leak-123456" ');
    const bad = errorOf(() => loadConfig({ DINGCLAW_CONFIG: file }));
    expect(bad.message).toMatch(/is not valid JSON/);
    expect(bad.message).not.toContain("sk-leak-123456");
  });

  it("reads admins and the time zone, and rejects a zone that does not exist", () => {
    const cfg = parseConfig({ ...seed, channels: { dingtalk: { ...seed.channels.dingtalk, admins: ["boss", 7] } } });
    expect(cfg.dingtalk.admins).toEqual(["boss", "7"]);
    expect(cfg.agent.timezone).toBe("Asia/Shanghai");
    expect(parseConfig({ agents: { defaults: { timezone: "Europe/Berlin" } } }).agent.timezone).toBe("Europe/Berlin");
    expect(errorOf(() => parseConfig({ agents: { defaults: { timezone: "Beijing" } } })).message).toContain(
      'agents.defaults.timezone: must be an IANA time zone name (example: "Asia/Shanghai")',
    );
  });

  it("reads audit.include_content (default false) and rejects a value that is not a boolean", () => {
    expect(parseConfig(seed).audit).toEqual({ includeContent: false });
    expect(parseConfig({ ...seed, audit: { include_content: true } }).audit).toEqual({ includeContent: true });
    expect(errorOf(() => parseConfig({ audit: { include_content: "yes" } })).message).toContain("audit.include_content:");
    expect(errorOf(() => parseConfig({ audit: { include_content: "yes" } })).message).toContain("(example: false)");
  });

  it("says \"did you mean\" for another bot's spelling of a key, and ignores other unknown keys", () => {
    const cfg = parseConfig({
      agents: { defaults: { modelName: "glm-4", maxTokens: 100, workspace: "~/w" } },
      models: { providers: {} },
      model_list: [{ model_name: "glm-4", model: "zhipu/glm-4.7", apiKey: "k-123456", baseUrl: "https://x.example.com" }],
      channels: {
        dingtalk: { clientId: "dingopenclaw", clientSecret: "s-123456", dmPolicy: "open", requireMention: true, enableAICard: true, custom: 1 },
        feishu: { appId: "x" },
      },
    });
    expect(cfg.hints).toEqual([
      "models is not a dingclaw setting (ignored): did you mean `model_list`? (a list of { \"model_name\", \"model\": \"provider/model-id\", \"api_key\" })",
      "agents.defaults.modelName is not a dingclaw setting (ignored): did you mean `model_name`?",
      "agents.defaults.maxTokens is not a dingclaw setting (ignored): did you mean `max_tokens`?",
      "channels.dingtalk.clientId is not a dingclaw setting (ignored): did you mean `client_id`?",
      "channels.dingtalk.clientSecret is not a dingclaw setting (ignored): did you mean `client_secret`?",
      "channels.dingtalk.dmPolicy is not a dingclaw setting (ignored): did you mean `allow_from`? (staff ids allowed to use the bot; empty allows everyone)",
      "channels.dingtalk.requireMention is not a dingclaw setting (ignored): did you mean `group_scope`? (in groups dingclaw always answers only when @-mentioned)",
      'channels.dingtalk.enableAICard is not a dingclaw setting (ignored): did you mean `card_mode`? (set "answer" and card_template_id)',
      "model_list[0].apiKey is not a dingclaw setting (ignored): did you mean `api_key`?",
      "model_list[0].baseUrl is not a dingclaw setting (ignored): did you mean `api_base`?",
    ]);
    expect(cfg.dingtalk.credentials).toBeUndefined();
    expect(parseConfig(seed).hints).toEqual([]);
  });

  it("adds the hints to a config error they explain", () => {
    const err = errorOf(() => parseConfig({ channels: { dingtalk: { clientId: "dingopenclaw", client_secret: "s-123456" } } }));
    expect(err.problems).toEqual([
      expect.stringMatching(/channels\.dingtalk\.client_id: is missing while client_secret is set/),
      "channels.dingtalk.clientId is not a dingclaw setting (ignored): did you mean `client_id`?",
    ]);
  });

  describe("the callback's part (loadCallbackConfig)", () => {
    const env = (config: unknown, extra: Record<string, string> = {}) => ({
      DINGCLAW_CONFIG_JSON: JSON.stringify(config),
      DINGCLAW_TABLE_ENDPOINT: "https://dingclaw.cn-hangzhou.ots.aliyuncs.com",
      ...extra,
    });

    it("gives the credentials and table loadConfig gives, environment overrides included", () => {
      for (const source of [
        env(seed),
        env(seed, { DINGTALK_CLIENT_ID: "dingfromenv", DINGTALK_ROBOT_CODE: "robot-env" }),
        env({ channels: { dingtalk: { enabled: false, client_id: "dingx", client_secret: "secret-x-123456" } } }),
        env({}, { DINGTALK_CLIENT_ID: "dingonlyenv", DINGTALK_CLIENT_SECRET: "env-secret-123456" }),
      ]) {
        const full = loadConfig(source);
        expect(loadCallbackConfig(source)).toEqual({ credentials: full.dingtalk.credentials, table: full.table });
      }
    });

    it("refuses half a credential pair and a non-object config, and reads nothing else", () => {
      expect(errorOf(() => loadCallbackConfig(env({ channels: { dingtalk: { client_secret: "lonely-secret-1" } } }))).problems).toEqual([
        "channels.dingtalk.client_id: is missing while client_secret is set",
      ]);
      expect(errorOf(() => loadCallbackConfig(env([]))).problems[0]).toMatch(/must be a JSON object/);
      expect(errorOf(() => loadCallbackConfig({ DINGCLAW_CONFIG_JSON: "{nope" })).problems[0]).toMatch(/DINGCLAW_CONFIG_JSON: is not valid JSON/);
      const other = { ...seed, model_list: "not a list", schedules: [{ cron: "not a cron" }] };
      expect(() => loadConfig(env(other))).toThrow(ConfigError);
      expect(loadCallbackConfig(env(other)).credentials?.clientId).toBe("dingxxxxxxxxxxxxxx");
    });
  });

});
