// `npm run doctor` against the doubles, one fault at a time: each problem is named with a fix, the
// exit code says whether anything failed, and no secret is printed.
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatResults, runDoctor, type CheckResult } from "../../functions/core/doctor.js";
import { startFcDouble, type FcDouble } from "../doubles/fc/index.js";
import { startLlmDouble } from "../doubles/llm/server.js";
import { startHost } from "../helpers/processes.js";
import { startTestTablestore } from "../helpers/tablestore.js";
import { CLIENT_SECRET, LLM_KEY, startWorld, type World } from "../helpers/world.js";

let w: World;
let fc: FcDouble;
let closedPort: number;

beforeAll(async () => {
  w = await startWorld();
  fc = await startFcDouble({ accountId: "1234567890", region: "cn-hangzhou", accessKeys: { DEPLOYKEY: "deploy-secret-1" } });
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
});
afterAll(async () => {
  await fc?.close();
  await w?.close();
});

function env(over: Record<string, string> = {}, config?: Record<string, unknown>): Record<string, string> {
  return { ...w.env, DINGCLAW_CONFIG_JSON: config ? JSON.stringify(config) : w.configJson, ...over };
}

const byName = (results: CheckResult[], prefix: string) => results.find((r) => r.name.startsWith(prefix));

describe("doctor", () => {
  it("passes on a healthy setup", async () => {
    const results = await runDoctor({ env: env() });
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.map((r) => r.name)).toEqual(
      expect.arrayContaining(["config", "DingTalk access token", "robot can send", "table"]),
    );
    expect(results.filter((r) => r.name.startsWith("model "))).toHaveLength(2);
  });

  it("says so when there is no config file, and names keys spelled another bot's way", async () => {
    const cwd = process.cwd();
    process.chdir(await mkdtemp(path.join(tmpdir(), "dingclaw-doctor-")));
    try {
      const { DINGCLAW_CONFIG_JSON: _inline, ...noConfig } = env();
      const none = await runDoctor({ env: noConfig });
      expect(byName(none, "config")).toMatchObject({ ok: false, detail: expect.stringContaining("no config file: ./config.json does not exist") as string });
      expect(byName(none, "DingTalk credentials")).toMatchObject({ ok: false });
    } finally {
      process.chdir(cwd);
    }
    const openClaw = { channels: { dingtalk: { enabled: true, clientId: "dingopenclaw", clientSecret: "openclaw-secret-123456", dmPolicy: "open" } } };
    const results = await runDoctor({ env: env({}, openClaw) });
    const config = byName(results, "config")!;
    expect(config.ok).toBe(false);
    expect(config.detail).toContain("channels.dingtalk.clientId is not a dingclaw setting (ignored): did you mean `client_id`?");
    expect(config.detail).toContain("channels.dingtalk.clientSecret is not a dingclaw setting (ignored): did you mean `client_secret`?");
    expect(config.detail).toContain("channels.dingtalk.dmPolicy is not a dingclaw setting (ignored): did you mean `allow_from`?");
    expect(formatResults(results)).not.toContain("openclaw-secret-123456");
  });

  it("tells a bad client secret from an unreachable DingTalk", async () => {
    const cfg = JSON.parse(w.configJson) as { channels: { dingtalk: Record<string, string> } };
    cfg.channels.dingtalk.client_secret = "wrong-secret-123456";
    const bad = byName(await runDoctor({ env: env({}, cfg) }), "DingTalk access token")!;
    expect(bad).toMatchObject({ ok: false, detail: expect.stringContaining("rejected client id") as string });
    const down = byName(await runDoctor({ env: env({ DINGTALK_API_BASE: `http://127.0.0.1:${closedPort}` }) }), "DingTalk access token")!;
    expect(down).toMatchObject({ ok: false, detail: expect.stringContaining("cannot reach") as string });
  });

  it("names a missing send permission", async () => {
    w.dt.fault({
      route: "robot.oToMessages.batchSend",
      status: 403,
      body: { code: "Forbidden.AccessDenied.AccessTokenPermissionDenied", message: "没有调用该接口的权限", requestid: "r1" },
    });
    const send = byName(await runDoctor({ env: env() }), "robot can send")!;
    expect(send).toMatchObject({ ok: false, detail: expect.stringContaining("qyapi_robot_sendmsg") as string });
  });

  it("distinguishes an invalid key from an exhausted quota per model", async () => {
    w.llm.script({ fault: "quota_deepseek", match: { model: "deepseek-chat" } });
    const cfg = JSON.parse(w.configJson) as { model_list: { api_key: string }[] };
    cfg.model_list[0]!.api_key = "sk-not-a-valid-key-99";
    const results = await runDoctor({ env: env({}, cfg) });
    expect(byName(results, "model glm")).toMatchObject({ ok: false, detail: "invalid API key" });
    expect(byName(results, "model backup")).toMatchObject({ ok: false, detail: "quota or balance exhausted" });
  });

  it("names a model id the provider does not know", async () => {
    const strict = await startLlmDouble({ knownModels: ["glm-4.7"] });
    try {
      const cfg = { ...(JSON.parse(w.configJson) as object), agents: { defaults: { model_name: "typo" } }, model_list: [{ model_name: "typo", model: "zhipu/glm-4.77", api_key: "k-typo-123456", api_base: strict.url }] };
      expect(byName(await runDoctor({ env: env({}, cfg) }), "model typo")).toMatchObject({
        ok: false,
        detail: "the provider does not know this model id",
      });
    } finally {
      await strict.close();
    }
  });

  it("checks card permissions and the template when AI cards are on", async () => {
    const TEMPLATE = "doctor-template.schema";
    const cfg = JSON.parse(w.configJson) as { channels: { dingtalk: Record<string, unknown> } };
    cfg.channels.dingtalk.card_mode = "answer";
    cfg.channels.dingtalk.card_template_id = TEMPLATE;
    const missing = await runDoctor({ env: env({}, cfg) });
    expect(byName(missing, "card create")).toMatchObject({ ok: false, detail: expect.stringContaining("does not exist") as string });

    w.dt.cardTemplate(TEMPLATE);
    const granted = await runDoctor({ env: env({}, cfg) });
    expect(byName(granted, "card create")).toMatchObject({ ok: true });
    expect(byName(granted, "card streaming")).toMatchObject({ ok: true });
    expect(w.dt.cards()).toEqual([]);

    w.dt.fault({
      route: "card.streaming",
      status: 403,
      body: { code: "Forbidden.AccessDenied.AccessTokenPermissionDenied", message: "没有调用该接口的权限", requestid: "r2" },
    });
    const denied = byName(await runDoctor({ env: env({}, cfg) }), "card streaming")!;
    expect(denied).toMatchObject({ ok: false, detail: expect.stringContaining("Card.Streaming.Write") as string });
  });

  it("reports a reachable endpoint without the table, and an unreachable table", async () => {
    const missing = byName(await runDoctor({ env: env({ DINGCLAW_TABLE_NAME: "no-such-table" }) }), "table")!;
    expect(missing).toMatchObject({ ok: false, detail: expect.stringContaining("does not exist") as string });
    const down = byName(await runDoctor({ env: env({ DINGCLAW_TABLE_ENDPOINT: `http://127.0.0.1:${closedPort}` }) }), "table")!;
    expect(down).toMatchObject({ ok: false, detail: expect.stringContaining("cannot reach") as string });
  });

  it("Tablestore: probes the table with the machine's key and says which credentials it used", async () => {
    const ts = await startTestTablestore();
    try {
      const ok = byName(await runDoctor({ env: env(ts.env) }), "table")!;
      expect(ok).toMatchObject({ ok: true, detail: expect.stringMatching(/"dingclaw" \(tablestore\) written, read and deleted .* with the deploy key/) as string });
      const wrong = byName(await runDoctor({ env: env({ ...ts.env, ALIBABA_CLOUD_ACCESS_KEY_SECRET: "wrong-secret-0001" }) }), "table")!;
      expect(wrong).toMatchObject({ ok: false, detail: expect.stringContaining("Signature mismatch") as string, fix: expect.stringContaining("ALIBABA_CLOUD_ACCESS_KEY_") as string });
    } finally {
      await ts.close();
    }
  });

  it("checks deploy credentials against FC when they are set, as a CLI with exit codes and no secrets", async () => {
    const deployEnv = {
      ALIBABA_CLOUD_ACCOUNT_ID: "1234567890",
      ALIBABA_CLOUD_ACCESS_KEY_ID: "DEPLOYKEY",
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: "deploy-secret-1",
      ALIBABA_CLOUD_FC_ENDPOINT: fc.url,
    };
    const good = startHost("functions/doctor.ts", env(deployEnv));
    expect(await good.exited).toBe(0);
    expect(good.lines.join("\n")).toMatch(/✓ deploy credentials: valid; service dingclaw-dev is not deployed yet/);

    const bad = startHost("functions/doctor.ts", env({ ...deployEnv, ALIBABA_CLOUD_ACCESS_KEY_SECRET: "wrong-deploy-secret" }));
    expect(await bad.exited).toBe(1);
    const out = bad.lines.join("\n");
    expect(out).toMatch(/✗ deploy credentials: FC rejected the access key \(SignatureNotMatch\)/);
    for (const secret of [CLIENT_SECRET, LLM_KEY, "wrong-deploy-secret", "deploy-secret-1"]) expect(out).not.toContain(secret);
  });
});
