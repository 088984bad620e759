// The LLM double itself: wire format, auth, recording, matching, faults, and the standalone process
// scripted over HTTP, exercised with plain fetch and the real openai SDK.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLlmDouble, type LlmDouble, type RecordedRequest } from "../doubles/llm/server.js";

const KEY = "sk-double-key-1234";
let d: LlmDouble;

beforeAll(async () => {
  d = await startLlmDouble({ keys: [KEY, "sk-other-key-5678"], models: ["glm-4.7", "qwen-plus"] });
});
afterAll(() => d.close());

const post = (path: string, body: unknown, key = KEY) =>
  fetch(`${d.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("LLM double (in-process)", () => {
  it("lists models and rejects unknown keys with an OpenAI-shaped 401", async () => {
    const ok = await fetch(`${d.url}/models`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(((await ok.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual(["glm-4.7", "qwen-plus"]);
    const bad = await post("/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }] }, "sk-nope-000000");
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: { code: "invalid_api_key" } });
    expect(d.requests.at(-1)).toMatchObject({ served: "401", key: "sk-nope-000000" });
  });

  it("answers 400 to malformed requests and 404 to unknown paths", async () => {
    expect((await post("/chat/completions", "{not json")).status).toBe(400);
    expect((await post("/chat/completions", { model: "m", messages: [] })).status).toBe(400);
    expect((await post("/completions", { prompt: "x" })).status).toBe(404);
  });

  it("matches scripted entries by key and model, then falls back to the echo", async () => {
    d.reset();
    d.script({ text: "for other", match: { key: "sk-other-key-5678" } }, { text: "for qwen", match: { model: "qwen-plus" } });
    const sdk = new OpenAI({ apiKey: KEY, baseURL: d.url, maxRetries: 0 });
    const first = await sdk.chat.completions.create({ model: "qwen-plus", messages: [{ role: "user", content: "a" }] });
    const second = await sdk.chat.completions.create({ model: "qwen-plus", messages: [{ role: "user", content: "b" }] });
    expect(first.choices[0]!.message.content).toBe("for qwen");
    expect(second.choices[0]!.message.content).toBe("echo: b");
    const other = new OpenAI({ apiKey: "sk-other-key-5678", baseURL: d.url, maxRetries: 0 });
    const third = await other.chat.completions.create({ model: "glm-4.7", messages: [{ role: "user", content: "c" }] });
    expect(third.choices[0]!.message.content).toBe("for other");
    expect(d.chatRequests().map((r) => r.served)).toEqual(["reply", "default", "reply"]);
  });

  it("streams real SSE: role chunk, reasoning_content, content, finish, usage, [DONE]", async () => {
    d.reset();
    d.script({ text: "hello world", reasoning: "hmm", chunkSize: 5, usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } });
    const res = await post("/chat/completions", {
      model: "glm-4.7",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "x" }],
    });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const events = (await res.text()).split("\n\n").filter(Boolean);
    expect(events.every((e) => e.startsWith("data: "))).toBe(true);
    expect(events.at(-1)).toBe("data: [DONE]");
    type Chunk = { choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }>; usage?: unknown };
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as Chunk);
    const first = (c: Chunk | undefined) => c?.choices[0];
    expect(first(chunks[0])?.delta).toEqual({ role: "assistant", content: "" });
    expect(first(chunks[1])?.delta).toEqual({ reasoning_content: "hmm" });
    expect(chunks.slice(2, 4).map((c) => first(c)?.delta.content)).toEqual(["hello", " worl"]);
    expect(first(chunks.at(-2))?.finish_reason).toBe("stop");
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 3 } });
  });

  it("sends 429 with Retry-After, and records bodies with image parts and all headers", async () => {
    d.reset();
    d.fault("rate_limit", { retryAfter: 9 });
    const url = "https://example.com/cat.png";
    const res = await post("/chat/completions", {
      model: "qwen-plus",
      messages: [{ role: "user", content: [{ type: "text", text: "看" }, { type: "image_url", image_url: { url } }] }],
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("9");
    const rec = d.chatRequests()[0]!;
    expect(rec).toMatchObject({ served: "fault:rate_limit", images: [url], model: "qwen-plus", key: KEY });
    expect(rec.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("serves a scripted fault only `times` times", async () => {
    d.reset();
    d.fault("server_error", { times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await post("/chat/completions", { model: "m", messages: [{ role: "user", content: "x" }] })).status);
    expect(statuses).toEqual([500, 500, 200]);
  });
});

describe("LLM double (standalone process)", () => {
  it("prints its URL, is scripted over HTTP, records requests, and exits on SIGTERM", async () => {
    const args = ["--import", "tsx", "test/doubles/llm/main.ts", "--port", "0", "--base-path", "/api/paas/v4", "--keys", KEY];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once("line", resolve);
        child.once("exit", (code) => reject(new Error(`double exited early (${code})`)));
      });
      const ready = JSON.parse(line) as { url: string; origin: string; port: number };
      expect(ready.url).toBe(`http://127.0.0.1:${ready.port}/api/paas/v4`);

      const scripted = await fetch(`${ready.origin}/__control/script`, {
        method: "POST",
        body: JSON.stringify([{ fault: "moderation_zhipu" }, { text: "脚本回复", chunkSize: 2 }]),
      });
      expect(scripted.status).toBe(200);
      const rejected = await fetch(`${ready.origin}/__control/script`, { method: "POST", body: '{"fault":"nope"}' });
      expect(rejected.status).toBe(400);

      const sdk = new OpenAI({ apiKey: KEY, baseURL: ready.url, maxRetries: 0 });
      await expect(sdk.chat.completions.create({ model: "glm-4.7", messages: [{ role: "user", content: "x" }] })).rejects.toMatchObject({
        status: 400,
        code: "1301",
      });
      const stream = await sdk.chat.completions.create({
        model: "glm-4.7",
        stream: true,
        messages: [{ role: "user", content: "y" }],
      });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      expect(text).toBe("脚本回复");

      const recorded = (await (await fetch(`${ready.origin}/__control/requests`)).json()) as RecordedRequest[];
      expect(recorded.map((r) => [r.served, r.stream, r.headers.authorization])).toEqual([
        ["fault:moderation_zhipu", false, `Bearer ${KEY}`],
        ["reply", true, `Bearer ${KEY}`],
      ]);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });
});
