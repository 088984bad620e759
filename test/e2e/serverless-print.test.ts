// `npx serverless print` (the real osls CLI with our provider plugin) shows the resolved serverless.yml
// with every secret masked: the table's secret key, the DingTalk client secret and the inline bot
// config's secrets; everything else as resolved.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maskConfiguration } from "../../infra/print-mask.js";
import { serverless } from "../helpers/serverless-cli.js";

const TABLE_SECRET = "table-secret-access-key-0001";
const CLIENT_SECRET = "dingtalk-client-secret-0001";
const LLM_KEY = "sk-print-llm-key-0001";

let home: string;
beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "dingclaw-print-"));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

async function print(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const r = await serverless(["print", ...args], { PATH: process.env.PATH ?? "", HOME: home, ...env });
  return { code: r.code, out: r.stdout + r.stderr };
}

describe("serverless print", () => {
  it("masks the table secret, the DingTalk client secret and the inline config's secrets", async () => {
    const configJson = JSON.stringify({
      model_list: [{ model_name: "glm", model: "zhipu/glm-4.7", api_key: LLM_KEY }],
      channels: { dingtalk: { client_id: "dingprint", client_secret: CLIENT_SECRET } },
    });
    const { code, out } = await print(["--format", "json"], {
      AWS_SECRET_ACCESS_KEY: TABLE_SECRET,
      AWS_ACCESS_KEY_ID: "AKIDPRINT",
      DINGTALK_CLIENT_SECRET: CLIENT_SECRET,
      DINGTALK_CLIENT_ID: "dingprint",
      DINGCLAW_CONFIG_JSON: configJson,
    });
    expect(code).toBe(0);
    for (const secret of [TABLE_SECRET, CLIENT_SECRET, LLM_KEY]) expect(out).not.toContain(secret);
    const printed = JSON.parse(out.slice(out.indexOf("{"), out.lastIndexOf("}") + 1)) as {
      provider: { table: Record<string, string>; environment: Record<string, string>; configJson: string };
    };
    expect(printed.provider.table).toMatchObject({ secretAccessKey: "***", accessKeyId: "AKIDPRINT" });
    expect(printed.provider.environment).toMatchObject({ DINGTALK_CLIENT_SECRET: "***", DINGTALK_CLIENT_ID: "dingprint" });
    expect(JSON.parse(printed.provider.configJson)).toEqual({
      model_list: [{ model_name: "glm", model: "zhipu/glm-4.7", api_key: "***" }],
      channels: { dingtalk: { client_id: "dingprint", client_secret: "***" } },
    });

    const one = await print(["--path", "provider.table.secretAccessKey", "--format", "text"], { AWS_SECRET_ACCESS_KEY: TABLE_SECRET });
    expect(one.out.trim()).toBe("***");
  });

  it("leaves empty values and text that is not a secret alone", () => {
    const conf = { provider: { table: { secretAccessKey: "", name: "t" }, configJson: "not json", environment: { LOG_LEVEL: "debug" } } };
    maskConfiguration(conf);
    expect(conf).toEqual({ provider: { table: { secretAccessKey: "", name: "t" }, configJson: "not json", environment: { LOG_LEVEL: "debug" } } });
  });
});
