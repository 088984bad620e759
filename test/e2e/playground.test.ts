// The playground in a real browser: Playwright (playwright-core) drives the Chromium that ships in the
// @sparticuz/chromium npm package (or CHROMIUM_PATH; test/helpers/chromium.ts) against the
// playground (gateway core + DingTalk double in-process, LLM double). A 1:1 message and a group
// @-message get answers (AI cards streaming live), the trace panel shows each message's path, a
// picture reaches the model, and /new (from the /help card's button) resets the context.
// UPDATE_SCREENSHOT=1 also writes the README's screenshot to test/e2e/screenshots/playground.png.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.js";
import { startPlayground, type Playground } from "../../functions/playground/start.js";
import { startLlmDouble, type LlmDouble } from "../doubles/llm/server.js";
import { findChromium } from "../helpers/chromium.js";
import { PNG } from "../helpers/images.js";
import { ROOT, eventually } from "../helpers/processes.js";

const LLM_KEY = "sk-playground-browser-0001";

let llm: LlmDouble;
let pg: Playground;
let context: BrowserContext;
let page: Page;
let profile: string;
const problems: string[] = [];

beforeAll(async () => {
  const browser = await findChromium();
  llm = await startLlmDouble({ keys: [LLM_KEY] });
  const config = parseConfig({
    agents: { defaults: { model_name: "glm" } },
    model_list: [{ model_name: "glm", model: "zhipu/glm-4.7", api_key: LLM_KEY, api_base: llm.url, vision: true }],
    channels: { dingtalk: { card_update_interval_ms: 100 } },
  });
  pg = await startPlayground({ config, port: 0, host: "127.0.0.1", write: () => {} });
  profile = mkdtempSync(join(tmpdir(), "dingclaw-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: browser.executablePath,
    headless: true,
    args: browser.args,
    env: browser.env,
    viewport: { width: 1400, height: 900 },
    timeout: 20_000,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10_000);
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
});

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await pg?.close(5_000);
  await llm?.close();
});

const input = '[data-testid="composer-input"]';

/** Types and sends a message; resolves with the msgId of its bubble. */
async function say(text: string): Promise<string> {
  const bubbles = page.locator('[data-testid="msg-user"]');
  const before = await bubbles.count();
  await page.fill(input, text);
  await page.press(input, "Enter");
  const mine = bubbles.nth(before);
  await mine.waitFor();
  const msgId = await mine.getAttribute("data-msg-id");
  if (!msgId) throw new Error("the user's bubble has no msgId");
  return msgId;
}

const card = (msgId: string) => page.locator(`[data-testid="msg-card"][data-msg-id="${msgId}"] .bubble`);
const finished = (msgId: string) => page.locator(`[data-testid="msg-card"][data-msg-id="${msgId}"] .bubble[data-card-status="finished"]`);
const lastLlmBody = () => JSON.stringify(llm.chatRequests().at(-1)?.body ?? null);

async function traceFields(msgId: string): Promise<Record<string, string>> {
  const trace = page.locator(`[data-testid="trace"][data-msg-id="${msgId}"][data-state="done"]`);
  await trace.waitFor();
  const out: Record<string, string> = {};
  for (const dd of await trace.locator("dd[data-field]").all()) out[(await dd.getAttribute("data-field"))!] = ((await dd.textContent()) ?? "").trim();
  return out;
}

describe("playground in Chromium", () => {
  it("opens as a DingTalk-like chat with the simulated users and chats", async () => {
    await page.goto(pg.url);
    await page.locator("body[data-ready=true]").waitFor();
    expect(await page.locator('[data-testid="chat-title"]').textContent()).toBe("AI助手");
    expect(await page.locator('[data-testid="user-select"] option').allTextContents()).toEqual(["张三", "李四", "王五"]);
    expect(await page.locator('[data-testid="chat-group-1"]').textContent()).toContain("产品研发群");
    expect(await page.locator('[data-testid="model-help"]').isHidden()).toBe(true);
  });

  it("a 1:1 message is answered in an AI card that updates live, rendered like DingTalk, and traced", async () => {
    llm.script({ text: "## 周会安排\n\n本周周会在 **周三下午 3 点**，地点 *3 楼大会议室*。\n\n1. 项目进展\n2. 风险与问题\n\n> 记得提前准备材料", chunkSize: 2, chunkDelayMs: 25 });
    const msgId = await say("帮我总结一下本周的周会安排");
    await page.locator(`[data-testid="msg-card"][data-msg-id="${msgId}"] .bubble[data-card-status="inputting"]`).waitFor();
    await finished(msgId).waitFor();
    expect(Number(await card(msgId).getAttribute("data-card-updates"))).toBeGreaterThanOrEqual(2);
    expect(await card(msgId).locator("h2").textContent()).toBe("周会安排");
    expect(await card(msgId).locator("strong").textContent()).toBe("周三下午 3 点");
    expect(await card(msgId).locator("ol li").allTextContents()).toEqual(["项目进展", "风险与问题"]);
    expect(await card(msgId).locator("blockquote").textContent()).toContain("记得提前准备材料");

    const t = await traceFields(msgId);
    expect(t).toMatchObject({ signature: "ok", claim: "accepted", kind: "answer", route: "card", model: "glm" });
    expect(t.tokens).toMatch(/^\d+ \/ \d+$/);
    for (const f of ["ack", "first-token", "llm-total", "send"]) expect(t[f], f).toMatch(/^[\d.]+ ms$/);
  });

  it("a group message goes out with an @-mention and is answered in the group", async () => {
    await page.click('[data-testid="chat-group-1"]');
    expect(await page.locator('[data-testid="chat-title"]').textContent()).toBe("产品研发群");
    llm.script({ text: "大家好，我在。" });
    const msgId = await say("大家好，今天的站会取消了吗？");
    expect(await page.locator(`[data-testid="msg-user"][data-msg-id="${msgId}"] .text`).textContent()).toBe("@AI助手 大家好，今天的站会取消了吗？");
    await finished(msgId).waitFor();
    expect(await card(msgId).textContent()).toContain("大家好，我在。");
    expect(lastLlmBody()).toContain("张三: 大家好，今天的站会取消了吗？");
    expect(await traceFields(msgId)).toMatchObject({ signature: "ok", claim: "accepted", route: "card" });
  });

  it("a picture is sent as a picture message and reaches the model", async () => {
    await page.click('[data-testid="chat-dm"]');
    await page.setInputFiles('[data-testid="file-input"]', { name: "dot.png", mimeType: "image/png", buffer: PNG });
    await page.locator('[data-testid="attachment-preview"]').waitFor();
    llm.script({ text: "这是一张 1×1 像素的图片。" });
    const msgId = await say("");
    await page.locator(`[data-testid="msg-user"][data-msg-id="${msgId}"] img.picture`).waitFor();
    await finished(msgId).waitFor();
    expect(llm.chatRequests().at(-1)!.images).toEqual([`data:image/png;base64,${PNG.toString("base64")}`]);
  });

  it("/new (the /help card's button) resets the 1:1 context", async () => {
    llm.script({ text: "好的，小明。" });
    await finished(await say("我叫小明")).waitFor();
    llm.script({ text: "你叫小明。" });
    await finished(await say("我叫什么？")).waitFor();
    expect(lastLlmBody()).toContain("我叫小明");

    const help = await say("/help");
    const button = page.locator(`[data-testid="msg-bot"]`).filter({ hasText: "我是 AI 助手" }).last().locator("button", { hasText: "开始新对话" });
    await button.waitFor();
    expect(await traceFields(help)).toMatchObject({ kind: "help", route: "webhook" });
    await button.click();
    await page.locator('[data-testid="msg-bot"]').filter({ hasText: "已开始新对话" }).waitFor();
    expect(await page.locator('[data-testid="msg-user"] .text').last().textContent()).toBe("/new");

    llm.script({ text: "我还不知道你的名字。" });
    await finished(await say("我叫什么？")).waitFor();
    const fresh = llm.chatRequests().at(-1)!.body as { messages: { role: string; content: unknown }[] };
    expect(fresh.messages.filter((m) => m.role !== "system").map((m) => m.content)).toEqual(["我叫什么？"]);
  });

  it("shows every message in the trace panel, took a screenshot, and the page logged no errors", async () => {
    await eventually(async () => (await page.locator('[data-testid="trace"][data-state="done"]').count()) >= 8, 10_000, "all traces done");
    await page.locator('[data-testid="traces"] [data-testid="trace"]').first().scrollIntoViewIfNeeded();
    const path = process.env.UPDATE_SCREENSHOT ? join(ROOT, "test/e2e/screenshots/playground.png") : join(profile, "playground.png");
    const shot = await page.screenshot({ path });
    expect(shot.subarray(1, 4).toString()).toBe("PNG");
    expect(shot.length).toBeGreaterThan(10_000);
    expect(problems).toEqual([]);
  });
});
