// Rich-message pieces without servers: image sniffing, text decoding, file types, the vision model
// choice, the /help card's command links, links across split parts, the card streamer's pacing,
// and the new config fields with their errors.
import { describe, expect, it } from "vitest";
import { CardStreamer } from "../../functions/core/card-answer.js";
import { ConfigError, parseConfig } from "../../functions/core/config.js";
import { DingTalkApiError, apiError } from "../../functions/core/dingtalk/http.js";
import { splitText } from "../../functions/core/dingtalk/split.js";
import { decodeText, isTextFileName, sniffImage, toContent } from "../../functions/core/media.js";
import { chooseModel } from "../../functions/core/model-choice.js";
import { silentLogger } from "../../functions/core/log.js";
import { helpCard } from "../../functions/core/replies.js";
import { PNG, JPEG } from "../helpers/images.js";

const base = {
  model_list: [
    { model_name: "glm", model: "zhipu/glm-4.7", api_key: "k1-123456" },
    { model_name: "glm-v", model: "zhipu/glm-4v", api_key: "k2-123456", vision: true },
    { model_name: "qwen-vl", model: "qwen/qwen-vl-plus", api_key: "k3-123456", vision: true },
  ],
};

describe("media helpers", () => {
  it("recognises images by their bytes, not their names", () => {
    expect(sniffImage(PNG)).toBe("image/png");
    expect(sniffImage(JPEG)).toBe("image/jpeg");
    expect(sniffImage(Buffer.from("GIF89a...."))).toBe("image/gif");
    expect(sniffImage(Buffer.from("RIFF\0\0\0\0WEBPVP8 "))).toBe("image/webp");
    expect(sniffImage(Buffer.from("%PDF-1.7"))).toBeUndefined();
  });

  it("decodes UTF-8 (with or without BOM) and GB18030, and refuses binary", () => {
    expect(decodeText(Buffer.from("名称,数量\n苹果,3", "utf8"))).toBe("名称,数量\n苹果,3");
    expect(decodeText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("hi")]))).toBe("hi");
    const gbk = Buffer.from([0xc3, 0xfb, 0xb3, 0xc6, 0x2c, 0xca, 0xfd, 0xc1, 0xbf]); // "名称,数量" in GBK
    expect(decodeText(gbk)).toBe("名称,数量");
    expect(decodeText(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00]))).toBeUndefined();
  });

  it("reads text-like files and source code, not documents or archives", () => {
    for (const name of ["a.txt", "README.md", "数据.CSV", "x.json", "main.py", "App.tsx", "Dockerfile", "config.yaml"])
      expect([name, isTextFileName(name)]).toEqual([name, true]);
    for (const name of ["报告.pdf", "a.docx", "a.xlsx", "a.zip", "noext", "a.png", ""]) expect([name, isTextFileName(name)]).toEqual([name, false]);
  });

  it("builds text plus image parts only when there are images", () => {
    expect(toContent("hi", [])).toBe("hi");
    expect(toContent("看图", ["data:image/png;base64,AA==", "data:image/jpeg;base64,BB=="])).toEqual([
      { type: "text", text: "看图" },
      { type: "image_url", image_url: { url: "data:image/png;base64,AA==" } },
      { type: "image_url", image_url: { url: "data:image/jpeg;base64,BB==" } },
    ]);
  });
});

describe("chooseModel", () => {
  it("keeps text turns on the chosen model and switches picture turns to a vision model", () => {
    const cfg = parseConfig({ ...base, agents: { defaults: { model_name: "glm" } } });
    expect(chooseModel(cfg, undefined, false)).toEqual({ ok: true, modelName: undefined, needsVision: false, switchedForVision: false });
    expect(chooseModel(cfg, "glm", true)).toEqual({ ok: true, modelName: "glm-v", needsVision: true, switchedForVision: true });
    expect(chooseModel(cfg, "qwen-vl", true)).toEqual({ ok: true, modelName: "qwen-vl", needsVision: true, switchedForVision: false });
    const preferred = parseConfig({ ...base, agents: { defaults: { model_name: "glm", vision_model: "qwen-vl" } } });
    expect(chooseModel(preferred, undefined, true)).toMatchObject({ modelName: "qwen-vl", switchedForVision: true });
    const blind = parseConfig({ model_list: [base.model_list[0]] });
    expect(chooseModel(blind, undefined, true)).toEqual({ ok: false, reason: "no_vision_model" });
  });
});

describe("help card and links", () => {
  it("has buttons that send the commands through dtmd links", () => {
    const card = helpCard();
    expect(card.buttons.map((b) => b.url)).toEqual([
      "dtmd://dingtalkclient/sendMessage?content=%2Fnew",
      "dtmd://dingtalkclient/sendMessage?content=%2Fmodel",
      "dtmd://dingtalkclient/sendMessage?content=%2Fusage",
    ]);
    expect(card.text).toContain("/new");
  });

  it("never cuts a markdown link in two when splitting", () => {
    const link = "[一个 很长 的 链接 文本](https://example.com/x)";
    const parts = splitText(`前言 ${`${link} `.repeat(10)}`, { maxChars: 60, maxBytes: 1000 });
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.split("[").length).toBe(p.split("](").length);
  });
});

describe("CardStreamer", () => {
  function harness(opts: { ready?: boolean; fail?: (n: number) => Error | undefined; hold?: boolean; maxBytes?: number } = {}) {
    let t = 0;
    const bodies: Array<Record<string, unknown>> = [];
    const errors: unknown[] = [];
    const releases: Array<() => void> = [];
    const client = {
      callOpenApi: (req: { body: unknown }) => {
        bodies.push(req.body as Record<string, unknown>);
        const err = opts.fail?.(bodies.length);
        if (err) return Promise.reject(err);
        if (opts.hold) return new Promise((resolve) => releases.push(() => resolve({ success: true, result: true })));
        return Promise.resolve({ success: true, result: true });
      },
    } as unknown as ConstructorParameters<typeof CardStreamer>[0]["client"];
    const streamer = new CardStreamer({
      client,
      template: { templateId: "t.schema", contentKey: "content" },
      outTrackId: "card-1",
      intervalMs: 500,
      maxBytes: opts.maxBytes ?? 3000,
      now: () => t,
      log: silentLogger,
      ready: Promise.resolve(opts.ready ?? true),
      onError: (e) => (errors.push(e), Promise.resolve()),
    });
    const settle = () => new Promise((r) => setTimeout(r, 0));
    return { streamer, bodies, errors, releases, settle, at: (ms: number) => (t = ms) };
  }

  it("sends the full text at most once per interval, then finalizes", async () => {
    const h = harness();
    for (const [ms, text] of [[0, "一"], [100, "一二"], [499, "一二三"], [500, "一二三四"], [700, "一二三四五"], [1100, "一二三四五六"]] as const) {
      h.at(ms);
      h.streamer.push(text);
      await h.settle();
    }
    expect(h.bodies.map((b) => b.content)).toEqual(["一", "一二三四", "一二三四五六"]);
    await h.streamer.end("一二三四五六七");
    expect(h.bodies.at(-1)).toMatchObject({ content: "一二三四五六七", isFull: true, isFinalize: true, isError: false, key: "content" });
    expect(new Set(h.bodies.map((b) => b.guid)).size).toBe(h.bodies.length);
    expect(h.streamer.updates).toBe(3);
  });

  it("keeps one update in flight, skips unchanged text and marks failures", async () => {
    const h = harness({ hold: true });
    h.streamer.push("甲");
    await h.settle();
    h.at(600);
    h.streamer.push("甲乙");
    await h.settle();
    expect(h.bodies).toHaveLength(1);
    h.releases.shift()!();
    await h.settle();
    h.at(700);
    h.streamer.push("甲乙");
    await h.settle();
    expect(h.bodies.map((b) => b.content)).toEqual(["甲", "甲乙"]);
    h.releases.shift()!();
    await h.settle();
    h.at(5000);
    h.streamer.push("甲乙");
    await h.settle();
    expect(h.bodies).toHaveLength(2);
    const ending = h.streamer.end("出错了", true);
    await h.settle();
    h.releases.shift()!();
    await ending;
    expect(h.bodies.at(-1)).toMatchObject({ content: "出错了", isError: true, isFinalize: false });
  });

  it("stops after a failed update and tells the governor; sends nothing when the card was never made", async () => {
    const quota = apiError("card.streaming", 403, "Forbidden.AccessDenied.ApiCountLimitForOrg", "quota");
    const h = harness({ fail: (n) => (n === 1 ? quota : undefined) });
    h.streamer.push("a");
    await h.settle();
    h.at(1000);
    h.streamer.push("ab");
    await h.settle();
    expect(h.bodies).toHaveLength(1);
    expect(h.errors).toEqual([quota]);
    expect(h.errors[0]).toBeInstanceOf(DingTalkApiError);

    const none = harness({ ready: false });
    none.streamer.push("a");
    await none.settle();
    expect(none.bodies).toHaveLength(0);
  });
});

describe("config: rich-message fields", () => {
  it("has defaults and reads every field", () => {
    const cfg = parseConfig({ ...base, channels: { dingtalk: { client_id: "dingA", client_secret: "secret-123456" } } });
    expect(cfg.dingtalk.cards).toEqual({ mode: "off", templateId: undefined, contentKey: "content", updateIntervalMs: 500, maxBytes: 3000 });
    expect(cfg.dingtalk.apiQps).toBe(15);
    expect(cfg.dingtalk.apiMonthlyBudget).toBe(5000);
    expect(cfg.dingtalk.media).toEqual({ fileMaxBytes: 100_000, imageMaxBytes: 3_145_728, downloadTimeoutMs: 15_000 });
    const custom = parseConfig({
      ...base,
      agents: { defaults: { vision_model: "qwen-vl" } },
      channels: {
        dingtalk: {
          card_mode: "answer",
          card_template_id: "tpl.schema",
          card_content_key: "msgContent",
          card_update_interval_ms: 800,
          card_max_bytes: 1000,
          api_qps: 5,
          api_monthly_budget: 20000,
          file_max_bytes: 5000,
          image_max_bytes: 1000000,
          download_timeout_ms: 5000,
        },
      },
    });
    expect(custom.dingtalk.cards).toEqual({ mode: "answer", templateId: "tpl.schema", contentKey: "msgContent", updateIntervalMs: 800, maxBytes: 1000 });
    expect(custom.dingtalk.apiQps).toBe(5);
    expect(custom.dingtalk.apiMonthlyBudget).toBe(20000);
    expect(custom.dingtalk.media).toEqual({ fileMaxBytes: 5000, imageMaxBytes: 1_000_000, downloadTimeoutMs: 5000 });
    expect(custom.agent.visionModel).toBe("qwen-vl");
  });

  it("names the field and gives an example for each mistake", () => {
    const problems = (raw: object) => {
      try {
        parseConfig(raw);
      } catch (err) {
        if (err instanceof ConfigError) return err.problems.join("\n");
        throw err;
      }
      return "";
    };
    expect(problems({ channels: { dingtalk: { card_mode: "answer" } } })).toMatch(/channels\.dingtalk\.card_template_id: is required when card_mode is "answer" \(example: ".*\.schema"\)/);
    expect(problems({ channels: { dingtalk: { card_mode: "stream" } } })).toMatch(/channels\.dingtalk\.card_mode: .*\(example: "answer"\)/);
    expect(problems({ channels: { dingtalk: { card_update_interval_ms: 10 } } })).toMatch(/card_update_interval_ms: must be at least 100 \(example: 500\)/);
    expect(problems({ ...base, agents: { defaults: { vision_model: "glm" } } })).toMatch(/agents\.defaults\.vision_model: "glm" has no model_list entry with "vision": true/);
    expect(problems({ ...base, agents: { defaults: { vision_model: "nope" } } })).toMatch(/vision_model: "nope" names no model_list entry/);
  });
});
