// The playground's server side without a browser: the page's files, state and long-polled events;
// messages through the real path (signed callback → claim → worker → LLM double → DingTalk double →
// events) in 1:1 and group chats, pictures, commands, the OpenAPI route, bad signatures, redelivery,
// allow_from, a config without models, bad input, and no secret ever reaching the page.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.js";
import { PLAYGROUND_CLIENT_ID } from "../../functions/playground/config.js";
import type { PlaygroundEvent, PlaygroundState, SendResult, Trace } from "../../functions/playground/protocol.js";
import { startPlayground, type Playground } from "../../functions/playground/start.js";
import { startLlmDouble, type LlmDouble } from "../doubles/llm/server.js";
import { PNG } from "../helpers/images.js";
import { eventually } from "../helpers/processes.js";

const LLM_KEY = "sk-playground-test-key-0001";
const GROUP = "group:cidPlayGroupRD==";

type BotEvent = Extract<PlaygroundEvent, { type: "bot" }>;
type CardEvent = Extract<PlaygroundEvent, { type: "card" }>;

/** What a page sees: every event it long-polled, in order. */
class PageClient {
  readonly events: PlaygroundEvent[] = [];
  private next = 0;
  constructor(readonly base: string) {}

  async poll(): Promise<void> {
    const res = await fetch(`${this.base}/playground/api/events?after=${this.next}&wait=200`);
    const body = (await res.json()) as { events: PlaygroundEvent[]; next: number };
    this.events.push(...body.events);
    this.next = body.next;
  }

  async until<T>(find: () => T | undefined, what: string): Promise<T> {
    return eventually(async () => find() ?? (await this.poll(), find()), 15_000, what);
  }

  trace(msgId: string): Trace | undefined {
    return this.events.findLast((e): e is Extract<PlaygroundEvent, { type: "trace" }> => e.type === "trace" && e.trace.msgId === msgId)?.trace;
  }

  done(msgId: string): Promise<Trace> {
    return this.until(() => {
      const t = this.trace(msgId);
      return t && ["done", "rejected", "failed"].includes(t.state) ? t : undefined;
    }, `trace of ${msgId} done`);
  }

  card(msgId: string): CardEvent | undefined {
    return this.events.findLast((e): e is CardEvent => e.type === "card" && e.msgId === msgId);
  }

  bots(chat: string): BotEvent[] {
    return this.events.filter((e): e is BotEvent => e.type === "bot" && e.chat === chat);
  }
}

async function send(pg: Playground, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${pg.gateway.url}/playground/api/send`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

async function sent(pg: Playground, body: Record<string, unknown>): Promise<SendResult> {
  const res = await send(pg, body);
  expect(res.status).toBe(200);
  return (await res.json()) as SendResult;
}

function config(over: Record<string, unknown> = {}, dingtalk: Record<string, unknown> = {}) {
  return parseConfig({
    agents: { defaults: { model_name: "glm" } },
    model_list: [
      { model_name: "glm", model: "zhipu/glm-4.7", api_key: LLM_KEY, api_base: llm.url, vision: true },
      { model_name: "deepseek", model: "deepseek/deepseek-chat", api_key: LLM_KEY, api_base: llm.url },
    ],
    channels: { dingtalk: { card_update_interval_ms: 100, ...dingtalk } },
    ...over,
  });
}

let llm: LlmDouble;
let pg: Playground;
let page: PageClient;
const lines: string[] = [];

beforeAll(async () => {
  llm = await startLlmDouble({ keys: [LLM_KEY] });
  pg = await startPlayground({ config: config(), port: 0, host: "127.0.0.1", write: (l) => lines.push(l), level: "debug" });
  page = new PageClient(pg.gateway.url);
});

afterAll(async () => {
  await pg?.close(5_000);
  await llm?.close();
});

describe("playground page and state", () => {
  it("serves the page, its script and its style from memory, with a strict CSP and no CDN", async () => {
    const html = await fetch(pg.url);
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toMatch(/^text\/html/);
    expect(html.headers.get("content-security-policy")).toContain("script-src 'self'");
    const text = await html.text();
    expect(text).toContain('src="/playground/app.js"');
    expect(text).not.toMatch(/https?:\/\//);
    const js = await fetch(`${pg.url}/app.js`);
    expect(js.headers.get("content-type")).toMatch(/javascript/);
    const script = await js.text();
    expect(script).toContain("/playground/api/events");
    expect(script).not.toMatch(/\bimport\s*[{("']|require\(/);
    expect((await fetch(`${pg.url}/style.css`)).headers.get("content-type")).toMatch(/^text\/css/);
    expect((await fetch(`${pg.url}/`)).status).toBe(200);
    expect((await fetch(`${pg.url}/nowhere`)).status).toBe(404);
    expect((await fetch(`${pg.gateway.url}/healthz`)).status).toBe(200);
  });

  it("describes the simulated organisation, the models and the settings", async () => {
    const state = (await (await fetch(`${pg.url}/api/state`)).json()) as PlaygroundState;
    expect(state.users.map((u) => [u.staffId, u.allowed])).toEqual([
      ["zhangsan", true],
      ["lisi", true],
      ["wangwu", true],
    ]);
    expect(state.groups.map((g) => g.chat)).toEqual([GROUP, "group:cidPlayGroupHike=="]);
    expect(state.models).toEqual({ names: ["glm", "deepseek"], primary: "glm" });
    expect(state).toMatchObject({ cards: true, groupScope: "conversation", allowFrom: [] });
  });

  it("tells a page polling with numbers from an earlier run to start over", async () => {
    const ahead = (await (await fetch(`${pg.url}/api/events?after=999999&wait=0`)).json()) as { epoch: string; next: number };
    const now = (await (await fetch(`${pg.url}/api/events?after=0&wait=0`)).json()) as { epoch: string; next: number };
    expect(ahead.epoch).toBe(now.epoch);
    expect(ahead.epoch).toMatch(/^[0-9a-f-]{36}$/);
    expect(ahead.next).toBe(now.next);
  });
});

describe("messages through the real path", () => {
  it("a 1:1 message: signed callback accepted, answered in a streaming AI card, traced end to end", async () => {
    llm.script({ text: "**你好**，我是 AI 助手。这是一段会分几次流式显示的回答。", chunkSize: 3, chunkDelayMs: 15 });
    const r = await sent(pg, { chat: "dm:zhangsan", user: "zhangsan", text: "你好" });
    expect(r.status).toBe(200);
    expect(r.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const t = await page.done(r.msgId);
    expect(t).toMatchObject({ state: "done", kind: "answer", route: "card", model: "glm", chat: "dm:zhangsan", user: "张三" });
    expect(t.deliveries).toHaveLength(1);
    expect(t.deliveries[0]).toMatchObject({ requestId: r.requestId, status: 200, signature: "ok", claim: "accepted" });
    expect(t.tokens!.prompt).toBeGreaterThan(0);
    expect(t.tokens!.completion).toBeGreaterThan(0);
    for (const v of [t.deliveries[0]!.ackMs, t.llm!.firstTokenMs, t.llm!.totalMs, t.sendMs]) expect(typeof v).toBe("number");

    const card = await page.until(() => (page.card(r.msgId)?.status === "finished" ? page.card(r.msgId) : undefined), "finished card");
    expect(card).toMatchObject({ chat: "dm:zhangsan", content: "**你好**，我是 AI 助手。这是一段会分几次流式显示的回答。" });
    expect(card.updates).toBeGreaterThanOrEqual(1);
    expect(page.events.find((e) => e.type === "user" && e.msgId === r.msgId)).toMatchObject({ chat: "dm:zhangsan", text: "你好", sender: { nick: "张三" } });
    const request = llm.chatRequests().at(-1)!;
    expect(request.key).toBe(LLM_KEY);
    expect(JSON.stringify(request.body)).toContain("你好");
  });

  it("a group message is sent with an @-mention and answered in the group; the context is the group's", async () => {
    llm.script({ text: "群里的回答" });
    const r = await sent(pg, { chat: GROUP, user: "lisi", text: "今天周会几点？" });
    const t = await page.done(r.msgId);
    expect(t).toMatchObject({ state: "done", route: "card", chat: GROUP });
    expect(page.events.find((e) => e.type === "user" && e.msgId === r.msgId)).toMatchObject({ text: "@AI助手 今天周会几点？" });
    expect(page.card(r.msgId)).toMatchObject({ chat: GROUP, content: "群里的回答", status: "finished" });
    const body = llm.chatRequests().at(-1)!.body as { messages: { role: string; content: string }[] };
    expect(body.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["李四: 今天周会几点？"]);
    expect(pg.double.cards().find((c) => c.spaceId === "cidPlayGroupRD==")).toMatchObject({ spaceType: "IM_GROUP" });
  });

  it("/help answers with an ActionCard whose buttons send commands; /new clears the 1:1 context", async () => {
    const help = await sent(pg, { chat: "dm:wangwu", user: "wangwu", text: "/help" });
    expect(await page.done(help.msgId)).toMatchObject({ kind: "help", route: "webhook" });
    const card = page.bots("dm:wangwu").find((b) => b.msgId === help.msgId)!;
    expect(card.msgtype).toBe("actionCard");
    expect(card.buttons!.map((b) => decodeURIComponent(b.url.split("content=")[1]!))).toEqual(["/new", "/model", "/usage"]);

    llm.script({ text: "记住了" }, { text: "你说过：第一句" });
    await page.done((await sent(pg, { chat: "dm:wangwu", user: "wangwu", text: "第一句" })).msgId);
    await page.done((await sent(pg, { chat: "dm:wangwu", user: "wangwu", text: "我刚才说了什么？" })).msgId);
    const withContext = llm.chatRequests().at(-1)!.body as { messages: { content: string }[] };
    expect(JSON.stringify(withContext.messages)).toContain("第一句");

    const reset = await sent(pg, { chat: "dm:wangwu", user: "wangwu", text: "/new" });
    expect(await page.done(reset.msgId)).toMatchObject({ kind: "command", route: "webhook" });
    expect(page.bots("dm:wangwu").find((b) => b.msgId === reset.msgId)?.text).toContain("已开始新对话");
    llm.script({ text: "新对话的回答" });
    await page.done((await sent(pg, { chat: "dm:wangwu", user: "wangwu", text: "新的问题" })).msgId);
    const fresh = llm.chatRequests().at(-1)!.body as { messages: { role: string; content: string }[] };
    expect(fresh.messages.filter((m) => m.role !== "system").map((m) => m.content)).toEqual(["新的问题"]);
  });

  it("with the session webhook expired, the reply goes through the robot OpenAPI", async () => {
    const r = await sent(pg, { chat: "dm:lisi", user: "lisi", text: "/model", expiredWebhook: true });
    expect(await page.done(r.msgId)).toMatchObject({ kind: "command", route: "openapi" });
    const reply = await page.until(() => page.bots("dm:lisi").find((b) => b.route === "openapi"), "the OpenAPI reply");
    expect(reply.text).toContain("glm");
  });

  it("a picture goes to the double as a file, reaches the vision model as an image, and is shown from memory", async () => {
    llm.script({ text: "图片里是一个像素" });
    const r = await sent(pg, { chat: "dm:zhangsan", user: "zhangsan", text: "", image: { base64: PNG.toString("base64"), contentType: "image/png", fileName: "dot.png" } });
    expect(await page.done(r.msgId)).toMatchObject({ state: "done", kind: "answer", preview: "[图片]" });
    const request = llm.chatRequests().at(-1)!;
    expect(request.images).toEqual([`data:image/png;base64,${PNG.toString("base64")}`]);
    const user = page.events.find((e): e is Extract<PlaygroundEvent, { type: "user" }> => e.type === "user" && e.msgId === r.msgId)!;
    const img = await fetch(`${pg.gateway.url}${user.imageUrl!}`);
    expect(img.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await img.arrayBuffer())).toEqual(PNG);

    llm.script({ text: "群里的图片" });
    const g = await sent(pg, { chat: GROUP, user: "zhangsan", text: "看看这张", image: { base64: PNG.toString("base64"), contentType: "image/png" } });
    expect(await page.done(g.msgId)).toMatchObject({ state: "done", kind: "answer", chat: GROUP });
    expect(llm.chatRequests().at(-1)!.images).toHaveLength(1);
  });

  it("a wrong signature is refused with 401 before anything else happens, and the trace says why", async () => {
    const before = llm.chatRequests().length;
    const r = await sent(pg, { chat: "dm:zhangsan", user: "zhangsan", text: "签名不对", badSignature: true });
    expect(r.status).toBe(401);
    const t = await page.done(r.msgId);
    expect(t.state).toBe("rejected");
    expect(t.deliveries[0]).toMatchObject({ status: 401, signature: "failed", signatureReason: "mismatch" });
    expect(t.deliveries[0]!.claim).toBeUndefined();
    expect(llm.chatRequests().length).toBe(before);
  });

  it("a redelivery of the same msgId is acknowledged but dropped by the claim: one reply", async () => {
    const r = await sent(pg, { chat: "dm:lisi", user: "lisi", text: "/usage" });
    await page.done(r.msgId);
    const again = await fetch(`${pg.url}/api/redeliver`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ msgId: r.msgId }),
    });
    expect(((await again.json()) as SendResult).status).toBe(200);
    const t = await page.until(() => (page.trace(r.msgId)?.deliveries[1]?.claim ? page.trace(r.msgId) : undefined), "second delivery");
    expect(t.deliveries.map((d) => d.claim)).toEqual(["accepted", "duplicate"]);
    expect(t.deliveries[1]!.claimState).toBe("completed");
    expect(t.state).toBe("done");
    expect(pg.double.sent().filter((s) => s.text?.includes("本对话用量"))).toHaveLength(1);
  });

  it("never lets the generated client secret, an access token or an API key reach the page", async () => {
    const secret = pg.double.state.apps.get(PLAYGROUND_CLIENT_ID)!.clientSecret;
    const tokens = [...pg.double.state.tokens.keys()];
    expect(tokens.length).toBeGreaterThan(0);
    const everything = [
      await (await fetch(pg.url)).text(),
      await (await fetch(`${pg.url}/app.js`)).text(),
      await (await fetch(`${pg.url}/api/state`)).text(),
      await (await fetch(`${pg.url}/api/events?after=0&wait=0`)).text(),
      lines.join("\n"),
    ].join("\n");
    for (const s of [secret, LLM_KEY, ...tokens]) expect(everything).not.toContain(s);
  });
});

describe("playground API input", () => {
  it("answers bad input with a clear 4xx naming the problem", async () => {
    const cases: Array<[Record<string, unknown>, number, RegExp]> = [
      [{ chat: "dm:zhangsan", text: "x" }, 400, /user/],
      [{ chat: "dm:lisi", user: "zhangsan", text: "x" }, 400, /chat/],
      [{ chat: "dm:nobody", user: "nobody", text: "x" }, 400, /unknown user/],
      [{ chat: "dm:zhangsan", user: "zhangsan", text: "   " }, 400, /empty message/],
      [{ chat: "dm:zhangsan", user: "zhangsan", text: "x", extra: 1 }, 400, /extra|unrecognized/i],
      [{ chat: "dm:zhangsan", user: "zhangsan", image: { base64: "AAAA", contentType: "text/html" } }, 400, /image\.contentType/],
      [{ chat: "dm:zhangsan", user: "zhangsan", image: { base64: "not base64!", contentType: "image/png" } }, 400, /base64/],
    ];
    for (const [body, status, error] of cases) {
      const res = await send(pg, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(((await res.json()) as { error: string }).error).toMatch(error);
    }
    const big = await send(pg, { chat: "dm:zhangsan", user: "zhangsan", image: { base64: Buffer.alloc(5 * 1024 * 1024 + 10).toString("base64"), contentType: "image/png" } });
    expect(big.status).toBe(413);
    const notJson = await fetch(`${pg.url}/api/send`, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
    expect(notJson.status).toBe(415);
    const broken = await fetch(`${pg.url}/api/send`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(broken.status).toBe(400);
    const foreign = await send(pg, { chat: "dm:zhangsan", user: "zhangsan", text: "x" }, { origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    expect((await fetch(`${pg.url}/api/events?after=-1`)).status).toBe(400);
    expect((await fetch(`${pg.url}/api/events?wait=999999`)).status).toBe(400);
    const unknown = await fetch(`${pg.url}/api/redeliver`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"msgId":"nope"}' });
    expect(unknown.status).toBe(400);
    expect((await fetch(`${pg.url}/files/00000000-0000-0000-0000-000000000000`)).status).toBe(404);
  });
});

describe("playground settings", () => {
  it("allow_from: its ids become users; everyone else is refused without an LLM call", async () => {
    const guarded = await startPlayground({ config: config({}, { allow_from: ["boss001"] }), port: 0, host: "127.0.0.1", write: () => {}, cards: false });
    try {
      const client = new PageClient(guarded.gateway.url);
      const state = (await (await fetch(`${guarded.url}/api/state`)).json()) as PlaygroundState;
      expect(state.users.map((u) => [u.staffId, u.allowed])).toEqual([
        ["zhangsan", false],
        ["lisi", false],
        ["wangwu", false],
        ["boss001", true],
      ]);
      expect(state.cards).toBe(false);
      const before = llm.chatRequests().length;
      const refused = await sent(guarded, { chat: "dm:zhangsan", user: "zhangsan", text: "你好" });
      expect(await client.done(refused.msgId)).toMatchObject({ kind: "refused", route: "webhook" });
      expect(client.bots("dm:zhangsan")[0]!.text).toContain("没有使用这个助手的权限");
      expect(llm.chatRequests().length).toBe(before);
      llm.script({ text: "老板好" });
      const allowed = await sent(guarded, { chat: "dm:boss001", user: "boss001", text: "你好" });
      expect(await client.done(allowed.msgId)).toMatchObject({ kind: "answer", route: "webhook", model: "glm" });
      expect(client.bots("dm:boss001")[0]).toMatchObject({ msgtype: "markdown", text: "老板好", route: "webhook" });
    } finally {
      await guarded.close(5_000);
    }
  });

  it("without a model_list: the state says exactly what to configure, and the commands still work", async () => {
    const bare = await startPlayground({ config: parseConfig({}), port: 0, host: "127.0.0.1", write: () => {}, configPath: "./my-config.json" });
    try {
      const client = new PageClient(bare.gateway.url);
      const state = (await (await fetch(`${bare.url}/api/state`)).json()) as PlaygroundState;
      expect(state.models.names).toEqual([]);
      const help = state.models.help!.join("\n");
      expect(help).toContain("./my-config.json");
      expect(help).toContain('"model_list"');
      expect(help).toContain('"model": "zhipu/glm-4.7"');
      for (const [text, kind, reply] of [
        ["/help", "help", "/new"],
        ["/model", "command", "model_list"],
        ["/new", "command", "已开始新对话"],
      ] as const) {
        const r = await sent(bare, { chat: "dm:zhangsan", user: "zhangsan", text });
        expect(await client.done(r.msgId)).toMatchObject({ state: "done", kind });
        const bot = await client.until(() => client.bots("dm:zhangsan").find((b) => b.msgId === r.msgId), `reply to ${text}`);
        expect(JSON.stringify(bot)).toContain(reply);
      }
      const plain = await sent(bare, { chat: "dm:zhangsan", user: "zhangsan", text: "你好" });
      expect(await client.done(plain.msgId)).toMatchObject({ state: "done", kind: "llm_error" });
      const note = await client.until(() => client.card(plain.msgId), "the no-model note (in the answer's card)");
      expect(note).toMatchObject({ status: "failed" });
      expect(note.content).toContain("model_list");
    } finally {
      await bare.close(5_000);
    }
  });
});
