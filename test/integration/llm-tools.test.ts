// Function calling through the real openai SDK against the LLM double: tool calls streamed (in
// fragments or whole) and not, several in one message, malformed arguments passed through raw, tool
// results sent back in OpenAI's shape, endpoints with `tools: false`, and the fallback chain mid-loop.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.js";
import { LlmClient, type ChatMessage, type ToolSpec } from "../../functions/core/llm/index.js";
import { startLlmDouble, type LlmDouble } from "../doubles/llm/server.js";

let A: LlmDouble;
let B: LlmDouble;

beforeAll(async () => {
  [A, B] = await Promise.all([startLlmDouble(), startLlmDouble()]);
});
afterEach(() => {
  A.reset();
  B.reset();
});
afterAll(async () => {
  await Promise.all([A.close(), B.close()]);
});

const weather: ToolSpec = {
  name: "get_weather",
  description: "Weather of a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};
const ask: ChatMessage[] = [{ role: "user", content: "杭州和北京天气怎么样？" }];

function client(entries: Array<{ name: string; at: LlmDouble; tools?: boolean }>, fallbacks: string[] = []): LlmClient {
  const cfg = parseConfig({
    agents: { defaults: { model_name: entries[0]!.name, model_fallbacks: fallbacks } },
    model_list: entries.map((e) => ({
      model_name: e.name,
      model: `openai/${e.name}-id`,
      api_key: "sk-test-key-000001",
      api_base: e.at.url,
      ...(e.tools === false ? { tools: false } : {}),
    })),
  });
  return new LlmClient({ models: cfg.models, agent: { ...cfg.agent, llmTimeoutMs: 2000 } });
}

interface WireBody {
  tools?: Array<{ type: string; function: { name: string; description: string; parameters: unknown } }>;
  messages: Array<Record<string, unknown>>;
}
const bodyOf = (d: LlmDouble, i = 0) => d.chatRequests()[i]!.body as WireBody;

describe("tool calls from the model", () => {
  it("offers tools in OpenAI's shape and returns a non-streamed call", async () => {
    A.script({ toolCalls: [{ id: "call_1", name: "get_weather", arguments: { city: "杭州" } }] });
    const res = await client([{ name: "m", at: A }]).chat({ messages: ask, tools: [weather] });
    expect(res.toolCalls).toEqual([{ id: "call_1", name: "get_weather", arguments: '{"city":"杭州"}' }]);
    expect(res.text).toBe("");
    expect(res.finishReason).toBe("tool_calls");
    expect(bodyOf(A).tools).toEqual([{ type: "function", function: { name: "get_weather", description: "Weather of a city", parameters: weather.parameters } }]);
  });

  it.each(["fragments", "whole"] as const)("assembles several streamed calls (%s) while the text before them streams", async (mode) => {
    A.script({
      text: "我查一下。",
      toolCallChunks: mode,
      chunkSize: 2,
      toolCalls: [
        { id: "call_a", name: "get_weather", arguments: { city: "杭州" } },
        { id: "call_b", name: "get_weather", arguments: { city: "北京" } },
      ],
    });
    const seen: string[] = [];
    const res = await client([{ name: "m", at: A }]).chat({ messages: ask, tools: [weather], onText: (t) => seen.push(t) });
    expect(A.chatRequests()[0]!.stream).toBe(true);
    expect(res.toolCalls).toEqual([
      { id: "call_a", name: "get_weather", arguments: '{"city":"杭州"}' },
      { id: "call_b", name: "get_weather", arguments: '{"city":"北京"}' },
    ]);
    expect(res.text).toBe("我查一下。");
    expect(seen.at(-1)).toBe("我查一下。");
    expect(seen.length).toBeGreaterThan(1);
  });

  it("passes malformed JSON arguments through untouched for the caller to judge", async () => {
    A.script({ toolCalls: [{ id: "call_x", name: "get_weather", arguments: '{"city": "杭州"' }] });
    const res = await client([{ name: "m", at: A }]).chat({ messages: ask, tools: [weather], onText: () => {} });
    expect(res.toolCalls).toEqual([{ id: "call_x", name: "get_weather", arguments: '{"city": "杭州"' }]);
  });
});

describe("tool results back to the model", () => {
  const withResults: ChatMessage[] = [
    ...ask,
    {
      role: "assistant",
      content: "",
      reasoning: "需要先查天气",
      toolCalls: [{ id: "call_a", name: "get_weather", arguments: '{"city":"杭州"}' }],
    },
    { role: "tool", toolCallId: "call_a", content: "杭州：晴，25°C" },
  ];

  it("sends assistant tool_calls and role:tool results as the API defines them", async () => {
    A.script({ text: "杭州今天晴，25°C。" });
    const res = await client([{ name: "m", at: A }]).chat({ messages: withResults, tools: [weather] });
    expect(res.text).toBe("杭州今天晴，25°C。");
    expect(res.toolCalls).toBeUndefined();
    const sent = bodyOf(A).messages;
    expect(sent[1]).toEqual({
      role: "assistant",
      content: null,
      reasoning_content: "需要先查天气",
      tool_calls: [{ id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city":"杭州"}' } }],
    });
    expect(sent[2]).toEqual({ role: "tool", tool_call_id: "call_a", content: "杭州：晴，25°C" });
  });

  it("an endpoint with tools: false gets no tools and sees calls and results as text", async () => {
    A.script({ text: "好的" });
    await client([{ name: "m", at: A, tools: false }]).chat({ messages: withResults, tools: [weather] });
    const body = bodyOf(A);
    expect(body.tools).toBeUndefined();
    expect(body.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(String(body.messages[1]!.content)).toContain('get_weather({"city":"杭州"})');
    expect(String(body.messages[2]!.content)).toContain("杭州：晴，25°C");
  });

  it("a fallback continues from the same messages when the primary fails mid-loop", async () => {
    A.fault("server_error", { sticky: true });
    B.script({ text: "杭州晴。" });
    const res = await client([{ name: "p", at: A }, { name: "f", at: B }], ["f"]).chat({ messages: withResults, tools: [weather] });
    expect(res.modelName).toBe("f");
    expect(res.text).toBe("杭州晴。");
    expect(bodyOf(B).messages).toEqual(bodyOf(A).messages);
    expect(bodyOf(B).tools?.map((t) => t.function.name)).toEqual(["get_weather"]);
  });
});

describe("the double enforces the API's tool rules", () => {
  it("refuses a call left unanswered and a bad function name, as OpenAI does", async () => {
    const llm = client([{ name: "m", at: A }]);
    const unanswered: ChatMessage[] = [...ask, { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "get_weather", arguments: "{}" }] }];
    await expect(llm.chat({ messages: unanswered, tools: [weather] })).rejects.toMatchObject({ kind: "bad_request" });
    await expect(llm.chat({ messages: ask, tools: [{ ...weather, name: "bad name!" }] })).rejects.toMatchObject({ kind: "bad_request" });
    expect(A.chatRequests().map((r) => r.served)).toEqual(["400", "400"]);
  });
});
