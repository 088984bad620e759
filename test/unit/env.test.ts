// The environment: defaults, blank values as unset, and one clear line for bad values without echoing them.
import { describe, expect, it } from "vitest";
import { EnvError, readEnv } from "../../functions/core/env.js";
import { ConfigError, parseConfig } from "../../functions/core/config.js";

function problemsOf(source: Record<string, string>): string {
  try {
    readEnv(source);
  } catch (err) {
    if (err instanceof EnvError) return err.message;
    throw err;
  }
  throw new Error("expected an EnvError");
}

describe("environment", () => {
  it("fills the documented defaults", () => {
    expect(readEnv({})).toMatchObject({
      DINGTALK_API_BASE: "https://api.dingtalk.com",
      DINGTALK_OAPI_BASE: "https://oapi.dingtalk.com",
      DINGCLAW_TABLE_NAME: "dingclaw",
      DINGCLAW_DATA_DIR: "./.dingclaw",
      PORT: 9000,
      HOST: "127.0.0.1",
      DINGCLAW_WORKER_FUNCTION: "worker",
    });
    expect(readEnv({}).LOG_LEVEL).toBeUndefined();
  });

  it("treats blank values as unset, trims, lower-cases levels and drops trailing slashes", () => {
    const env = readEnv({ PORT: " 8080 ", HOST: "", LOG_LEVEL: "DEBUG", DINGTALK_API_BASE: "http://127.0.0.1:9/", DINGCLAW_TABLE_ENDPOINT: "  " });
    expect(env).toMatchObject({ PORT: 8080, HOST: "127.0.0.1", LOG_LEVEL: "debug", DINGTALK_API_BASE: "http://127.0.0.1:9" });
    expect(env.DINGCLAW_TABLE_ENDPOINT).toBeUndefined();
  });

  it("names every bad variable in one line, with an example, never the value", () => {
    const msg = problemsOf({
      PORT: "http",
      LOG_LEVEL: "verbose",
      DINGCLAW_TABLE_ENDPOINT: "localhost:8000",
      DINGTALK_API_BASE: "ftp://secret-host-value",
      PLAYGROUND_CARDS: "yes",
    });
    expect(msg).not.toContain("\n");
    expect(msg).toMatch(/^bad environment: /);
    expect(msg).toMatch(/PORT must be a port number \(example: 9000\)/);
    expect(msg).toMatch(/LOG_LEVEL must be one of debug, info, warn, error/);
    expect(msg).toMatch(/DINGCLAW_TABLE_ENDPOINT must be an http\(s\) URL \(example: http:\/\/127\.0\.0\.1:8000\)/);
    expect(msg).toMatch(/DINGTALK_API_BASE must be an http\(s\) URL/);
    expect(msg).toMatch(/PLAYGROUND_CARDS must be one of on, off/);
    expect(msg).not.toContain("secret-host-value");
    expect(msg).not.toContain("verbose");
  });

  it("rejects a port out of range and a bad table name", () => {
    expect(problemsOf({ PORT: "70000" })).toMatch(/PORT must be a port number/);
    expect(problemsOf({ DINGCLAW_TABLE_NAME: "a b" })).toMatch(/DINGCLAW_TABLE_NAME must be 3-255 of/);
  });

  it("is what the config reads: the API bases, the table and the overrides", () => {
    const cfg = parseConfig({}, { DINGCLAW_TABLE_ENDPOINT: "https://table.example.com/", AWS_DEFAULT_REGION: "cn-shanghai", DINGCLAW_MODEL: " " });
    expect(cfg.table).toMatchObject({ endpoint: "https://table.example.com", name: "dingclaw", dataDir: "./.dingclaw", region: "cn-shanghai" });
    expect(cfg.agent.primary).toBeUndefined();
    expect(() => parseConfig({}, { DINGTALK_OAPI_BASE: "oapi.dingtalk.com" })).toThrow(EnvError);
    expect(() => parseConfig({}, { DINGTALK_MODE: "socket" })).toThrow(ConfigError);
  });
});
