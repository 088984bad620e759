// LLM client against the LLM double over real HTTP with the real openai SDK: fallback order, rotation,
// timeouts, moderation, usage, streaming, malformed answers, and which key went to which base URL.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { parseConfig, type AppConfig } from "../../functions/core/config.js";
import { LlmClient, LlmError, type ChatMessage } from "../../functions/core/llm/index.js";
import { createLogger } from "../../functions/core/log.js";
import { startLlmDouble, type LlmDouble } from "../doubles/llm/server.js";
import { rejection } from "../helpers/rejection.js";

const KEY_A = "sk-alpha-key-0001";
const KEY_B = "sk-bravo-key-0002";
const KEY_C = "sk-charlie-key-0003";
const hi: ChatMessage[] = [{ role: "user", content: "你好" }];

let A: LlmDouble;
let B: LlmDouble;
let C: LlmDouble;

beforeAll(async () => {
  [A, B, C] = await Promise.all([
    startLlmDouble({ keys: [KEY_A] }),
    startLlmDouble({ keys: [KEY_B], basePath: "/api/paas/v4" }),
    startLlmDouble({ keys: [KEY_C], basePath: "/compatible-mode/v1" }),
  ]);
});
afterEach(() => {
  for (const d of [A, B, C]) d.reset();
});
afterAll(async () => {
  await Promise.all([A, B, C].map((d) => d.close()));
});

interface Entry {
  name: string;
  model: string;
  at: LlmDouble;
  key: string;
  vision?: boolean;
}

function configOf(
  entries: Entry[],
  defaults: Record<string, unknown> = {},
  timeoutMs = 400,
): Pick<AppConfig, "models" | "agent"> {
  const cfg = parseConfig({
    agents: { defaults: { model_name: entries[0]?.name, ...defaults } },
    model_list: entries.map((e) => ({
      model_name: e.name,
      model: e.model,
      api_key: e.key,
      api_base: e.at.url,
      ...(e.vision ? { vision: true } : {}),
    })),
  });
  return { models: cfg.models, agent: { ...cfg.agent, llmTimeoutMs: timeoutMs } };
}

const failure = (p: Promise<unknown>) => rejection(p, LlmError);

describe("LlmClient chain and endpoints", () => {
  it("sends the model id after the provider prefix, and each key only to its own base URL", async () => {
    A.fault("server_error", { sticky: true });
    B.fault("server_error", { sticky: true });
    const llm = new LlmClient(
      configOf(
        [
          { name: "glm", model: "zhipu/glm-4.7", at: A, key: KEY_A },
          { name: "qwen", model: "qwen/qwen-plus", at: B, key: KEY_B },
          { name: "deep", model: "openai/vendor/deep-v3", at: C, key: KEY_C },
        ],
        { model_fallbacks: ["qwen", "deep"] },
      ),
    );
    const res = await llm.chat({ messages: hi });
    expect(res.text).toBe("echo: 你好");
    expect(res.modelName).toBe("deep");
    expect(A.chatRequests().map((r) => r.model)).toEqual(["glm-4.7"]);
    expect(B.chatRequests().map((r) => r.model)).toEqual(["qwen-plus"]);
    expect(C.chatRequests().map((r) => r.model)).toEqual(["vendor/deep-v3"]);
    for (const [d, key] of [
      [A, KEY_A],
      [B, KEY_B],
      [C, KEY_C],
    ] as const) {
      expect(d.requests.length).toBeGreaterThan(0);
      for (const r of d.requests) expect(r.headers.authorization).toBe(`Bearer ${key}`);
    }
    expect(B.requests[0]!.path).toBe("/api/paas/v4/chat/completions");
  });

  it("never lets a key follow a redirect to another host", async () => {
    A.fault("redirect", { location: `${C.url}/chat/completions` });
    const llm = new LlmClient(configOf([{ name: "glm", model: "zhipu/glm-4.7", at: A, key: KEY_A }]));
    const err = await failure(llm.chat({ messages: hi }));
    expect(err.kind).toBe("network");
    expect(C.requests).toHaveLength(0);
  });

  it("walks the chain in order: primary, then fallbacks, recording every attempt", async () => {
    A.fault("server_error", { sticky: true });
    B.fault("rate_limit", { sticky: true, retryAfter: 7 });
    const cfg = configOf(
      [
        { name: "first", model: "zhipu/glm-4.7", at: A, key: KEY_A },
        { name: "second", model: "qwen/qwen-plus", at: B, key: KEY_B },
        { name: "third", model: "deepseek/deepseek-chat", at: C, key: KEY_C },
      ],
      { model_fallbacks: ["second", "third", "second"] },
    );
    const llm = new LlmClient(cfg);
    expect(llm.chain()).toEqual(["first", "second", "third"]);
    expect(llm.chain("third")).toEqual(["third", "second"]);
    const res = await llm.chat({ messages: hi });
    expect(res.attempts.map((a) => [a.modelName, a.kind, a.status])).toEqual([
      ["first", "server", 500],
      ["second", "rate_limit", 429],
      ["third", "ok", undefined],
    ]);
    expect(res.totalMs).toBeGreaterThanOrEqual(0);
  });

  it("starts at req.modelName when given", async () => {
    const llm = new LlmClient(
      configOf(
        [
          { name: "first", model: "zhipu/glm-4.7", at: A, key: KEY_A },
          { name: "second", model: "qwen/qwen-plus", at: B, key: KEY_B },
        ],
        { model_fallbacks: ["second"] },
      ),
    );
    const res = await llm.chat({ messages: hi, modelName: "second" });
    expect(res.modelName).toBe("second");
    expect(A.requests).toHaveLength(0);
  });

  it("rotates the starting endpoint among entries sharing a model_name", async () => {
    const llm = new LlmClient(
      configOf([
        { name: "glm", model: "zhipu/glm-4.7", at: A, key: KEY_A },
        { name: "glm", model: "zhipu/glm-4.7", at: B, key: KEY_B },
      ]),
    );
    const first = await llm.chat({ messages: hi });
    const second = await llm.chat({ messages: hi });
    expect(first.attempts).toHaveLength(1);
    expect(second.attempts).toHaveLength(1);
    expect(new Set([first.attempts[0]!.endpoint, second.attempts[0]!.endpoint])).toEqual(new Set([0, 1]));
    expect(A.chatRequests()).toHaveLength(1);
    expect(B.chatRequests()).toHaveLength(1);
  });

  it("tries a name's other endpoints before the next name, each endpoint at most once", async () => {
    A.fault("unavailable", { sticky: true });
    B.fault("auth", { sticky: true });
    const llm = new LlmClient(
      configOf(
        [
          { name: "glm", model: "zhipu/glm-4.7", at: A, key: KEY_A },
          { name: "glm", model: "zhipu/glm-4.7", at: B, key: KEY_B },
          { name: "qwen", model: "qwen/qwen-plus", at: C, key: KEY_C },
        ],
        { model_fallbacks: ["qwen", "glm"] },
      ),
    );
    const res = await llm.chat({ messages: hi });
    expect(res.attempts.map((a) => [a.modelName, a.kind])).toEqual([
      ["glm", "server"],
      ["glm", "auth"],
      ["qwen", "ok"],
    ]);
    expect(A.chatRequests()).toHaveLength(1);
    expect(B.chatRequests()).toHaveLength(1);
  });

  it("abandons a hanging endpoint after llmTimeoutMs, aborting its request, and the next answers", async () => {
    A.fault("hang");
    const llm = new LlmClient(
      configOf(
        [
          { name: "slow", model: "zhipu/glm-4.7", at: A, key: KEY_A },
          { name: "fast", model: "qwen/qwen-plus", at: B, key: KEY_B },
        ],
        { model_fallbacks: ["fast"] },
        300,
      ),
    );
    const res = await llm.chat({ messages: hi });
    expect(res.modelName).toBe("fast");
    expect(res.attempts[0]).toMatchObject({ modelName: "slow", kind: "timeout" });
    await vi.waitFor(() => expect(A.requests[0]!.aborted).toBe(true));
  });

  it("treats a stream that stalls longer than llmTimeoutMs between chunks as a timeout", async () => {
    A.script({ text: "slow slow slow", chunkDelayMs: 2_000 });
    const llm = new LlmClient(
      configOf(
        [
          { name: "slow", model: "zhipu/glm-4.7", at: A, key: KEY_A },
          { name: "fast", model: "qwen/qwen-plus", at: B, key: KEY_B },
        ],
        { model_fallbacks: ["fast"] },
        300,
      ),
    );
    const seen: string[] = [];
    const res = await llm.chat({ messages: hi, onText: (t) => seen.push(t) });
    expect(res.attempts.map((a) => a.kind)).toEqual(["timeout", "ok"]);
    expect(res.text).toBe("echo: 你好");
    expect(seen.at(-1)).toBe("echo: 你好");
    await vi.waitFor(() => expect(A.requests[0]!.aborted).toBe(true));
  });

  it("throws no_model when nothing is configured or no vision endpoint exists", async () => {
    const empty = new LlmClient(configOf([]));
    expect(empty.chain()).toEqual([]);
    expect((await failure(empty.chat({ messages: hi }))).kind).toBe("no_model");
    const textOnly = new LlmClient(configOf([{ name: "glm", model: "zhipu/glm-4.7", at: A, key: KEY_A }]));
    const err = await failure(textOnly.chat({ messages: hi, needsVision: true }));
    expect(err.kind).toBe("no_model");
    expect(A.requests).toHaveLength(0);
  });

  it("sends images only to vision endpoints, and the image parts arrive intact", async () => {
    const llm = new LlmClient(
      configOf(
        [
          { name: "text", model: "deepseek/deepseek-chat", at: A, key: KEY_A },
          { name: "eyes", model: "qwen/qwen-vl-plus", at: B, key: KEY_B, vision: true },
        ],
        { model_fallbacks: ["eyes"] },
      ),
    );
    const url = "data:image/png;base64,iVBORw0KGgo=";
    const res = await llm.chat({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "what is this" },
            { type: "image_url", image_url: { url } },
          ],
        },
      ],
      needsVision: true,
    });
    expect(res.modelName).toBe("eyes");
    expect(res.text).toBe("echo: what is this");
    expect(A.requests).toHaveLength(0);
    expect(B.chatRequests()[0]!.images).toEqual([url]);
  });

  it("passes max_tokens and temperature from the config", async () => {
    const llm = new LlmClient(
      configOf([{ name: "glm", model: "zhipu/glm-4.7", at: A, key: KEY_A }], { max_tokens: 321, temperature: 0.3 }),
    );
    await llm.chat({ messages: hi });
    expect(A.chatRequests()[0]!.body).toMatchObject({ max_tokens: 321, temperature: 0.3 });
  });
});

describe("LlmClient error handling", () => {
  const twoNames = () =>
    configOf(
      [
        { name: "glm", model: "zhipu/glm-4.7", at: A, key: KEY_A },
        { name: "glm", model: "zhipu/glm-4.7", at: C, key: KEY_C },
        { name: "qwen", model: "qwen/qwen-plus", at: B, key: KEY_B },
      ],
      { model_fallbacks: ["qwen"] },
    );

  for (const fault of ["moderation_dashscope", "moderation_zhipu", "moderation_moonshot"] as const) {
    it(`stops the chain on ${fault}: no retry on the same name, nothing passed down`, async () => {
      A.fault(fault, { sticky: true });
      C.fault(fault, { sticky: true });
      const err = await failure(new LlmClient(twoNames()).chat({ messages: hi }));
      expect(err.kind).toBe("moderation");
      expect(err.status).toBe(400);
      expect(err.attempts).toHaveLength(1);
      expect(A.chatRequests().length + C.chatRequests().length).toBe(1);
      expect(B.requests).toHaveLength(0);
    });
  }

  for (const fault of ["midstream_moderation", "midstream_error"] as const) {
    it(`turns ${fault} during a stream into a moderation error`, async () => {
      A.fault(fault, { sticky: true, text: "部分内容" });
      C.fault(fault, { sticky: true, text: "部分内容" });
      const err = await failure(new LlmClient(twoNames()).chat({ messages: hi, onText: () => {} }));
      expect(err.kind).toBe("moderation");
      expect(err.attempts).toHaveLength(1);
      expect(B.requests).toHaveLength(0);
    });
  }

  it("turns finish_reason sensitive in a plain response into a moderation error", async () => {
    A.fault("midstream_moderation", { sticky: true });
    C.fault("midstream_moderation", { sticky: true });
    const err = await failure(new LlmClient(twoNames()).chat({ messages: hi }));
    expect(err.kind).toBe("moderation");
  });

  it("stops on context length too", async () => {
    A.fault("context_length", { sticky: true });
    C.fault("context_length", { sticky: true });
    const err = await failure(new LlmClient(twoNames()).chat({ messages: hi }));
    expect(err.kind).toBe("context_length");
    expect(B.requests).toHaveLength(0);
  });

  for (const [fault, kind] of [
    ["quota_zhipu", "quota"],
    ["quota_dashscope", "quota"],
    ["quota_deepseek", "quota"],
    ["quota_openai", "quota"],
    ["rate_limit", "rate_limit"],
    ["server_error", "server"],
    ["unavailable", "server"],
    ["auth", "auth"],
    ["drop", "network"],
    ["malformed", "server"],
    ["bad_shape", "server"],
  ] as const) {
    it(`moves on after ${fault} (${kind}), streaming or not`, async () => {
      for (const stream of [false, true]) {
        A.fault(fault);
        C.fault(fault);
        const res = await new LlmClient(twoNames()).chat({ messages: hi, ...(stream ? { onText: () => {} } : {}) });
        expect(res.text).toBe("echo: 你好");
        expect(res.attempts.map((a) => [a.modelName, a.kind])).toEqual([
          ["glm", kind],
          ["glm", kind],
          ["qwen", "ok"],
        ]);
        for (const d of [A, B, C]) d.reset();
      }
    });
  }

  it("when every endpoint fails, throws the last kind with every attempt and no key anywhere", async () => {
    A.fault("server_error", { sticky: true });
    C.fault("auth", { sticky: true });
    B.fault("rate_limit", { sticky: true });
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), level: "debug" });
    const err = await failure(new LlmClient(twoNames(), { log }).chat({ messages: hi, requestId: "req-42" }));
    expect(err.kind).toBe("rate_limit");
    expect(err.status).toBe(429);
    expect(err.modelName).toBe("qwen");
    expect(err.attempts.map((a) => a.kind).sort()).toEqual(["auth", "rate_limit", "server"]);
    const everything = JSON.stringify({ message: err.message, attempts: err.attempts, lines });
    for (const key of [KEY_A, KEY_B, KEY_C]) expect(everything).not.toContain(key);
    expect(everything).not.toContain("sk-");
    const attemptLines = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => "kind" in l);
    expect(attemptLines).toHaveLength(3);
    for (const l of attemptLines) {
      expect(l.requestId).toBe("req-42");
      expect(["zhipu", "qwen"]).toContain(l.provider);
    }
  });

  it("stops when the caller aborts", async () => {
    A.fault("hang");
    const ctl = new AbortController();
    const pending = new LlmClient(twoNames()).chat({ messages: hi, signal: ctl.signal });
    await vi.waitFor(() => expect(A.requests.length + C.requests.length).toBe(1));
    ctl.abort();
    const err = await failure(pending);
    expect(err.aborted).toBe(true);
    expect(B.requests).toHaveLength(0);
  });
});

describe("LlmClient answers", () => {
  const one = () => configOf([{ name: "glm", model: "zhipu/glm-4.7", at: A, key: KEY_A }]);

  it("surfaces the provider's usage, streaming or not", async () => {
    const usage = { prompt_tokens: 11, completion_tokens: 22, total_tokens: 33 };
    A.script({ text: "一", usage }, { text: "二", usage });
    const llm = new LlmClient(one());
    for (const res of [await llm.chat({ messages: hi }), await llm.chat({ messages: hi, onText: () => {} })])
      expect(res.usage).toEqual({ promptTokens: 11, completionTokens: 22, totalTokens: 33 });
    expect(A.chatRequests()[1]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("estimates usage, and says so, when the provider reports none", async () => {
    A.script({ text: "你好，世界", usage: false }, { text: "你好，世界", usage: false });
    const llm = new LlmClient(one());
    for (const res of [await llm.chat({ messages: hi }), await llm.chat({ messages: hi, onText: () => {} })]) {
      expect(res.usage.estimated).toBe(true);
      expect(res.usage.completionTokens).toBeGreaterThan(0);
      expect(res.usage.totalTokens).toBe(res.usage.promptTokens + res.usage.completionTokens);
    }
  });

  it("streams accumulated visible text via onText, without reasoning_content or <think> blocks", async () => {
    A.script({
      reasoning: "SECRET-REASONING step by step",
      think: "HIDDEN-THOUGHT",
      text: "第一段。\n\n第二段 done",
      chunkSize: 3,
    });
    const seen: string[] = [];
    const res = await new LlmClient(one()).chat({ messages: hi, onText: (t) => seen.push(t) });
    expect(res.text).toBe("第一段。\n\n第二段 done");
    expect(res.firstTokenMs).toBeGreaterThanOrEqual(0);
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.at(-1)).toBe(res.text);
    for (const [i, t] of seen.entries()) {
      expect(t).not.toMatch(/SECRET|HIDDEN|<|think/);
      if (i > 0) expect(t.startsWith(seen[i - 1]!)).toBe(true);
    }
  });

  it("removes <think> blocks from plain responses too", async () => {
    A.script({ think: "let me think", reasoning: "more", text: "答案" });
    const res = await new LlmClient(one()).chat({ messages: hi });
    expect(res.text).toBe("答案");
    expect(res.firstTokenMs).toBeUndefined();
  });

  it("logs one JSON line per attempt with model, provider, outcome and time", async () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    await new LlmClient(one(), { log }).chat({ messages: hi, requestId: "r-1" });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(typeof line.ms).toBe("number");
    expect(line).toMatchObject({
      msg: "llm attempt",
      requestId: "r-1",
      modelName: "glm",
      provider: "zhipu",
      model: "glm-4.7",
      kind: "ok",
    });
  });

  it("reuses connections across chats instead of opening one per request", async () => {
    const llm = new LlmClient(one());
    for (let i = 0; i < 6; i++) await llm.chat({ messages: hi, ...(i % 2 ? { onText: () => {} } : {}) });
    const ports = new Set(A.chatRequests().map((r) => r.remotePort));
    expect(A.chatRequests()).toHaveLength(6);
    expect(ports.size).toBeLessThanOrEqual(3);
  });
});
