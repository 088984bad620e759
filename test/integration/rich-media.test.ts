// Rich messages in and out, end to end through the DingTalk double (file download, sends), the LLM
// double (image parts recorded, vision-only models) and the real table: pictures to a vision model,
// several pictures in one richText, text files, unsupported types, /help as an ActionCard, links.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { handleMessage, scopeKey } from "../../functions/core/agent.js";
import { parseConfig } from "../../functions/core/config.js";
import { startGateway } from "../../functions/core/gateway/start.js";
import { createRuntime, type Runtime } from "../../functions/core/runtime.js";
import { JPEG, PNG } from "../helpers/images.js";
import { signedHeaders } from "../helpers/messages.js";
import { CLIENT_ID, CLIENT_SECRET, LLM_KEY, startWorld, type World } from "../helpers/world.js";

let w: World;
let rt: Runtime;
let blind: Runtime;
let rawConfig: { model_list: object[]; channels: { dingtalk: Record<string, unknown> } };

beforeAll(async () => {
  w = await startWorld();
  w.llm.setVisionModels(["qwen-vl-plus"]);
  const raw = JSON.parse(w.configJson) as { model_list: object[]; channels: { dingtalk: Record<string, unknown> } };
  raw.model_list.push({ model_name: "qwen-vl", model: "qwen/qwen-vl-plus", api_key: LLM_KEY, api_base: w.llm.url, vision: true });
  raw.channels.dingtalk.file_max_bytes = 2000;
  raw.channels.dingtalk.image_max_bytes = 1000;
  rawConfig = raw;
  rt = createRuntime(parseConfig(raw, w.env), w.db.table, { log: w.log, sleep: () => Promise.resolve() });
  blind = w.runtime;
});
afterAll(() => w.close());
afterEach(() => {
  w.dt.reset();
  w.llm.reset();
});

type Sent = { role: string; content: string | Array<{ type: string; text?: string; image_url?: { url: string } }> };
const lastRequest = () => w.llm.chatRequests().at(-1)!;
const messages = () => (lastRequest().body as { messages: Sent[] }).messages;

function media(payload: Record<string, unknown>, o: Parameters<World["message"]>[0] = {}) {
  const body = w.message({ ...o, payload });
  delete body.text;
  return w.parse(body);
}

const picture = (code: string, o: Parameters<World["message"]>[0] = {}) => media({ msgtype: "picture", content: { downloadCode: code } }, o);
const file = (code: string, fileName: string, o: Parameters<World["message"]>[0] = {}) =>
  media({ msgtype: "file", content: { downloadCode: code, fileName } }, o);

describe("pictures", () => {
  it("downloads a picture and hands it to the vision model for that turn only", async () => {
    const code = w.dt.addFile(PNG, { fileName: "a.file", contentType: "application/octet-stream" });
    w.llm.script({ text: "这是一张透明的小图片。" });
    const out = await handleMessage(picture(code, { staffId: "pic-user" }), rt);
    expect(out).toMatchObject({ action: "replied", kind: "answer", modelName: "qwen-vl", images: 1 });

    const download = w.dt.callsTo("robot.messageFiles.download");
    expect(download).toHaveLength(1);
    expect(download[0]!.body).toEqual({ downloadCode: code, robotCode: CLIENT_ID });
    expect(lastRequest().model).toBe("qwen-vl-plus");
    expect(lastRequest().images).toEqual([`data:image/png;base64,${PNG.toString("base64")}`]);
    expect(messages().at(-1)!.content).toEqual([
      { type: "text", text: "[图片]" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${PNG.toString("base64")}` } },
    ]);
    expect(w.dt.sent().map((s) => s.text)).toEqual(["这是一张透明的小图片。"]);

    await handleMessage(w.parse(w.message({ text: "刚才那张图是什么颜色？", staffId: "pic-user" })), rt);
    expect(lastRequest().model).toBe("glm-4.7");
    expect(lastRequest().images).toEqual([]);
    expect(messages().filter((m) => m.role !== "system")).toEqual([
      { role: "user", content: "[图片]" },
      { role: "assistant", content: "这是一张透明的小图片。" },
      { role: "user", content: "刚才那张图是什么颜色？" },
    ]);
  });

  it("sends every picture of a richText message, with its text, in one request", async () => {
    const codes = [w.dt.addFile(PNG), w.dt.addFile(JPEG), w.dt.addFile(PNG)];
    const msg = media({
      msgtype: "richText",
      content: {
        richText: [
          { text: "比较这三张图" },
          { type: "picture", downloadCode: codes[0] },
          { text: "还有" },
          { type: "picture", downloadCode: codes[1], pictureDownloadCode: "ignored" },
          { type: "picture", pictureDownloadCode: codes[2] },
        ],
      },
    }, { type: "group", nick: "王五" });
    expect(await handleMessage(msg, rt)).toMatchObject({ kind: "answer", images: 3 });
    expect(w.llm.chatRequests()).toHaveLength(1);
    expect(lastRequest().images.map((u) => u.slice(0, 22))).toEqual(["data:image/png;base64,", "data:image/jpeg;base64", "data:image/png;base64,"]);
    const parts = messages().at(-1)!.content as Array<{ type: string; text?: string }>;
    expect(parts[0]).toEqual({ type: "text", text: "王五: 比较这三张图\n还有" });
    const conversation = await rt.conversations.load(scopeKey(msg, "conversation"));
    expect(conversation.turns.at(-2)!.content).toBe("[图片×3] 比较这三张图\n还有");
  });

  it("uses the current model when it has vision, and says clearly when no model can see", async () => {
    const u = { staffId: "vision-chooser" };
    await handleMessage(w.parse(w.message({ text: "/model qwen-vl", ...u })), rt);
    await handleMessage(picture(w.dt.addFile(PNG), u), rt);
    expect(lastRequest().model).toBe("qwen-vl-plus");

    w.llm.reset();
    w.dt.reset();
    const out = await handleMessage(picture(w.dt.addFile(PNG)), blind);
    expect(out).toMatchObject({ kind: "unsupported" });
    expect(w.dt.sent().at(-1)!.text).toContain("没有配置能看图片的模型");
    expect(w.llm.chatRequests()).toHaveLength(0);
    expect(w.dt.callsTo("robot.messageFiles.download")).toHaveLength(0);
  });

  it("answers plainly for a picture too large, not an image, or not downloadable", async () => {
    await handleMessage(picture(w.dt.addFile(Buffer.alloc(5000, 1))), rt);
    expect(w.dt.sent().at(-1)!.text).toMatch(/图片太大了（上限 1000 字节）/);
    await handleMessage(picture(w.dt.addFile(Buffer.from("not an image at all"))), rt);
    expect(w.dt.sent().at(-1)!.text).toContain("格式无法识别");
    await handleMessage(picture("dcExpiredCode"), rt);
    expect(w.dt.sent().at(-1)!.text).toContain("没能从钉钉取到这个图片");
    expect(w.llm.chatRequests()).toHaveLength(0);
  });
});

describe("files", () => {
  it("reads a text file and gives it to the model with its name", async () => {
    const code = w.dt.addFile("名称,数量\n苹果,3\n香蕉,5\n", { fileName: "库存.csv" });
    w.llm.script({ text: "库存里有苹果 3 个、香蕉 5 个。" });
    expect(await handleMessage(file(code, "库存.csv"), rt)).toMatchObject({ kind: "answer" });
    const text = messages().at(-1)!.content as string;
    expect(text).toContain("「库存.csv」");
    expect(text).toContain('<file name="库存.csv">\n名称,数量\n苹果,3\n香蕉,5\n\n</file>');
    expect(lastRequest().model).toBe("glm-4.7");
  });

  it("reads GB18030 text, and refuses binaries, big files and other types with a clear reply", async () => {
    const gbk = Buffer.from([0xc3, 0xfb, 0xb3, 0xc6, 0x2c, 0xca, 0xfd, 0xc1, 0xbf]);
    await handleMessage(file(w.dt.addFile(gbk), "表.csv"), rt);
    expect(messages().at(-1)!.content as string).toContain("名称,数量");

    await handleMessage(file(w.dt.addFile(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0])), "notes.txt"), rt);
    expect(w.dt.sent().at(-1)!.text).toContain("不是文本文件");
    await handleMessage(file(w.dt.addFile("x".repeat(3000)), "big.log"), rt);
    expect(w.dt.sent().at(-1)!.text).toContain("文件太大了（上限 2 KB）");

    const downloads = w.dt.callsTo("robot.messageFiles.download").length;
    const out = await handleMessage(file(w.dt.addFile("%PDF-1.7"), "季度报告.pdf"), rt);
    expect(out).toMatchObject({ kind: "unsupported" });
    expect(w.dt.sent().at(-1)!.text).toMatch(/暂不支持「季度报告\.pdf」这种文件。目前能读取文本类文件：txt、md、csv、json/);
    expect(w.dt.callsTo("robot.messageFiles.download")).toHaveLength(downloads);
    expect(w.llm.chatRequests()).toHaveLength(1);
  });
});

describe("other types", () => {
  it("audio uses the recognition text (or says it heard nothing); video is not supported yet", async () => {
    w.llm.script({ text: "好的。" });
    await handleMessage(media({ msgtype: "audio", content: { downloadCode: "dcA", duration: 2000, recognition: "帮我写个周报" } }), rt);
    expect(messages().at(-1)!.content).toBe("帮我写个周报");
    await handleMessage(media({ msgtype: "audio", content: { downloadCode: "dcA", duration: 2000, recognition: "" } }), rt);
    expect(w.dt.sent().at(-1)!.text).toContain("没有听清这条语音");
    await handleMessage(media({ msgtype: "video", content: { downloadCode: "dcV", duration: 5, videoType: "mp4" } }), rt);
    expect(w.dt.sent().at(-1)!.text).toContain("暂不支持视频消息");
    expect(w.llm.chatRequests()).toHaveLength(1);
    expect(w.dt.callsTo("robot.messageFiles.download")).toHaveLength(0);
  });
});

describe("replies", () => {
  it("/help in 1:1 is an ActionCard whose buttons send the commands; groups get markdown", async () => {
    expect(await handleMessage(w.parse(w.message({ text: "/help" })), rt)).toMatchObject({ kind: "help", route: "webhook" });
    const card = w.dt.sent().at(-1)!;
    expect(card).toMatchObject({ msgtype: "actionCard", title: "我是 AI 助手" });
    expect(card.buttons).toEqual([
      { title: "开始新对话", url: "dtmd://dingtalkclient/sendMessage?content=%2Fnew" },
      { title: "查看模型", url: "dtmd://dingtalkclient/sendMessage?content=%2Fmodel" },
      { title: "查看用量", url: "dtmd://dingtalkclient/sendMessage?content=%2Fusage" },
    ]);

    await handleMessage(w.parse(w.message({ text: "/help", type: "group" })), rt);
    expect(w.dt.sent().at(-1)).toMatchObject({ msgtype: "markdown" });
    expect(w.dt.sent().at(-1)!.text).toContain("/new");
  });

  it("/help degrades to markdown when the card cannot be sent", async () => {
    w.dt.fault({ route: "robot.sendBySession", status: 200, body: { errcode: 40035, errmsg: "不支持的消息类型" } });
    expect(await handleMessage(w.parse(w.message({ text: "/help" })), rt)).toMatchObject({ kind: "help" });
    expect(w.dt.sent()).toHaveLength(1);
    expect(w.dt.sent()[0]).toMatchObject({ msgtype: "markdown" });
    expect(w.dt.sent()[0]!.text).toContain("`/new`");
    expect(w.lines.some((l) => l.includes("help card not delivered"))).toBe(true);
  });

  it("keeps links clickable", async () => {
    w.llm.script({ text: "文档在 https://open.dingtalk.com/document/a_b 和 [这里](https://example.com/x)。" });
    await handleMessage(w.parse(w.message({ text: "文档在哪" })), rt);
    expect(w.dt.sent().at(-1)!.text).toBe(
      "文档在 [https://open.dingtalk.com/document/a_b](https://open.dingtalk.com/document/a_b) 和 [这里](https://example.com/x)。",
    );
  });
});

describe("through the gateway", () => {
  it("a picture posted to the HTTP callback reaches the vision model and the answer reaches the chat", async () => {
    const config = parseConfig({ ...rawConfig, channels: { dingtalk: { ...rawConfig.channels.dingtalk, mode: "http" } } }, w.env);
    const gateway = await startGateway({ config, log: w.log, port: 0, host: "127.0.0.1", table: w.db.table });
    try {
      const body = w.message({ payload: { msgtype: "picture", content: { downloadCode: w.dt.addFile(JPEG) } } });
      delete body.text;
      w.llm.script({ text: "一张白色的图片。" });
      const res = await fetch(`${gateway.url}/callback`, { method: "POST", headers: signedHeaders(CLIENT_SECRET), body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      await gateway.dispatcher.idle();
      expect(w.dt.sent().map((m) => m.text)).toEqual(["一张白色的图片。"]);
      expect(lastRequest()).toMatchObject({ model: "qwen-vl-plus", images: [`data:image/jpeg;base64,${JPEG.toString("base64")}`] });
    } finally {
      await gateway.close(1000);
    }
  });
});
