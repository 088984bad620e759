// `npm run agent -- -m` as a real child process (npx tsx functions/agent-cli.ts) against the LLM double:
// the answer on stdout and a usage line on stderr; one clear, secret-free line and exit 1 on failure.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLlmDouble, type LlmDouble } from "../doubles/llm/server.js";

const GOOD_KEY = "sk-cli-good-key-778899";
const WRONG_KEY = "sk-cli-wrong-key-112233";
let double: LlmDouble;
let dir: string;

beforeAll(async () => {
  double = await startLlmDouble({ keys: [GOOD_KEY], basePath: "/api/paas/v4" });
  dir = mkdtempSync(join(tmpdir(), "dingclaw-cli-"));
});
afterAll(async () => {
  await double.close();
  rmSync(dir, { recursive: true, force: true });
});

function configFile(name: string, entry: { api_key: string; api_base: string }): string {
  const path = join(dir, `${name}.json`);
  const config = {
    agents: { defaults: { model_name: "glm-4", llm_timeout_ms: 5000 } },
    model_list: [{ model_name: "glm-4", model: "zhipu/glm-4.7", ...entry }],
    channels: { dingtalk: { enabled: true, client_id: "dingcli", client_secret: "cli-client-secret-445566" } },
  };
  writeFileSync(path, JSON.stringify(config));
  return path;
}

function runCli(args: string[], configPath?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, DINGCLAW_CONFIG: configPath ?? "" };
    delete env.LOG_LEVEL;
    const child = spawn("npx", ["tsx", "functions/agent-cli.ts", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("npm run agent -- -m", () => {
  it("prints the answer on stdout and model + usage on stderr, exit 0", async () => {
    double.script({
      text: "你好！我是助手。",
      think: "internal",
      usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
      match: { model: "glm-4.7" },
    });
    const res = await runCli(["-m", "hi"], configFile("good", { api_key: GOOD_KEY, api_base: double.url }));
    expect(res.code).toBe(0);
    expect(res.stdout).toBe("你好！我是助手。\n");
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toMatch(/glm-4 \(zhipu\/glm-4\.7\).*5 in \+ 7 out = 12/);
    const sent = double.chatRequests().filter((r) => r.served === "reply");
    expect(sent.map((r) => [r.model, r.headers.authorization])).toEqual([["glm-4.7", `Bearer ${GOOD_KEY}`]]);
  });

  it("uses --model to pick another model_name, and refuses an unknown one", async () => {
    const path = join(dir, "two.json");
    writeFileSync(
      path,
      JSON.stringify({
        agents: { defaults: { model_name: "glm-4" } },
        model_list: [
          { model_name: "glm-4", model: "zhipu/glm-4.7", api_key: GOOD_KEY, api_base: double.url },
          { model_name: "other", model: "zhipu/glm-4-air", api_key: GOOD_KEY, api_base: double.url },
        ],
      }),
    );
    const res = await runCli(["-m", "hi", "--model", "other"], path);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe("echo: hi\n");
    expect(double.chatRequests().some((r) => r.model === "glm-4-air" && r.served === "default")).toBe(true);
    const unknown = await runCli(["-m", "hi", "--model", "nope"], path);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('error: --model "nope" is no model_name in model_list (choices: glm-4, other)\n');
  });

  it("a wrong key: one line naming the model and the field to check, exit 1, no key", async () => {
    const res = await runCli(["-m", "hi"], configFile("wrong", { api_key: WRONG_KEY, api_base: double.url }));
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    const lines = res.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/auth.*glm-4.*model_list\[0\]\.api_key/);
    for (const secret of [WRONG_KEY, WRONG_KEY.slice(-8), "cli-client-secret-445566"])
      expect(res.stdout + res.stderr).not.toContain(secret);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it("an unreachable api_base: one line with the URL and the field to check, exit 1", async () => {
    const base = `http://127.0.0.1:${await closedPort()}/v1`;
    const res = await runCli(["-m", "hi"], configFile("closed", { api_key: GOOD_KEY, api_base: base }));
    expect(res.code).toBe(1);
    const lines = res.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(base);
    expect(lines[0]).toMatch(/network.*model_list\[0\]\.api_base/);
    expect(res.stderr).not.toContain(GOOD_KEY);
  });

  it("a config error: one line naming the field, exit 1", async () => {
    const path = join(dir, "broken.json");
    writeFileSync(path, JSON.stringify({ model_list: [{ model_name: "x", model: "no-slash", api_key: GOOD_KEY }] }));
    const res = await runCli(["-m", "hi"], path);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toMatch(/^config error: model_list\[0\]\.model/);
  });

  it("without -m prints usage and exits 2", async () => {
    const res = await runCli([]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('-m "your message"');
  });
});
