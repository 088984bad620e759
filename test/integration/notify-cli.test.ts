// `npm run notify` as a real child process (npx tsx functions/notify-cli.ts) against the DingTalk
// double: exit 0 with where it went once DingTalk accepted it, one clear line and exit 1 when DingTalk
// refuses, exit 2 for bad arguments (before any call).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startDingTalkDouble, type DingTalkDouble } from "../doubles/dingtalk/index.js";

const CLIENT_ID = "dingnotifycli";
const SECRET = "notify-cli-secret-7e6d5c";
let dt: DingTalkDouble;
let dir: string;
let configPath: string;

beforeAll(async () => {
  dt = await startDingTalkDouble({ apps: [{ clientId: CLIENT_ID, clientSecret: SECRET }] });
  dir = mkdtempSync(join(tmpdir(), "dingclaw-notify-"));
  configPath = join(dir, "config.json");
  writeFileSync(configPath, JSON.stringify({ model_list: [], channels: { dingtalk: { client_id: CLIENT_ID, client_secret: SECRET } } }));
});
beforeEach(() => dt.reset());
afterAll(async () => {
  await dt.close();
  rmSync(dir, { recursive: true, force: true });
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, DINGCLAW_CONFIG: configPath, DINGTALK_API_BASE: dt.url, DINGTALK_OAPI_BASE: dt.url };
    delete env.LOG_LEVEL;
    delete env.DINGCLAW_CONFIG_JSON;
    const child = spawn("npx", ["tsx", "functions/notify-cli.ts", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("npm run notify", () => {
  it("sends markdown with a title to a group: exit 0, where it went on stdout", async () => {
    const res = await runCli(["--group", "cidCiGroup==", "--markdown", "**构建成功** main #7", "--title", "CI"]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toBe("sent to group cidCiGroup==\n");
    expect(dt.sent()).toMatchObject([{ conversationType: "group", conversationId: "cidCiGroup==", msgtype: "markdown", title: "CI", text: "**构建成功** main #7" }]);
  });

  it("sends text to users (comma-separated and repeated); unknown staff ids are a warning", async () => {
    dt.robot.unknownStaff.add("ghost");
    const res = await runCli(["--user", "alice,ghost", "--user", "bob", "--text", "下午三点开会"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe("sent to 2 users (alice, bob)\n");
    expect(res.stderr).toMatch(/^warning: .*ghost\n$/);
    expect(dt.sent().map((m) => m.userId)).toEqual(["alice", "bob"]);
  });

  it("a missing robot permission: exit 1 with one line naming it, no secret", async () => {
    dt.robot.sendPermission = false;
    const res = await runCli(["--group", "cidCiGroup==", "--text", "x"]);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toMatch(/^error: .*qyapi_robot_sendmsg/);
    expect(res.stderr).not.toContain(SECRET);
  });

  it("bad arguments: exit 2 with the reason, nothing sent", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--text", "x"], /either --user or --group/],
      [["--group", "cid", "--user", "a", "--text", "x"], /either --user or --group/],
      [["--group", "cid"], /--text: needs either "text" or "markdown"/],
      [["--group", "cid", "--text", "x", "--title", "t"], /--title: goes with "markdown" only/],
      [["--group", "cid", "--text", "x", "--bogus"], /Unknown option '--bogus'/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    results.forEach((res, i) => {
      expect(res.code, cases[i]![0].join(" ")).toBe(2);
      expect(res.stderr).toMatch(cases[i]![1]);
    });
    expect(dt.calls).toHaveLength(0);
  });
});
