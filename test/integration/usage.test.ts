// Usage and cost through the real message path: /usage shows the sender's tokens and cost today and
// this month next to their limits (and the group's today); /usage all is the month's report for admins
// (by model, top users and groups, DingTalk API calls) and a plain refusal for everyone else; the same
// report from `npm run usage` (a real child process) and from the worker's {"usage":"YYYY-MM"} event.
import { spawn } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../functions/core/runtime.js";
import type { UsageReport } from "../../functions/core/usage-report.js";
import type { MessageOptions } from "../helpers/messages.js";
import { ROOT } from "../helpers/processes.js";
import { BACKUP_KEY, LLM_KEY, startWorld, type World } from "../helpers/world.js";

let w: World;
let rt: Runtime;
const MONTH = "2026-11";
const clock = { now: Date.parse("2026-11-20T15:00:00+08:00") };

beforeAll(async () => {
  w = await startWorld({
    config: (api_base) => ({
      model_list: [
        { model_name: "glm", model: "zhipu/glm-4.7", api_key: LLM_KEY, api_base, price: { input: 4, output: 16 } },
        { model_name: "backup", model: "deepseek/deepseek-chat", api_key: BACKUP_KEY, api_base },
      ],
      channels: { dingtalk: { admins: ["boss"] } },
      limits: { user_daily_tokens: 100_000, group_daily_tokens: 400_000 },
    }),
  });
  rt = createRuntime(w.config, w.db.table, { log: w.log, now: () => clock.now, sleep: () => Promise.resolve() });
  w.llm.script({ usage: { prompt_tokens: 600, completion_tokens: 400, total_tokens: 1000 }, sticky: true });
  const group = { type: "group" as const, conversationId: "cidUsage==", conversationTitle: "项目群" };
  await ask({ text: "第一个问题", staffId: "ua", nick: "张三" });
  await ask({ text: "第二个问题", staffId: "ua", nick: "张三" });
  await ask({ ...group, text: "群里的问题", staffId: "ub", nick: "李四" });
  await ask({ text: "/model backup", staffId: "uc" });
  await ask({ text: "用没有价格的模型", staffId: "uc" });
  // The day before, in the same month: counted in the month, not today.
  clock.now -= 86_400_000;
  await ask({ text: "昨天的问题", staffId: "ua", nick: "张三" });
  clock.now += 86_400_000;
});
afterAll(() => w.close());
afterEach(() => w.dt.reset());

async function ask(o: MessageOptions): Promise<string> {
  const out = await w.deliver(o, rt);
  if (out.status !== "done" || out.outcome.action !== "replied") throw new Error(`not replied: ${JSON.stringify(out)}`);
  return w.dt.sent().at(-1)!.text!;
}

describe("/usage", () => {
  it("shows the sender's tokens and cost today and this month next to their limits", async () => {
    const text = await ask({ text: "/usage", staffId: "ua" });
    // 600 × 4 + 400 × 16 = 8,800 µCNY per answer.
    expect(text).toContain("今天：2,000 tokens，费用 ¥0.0176；上限 100,000 tokens/天（已用 2%）");
    expect(text).toContain("本月：3,000 tokens，费用 ¥0.0264");
    expect(text).toContain("本对话用量：");
    expect(text).not.toContain("本群今天");
  });

  it("in a group, also the group's today; an unpriced model's cost is unknown", async () => {
    const group = await ask({ type: "group", conversationId: "cidUsage==", text: "/usage", staffId: "ub" });
    expect(group).toContain("本群今天：1,000 tokens，费用 ¥0.0088；上限 400,000 tokens/天（已用 0%）");
    expect(await ask({ text: "/usage", staffId: "uc" })).toContain("今天：1,000 tokens，费用 未知（模型未设置价格）");
  });

  it("the audit line carries the turn's cost as the meter priced it", () => {
    const audits = w.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "audit" && l.outcome === "answered");
    expect(audits.find((a) => a.staffId === "ua")).toMatchObject({ model: "glm", costCny: 0.0088 });
    expect(audits.find((a) => a.staffId === "uc")).toMatchObject({ model: "backup", costCny: null });
  });

  it("tells admins they are exempt", async () => {
    const text = await ask({ text: "/usage", staffId: "boss" });
    expect(text).toContain("今天：0 tokens，费用 ¥0");
    expect(text).not.toContain("上限 100,000");
    expect(text).toContain("你是管理员，不受用量上限限制");
  });
});

describe("/usage all", () => {
  it("refuses everyone but admins, without an LLM call", async () => {
    const calls = w.llm.chatRequests().length;
    expect(await ask({ text: "/usage all", staffId: "ua" })).toBe("抱歉，`/usage all` 仅限管理员使用。");
    expect(w.llm.chatRequests().length).toBe(calls);
  });

  it("gives admins the month's report: by model, top users and groups, DingTalk API calls", async () => {
    const text = await ask({ text: "/usage all", staffId: "boss" });
    expect(text).toContain(`**${MONTH} 用量报告**（Asia/Shanghai）`);
    expect(text).toContain("全公司：5,000 tokens，费用 至少 ¥0.0352（部分模型未设置价格）（输入 3,000，输出 2,000），5 次对话");
    expect(text).toContain("- glm：4,000 tokens，费用 ¥0.0352，4 次调用");
    expect(text).toContain("- backup：1,000 tokens，费用 未知（模型未设置价格），1 次调用");
    expect(text).toMatch(/用量最多的人\*\*（前 3 \/ 共 3）\s*\n- 张三（ua）：3,000 tokens[^\n]*\n- 李四（ub）：1,000 tokens/);
    expect(text).toContain("- 项目群（cidUsage==）：1,000 tokens，费用 ¥0.0088，1 次对话");
    expect(text).toMatch(/钉钉接口调用：\d+ \/ 5,000 次/);
  });
});

describe("the report outside the chat", () => {
  const env = () => ({ ...process.env, ...w.env, DINGCLAW_CONFIG_JSON: w.configJson, LOG_LEVEL: "silent" });

  function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn("npx", ["tsx", "functions/usage-cli.ts", ...args], { cwd: ROOT, env: env(), stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  }

  it("npm run usage prints it as text and as JSON; a bad month is refused", async () => {
    const [text, json, bad] = await Promise.all([run(["--month", MONTH]), run(["--month", MONTH, "--json"]), run(["--month", "2026-13"])]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`**${MONTH} 用量报告**`);
    expect(text.stdout).toContain("- glm：4,000 tokens，费用 ¥0.0352，4 次调用");
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as UsageReport;
    expect(report.org).toMatchObject({ tokens: 5000, cost: 35_200, unpriced: 1000, turns: 5, limit: null });
    expect(report.users.top.map((u) => [u.id, u.tokens])).toEqual([["ua", 3000], ["ub", 1000], ["uc", 1000]]);
    expect(report.dingtalk?.budget).toBe(5000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--month must be a month as "YYYY-MM"');
  }, 60_000);

  it('the worker answers {"usage":"YYYY-MM"} with the same report as JSON', async () => {
    Object.assign(process.env, { ...w.env, DINGCLAW_CONFIG_JSON: w.configJson, LOG_LEVEL: "silent" });
    const { handler } = await import("../../functions/worker.js");
    const report = JSON.parse(await handler(Buffer.from(JSON.stringify({ usage: MONTH })), {})) as UsageReport;
    expect(report).toMatchObject({ month: MONTH, org: { tokens: 5000 }, groups: { count: 1 } });
    expect(report.models.map((m) => m.name)).toEqual(["glm", "backup"]);
    expect(JSON.parse(await handler(Buffer.from('{"usage":"last month"}'), {}))).toEqual({ status: "invalid", reason: 'usage: must be a month as "YYYY-MM" (example: "2026-12")' });
  });
});
