// The agent through the real store (dynalite), the LLM double and the DingTalk double: commands,
// access rules, group @ rules, conversation scope, moderation recovery and total LLM failure.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { handleMessage, scopeKey } from "../../functions/core/agent.js";
import { parseConfig } from "../../functions/core/config.js";
import { createRuntime } from "../../functions/core/runtime.js";
import { startWorld, type World } from "../helpers/world.js";

let w: World;
beforeAll(async () => {
  w = await startWorld({ config: { agents: { defaults: { system_prompt: "你是测试助手" } } } });
});
afterAll(() => w.close());
afterEach(() => {
  w.dt.reset();
  w.llm.reset();
});

const userMessages = (i: number) =>
  (w.llm.chatRequests()[i]!.body as { messages: { role: string; content: string }[] }).messages;

async function say(text: string, o: Parameters<World["message"]>[0] = {}) {
  return handleMessage(w.parse(w.message({ text, ...o })), w.runtime);
}

describe("agent", () => {
  it("answers a 1:1 message through the session webhook and keeps the context", async () => {
    w.llm.script({ text: "我叫小钉。" }, { text: "你刚才问了我的名字。" });
    const first = await say("你叫什么？", { staffId: "ctx-user" });
    expect(first).toMatchObject({ action: "replied", kind: "answer", route: "webhook", modelName: "glm" });
    await say("我刚才问了什么？", { staffId: "ctx-user" });

    const sent = w.dt.sent();
    expect(sent.map((s) => s.text)).toEqual(["我叫小钉。", "你刚才问了我的名字。"]);
    expect(sent[0]).toMatchObject({ msgtype: "markdown", title: "我叫小钉。", conversationType: "direct" });
    const second = userMessages(1);
    expect(second[0]).toMatchObject({ role: "system" });
    expect(second[0]!.content).toContain("你是测试助手");
    expect(second.slice(1)).toEqual([
      { role: "user", content: "你叫什么？" },
      { role: "assistant", content: "我叫小钉。" },
      { role: "user", content: "我刚才问了什么？" },
    ]);
    expect(w.llm.chatRequests()[0]!.model).toBe("glm-4.7");
  });

  it("/help, /new, /model and /model NAME work without the LLM", async () => {
    const u = { staffId: "cmd-user" };
    await say("第一句", u);
    expect((await say("/help", u)) as { kind: string }).toMatchObject({ kind: "help" });
    expect(w.dt.sent().at(-1)!.text).toContain("/new");

    await say("/model", u);
    expect(w.dt.sent().at(-1)!.text).toMatch(/当前模型：\*\*glm\*\*.*zhipu\/glm-4\.7/s);
    await say("/model gpt-9", u);
    expect(w.dt.sent().at(-1)!.text).toMatch(/没有名为 `gpt-9` 的模型.*`glm`.*`backup`/s);
    await say("/model backup", u);
    expect(w.dt.sent().at(-1)!.text).toContain("已切换到模型 **backup**");
    const before = w.llm.chatRequests().length;
    expect(before).toBe(1);

    await say("换了模型吗", u);
    expect(w.llm.chatRequests()[1]!.model).toBe("deepseek-chat");
    expect(w.llm.chatRequests()[1]!.key).toBe(w.config.models[1]!.apiKey);
    expect(userMessages(1).filter((m) => m.role !== "system")).toHaveLength(3);

    await say("／new", u);
    expect(w.dt.sent().at(-1)!.text).toContain("已开始新对话");
    await say("新的问题", u);
    expect(userMessages(2).filter((m) => m.role !== "system")).toEqual([{ role: "user", content: "新的问题" }]);
    expect(w.llm.chatRequests()[2]!.model).toBe("deepseek-chat");
  });

  it("refuses users outside allow_from with no LLM call and no conversation write", async () => {
    const config = parseConfig(JSON.parse(w.configJson) as object, w.env);
    config.dingtalk.allowFrom = ["boss"];
    const rt = createRuntime(config, w.db.table, { log: w.log });
    const msg = w.parse(w.message({ text: "让我用一下", staffId: "intruder" }));
    expect(await handleMessage(msg, rt)).toMatchObject({ action: "replied", kind: "refused" });
    expect(w.llm.chatRequests()).toHaveLength(0);
    expect(w.dt.sent()[0]!.text).toContain("没有使用这个助手的权限");
    expect((await rt.conversations.load(scopeKey(msg, "conversation"))).exists).toBe(false);

    expect(await handleMessage(w.parse(w.message({ text: "我可以", staffId: "boss" })), rt)).toMatchObject({ kind: "answer" });
  });

  it("in groups answers only when @-mentioned, and an empty @ gets a help line", async () => {
    const ignored = await say("大家好", { type: "group", mentioned: false });
    expect(ignored).toEqual({ action: "ignored", reason: "not_mentioned" });
    expect(w.dt.sent()).toHaveLength(0);

    await say("", { type: "group" });
    expect(w.dt.sent()[0]!.text).toContain("请在 @我 后面写上你的问题");
    expect(w.llm.chatRequests()).toHaveLength(0);

    w.llm.script({ text: "群里的回答" });
    await say("@小钉 今天开会吗", { type: "group", nick: "李四" });
    expect(w.dt.sent()[1]).toMatchObject({ conversationType: "group", text: "群里的回答" });
    const last = userMessages(0).at(-1)!;
    expect(last.content).toMatch(/^李四: .*今天开会吗$/);
  });

  it("keeps one context per group by default, and per sender when configured", async () => {
    const group = { type: "group" as const, conversationId: "cidScope==" };
    await say("A 说的话", { ...group, staffId: "a", nick: "A" });
    await say("B 说的话", { ...group, staffId: "b", nick: "B" });
    expect(userMessages(1).filter((m) => m.role === "user").map((m) => m.content)).toEqual(["A: A 说的话", "B: B 说的话"]);

    const config = parseConfig(JSON.parse(w.configJson) as object, w.env);
    config.dingtalk.groupScope = "sender";
    const rt = createRuntime(config, w.db.table, { log: w.log });
    const other = { type: "group" as const, conversationId: "cidPerSender==" };
    await handleMessage(w.parse(w.message({ text: "A 的第一句", ...other, staffId: "a" })), rt);
    await handleMessage(w.parse(w.message({ text: "B 的第一句", ...other, staffId: "b" })), rt);
    expect(userMessages(3).filter((m) => m.role !== "system")).toEqual([{ role: "user", content: "B 的第一句" }]);
  });

  it("recovers from a moderation refusal: plain answer, offending turn dropped, next message normal", async () => {
    const u = { staffId: "mod-user" };
    await say("正常的问题", u);
    w.llm.script({ fault: "moderation_dashscope" });
    const refused = await say("不当内容", u);
    expect(refused).toMatchObject({ kind: "llm_error", errorKind: "moderation" });
    expect(w.dt.sent().at(-1)!.text).toContain("拒绝了这条内容");
    expect(w.llm.chatRequests()).toHaveLength(2);

    await say("下一个问题", u);
    const contents = userMessages(2).filter((m) => m.role === "user").map((m) => m.content);
    expect(contents).toEqual(["正常的问题", "下一个问题"]);
  });

  it("falls back to the next model, and when all fail apologises plainly with the context intact", async () => {
    const config = parseConfig(
      { ...(JSON.parse(w.configJson) as object), agents: { defaults: { model_name: "glm", model_fallbacks: ["backup"] } } },
      w.env,
    );
    const rt = createRuntime(config, w.db.table, { log: w.log });
    const u = { staffId: "fail-user" };
    const ask = (text: string) => handleMessage(w.parse(w.message({ text, ...u })), rt);

    await ask("第一句");
    w.llm.script({ fault: "server_error", match: { model: "glm-4.7" } });
    expect(await ask("主模型挂了")).toMatchObject({ kind: "answer", modelName: "backup" });

    w.llm.script({ fault: "rate_limit", match: { model: "glm-4.7" } }, { fault: "unavailable", match: { model: "deepseek-chat" } });
    const failed = await ask("全都挂了");
    expect(failed).toMatchObject({ kind: "llm_error", errorKind: "server" });
    const apology = w.dt.sent().at(-1)!.text!;
    expect(apology).toMatch(/^抱歉/);
    expect(apology).not.toMatch(/Error|at .*\.ts|sk-/);

    await ask("恢复了吗");
    const users = (w.llm.chatRequests().at(-1)!.body as { messages: { role: string; content: string }[] }).messages
      .filter((m) => m.role === "user")
      .map((m) => m.content);
    expect(users).toEqual(["第一句", "主模型挂了", "恢复了吗"]);
  });

  it("answers unsupported message types with a clear note instead of silence", async () => {
    const video = w.message({ payload: { msgtype: "video", content: { duration: "5", downloadCode: "dc1", videoType: "mp4" } } });
    delete video.text;
    expect(await handleMessage(w.parse(video), w.runtime)).toMatchObject({ kind: "unsupported" });
    expect(w.dt.sent()[0]!.text).toContain("暂不支持视频");

    const audio = w.message({ payload: { msgtype: "audio", content: { duration: 3000, downloadCode: "dc2", recognition: "明天天气怎么样" } } });
    delete audio.text;
    w.llm.script({ text: "明天晴。" });
    expect(await handleMessage(w.parse(audio), w.runtime)).toMatchObject({ kind: "answer" });
    expect(userMessages(0).at(-1)!.content).toBe("明天天气怎么样");
  });

  it("splits a long answer into numbered parts within DingTalk's limits", async () => {
    const long = Array.from({ length: 30 }, (_, i) => `第${i + 1}段：${"这是一段很长的中文内容。".repeat(20)}`).join("\n\n");
    w.llm.script({ text: long });
    const out = await say("写长文", { staffId: "long-user" });
    expect(out).toMatchObject({ kind: "answer" });
    const parts = w.dt.sent();
    expect(parts.length).toBeGreaterThan(1);
    parts.forEach((p, i) => {
      expect(p.text!.length).toBeLessThanOrEqual(3500);
      expect(Buffer.byteLength(p.text!)).toBeLessThanOrEqual(15_000);
      expect(p.text).toContain(`(${i + 1}/${parts.length})`);
    });
  });
});
