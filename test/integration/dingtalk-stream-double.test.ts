// The DingTalk double's Stream gateway, driven by the real `dingtalk-stream` SDK (DWClient) and raw
// `ws` sockets: open + connect, CALLBACK/ACK, SYSTEM ping/disconnect, redelivery, tickets, faults,
// reconnects, and the standalone process's control API.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { DWClient, TOPIC_ROBOT, type DWClientDownStream, type EventAckData } from "dingtalk-stream";
import WebSocket from "ws";
import { z } from "zod";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startDingTalkDouble, type DingTalkDouble } from "../doubles/dingtalk/index.js";
import { callbackBody } from "../helpers/messages.js";

const OpenAnswer = z.object({ endpoint: z.string(), ticket: z.string() });
const ErrorAnswer = z.looseObject({ code: z.string() });

/** The SDK pointed at a double: `getEndpoint` posts to the double (as production does), reconnects are quick. */
class TestClient extends DWClient {
  readonly systemTopics: string[] = [];
  private stopped = false;

  constructor(
    private readonly base: string,
    app: { clientId: string; clientSecret: string },
  ) {
    super({ ...app, ua: "dingclaw-test/1.0", subscriptions: [{ type: "EVENT", topic: "*" }] } as ConstructorParameters<typeof DWClient>[0]);
    (this as unknown as { reconnectInterval: number }).reconnectInterval = 50;
  }

  override async getEndpoint(): Promise<this> {
    const res = await fetch(`${this.base}/v1.0/gateway/connections/open`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({
        clientId: this.config.clientId,
        clientSecret: this.config.clientSecret,
        ua: this.config.ua,
        subscriptions: this.config.subscriptions,
      }),
    });
    const body: unknown = await res.json();
    if (!res.ok) throw new Error(`gateway open failed: ${res.status} ${ErrorAnswer.safeParse(body).data?.code ?? "?"}`);
    const { endpoint, ticket } = OpenAnswer.parse(body);
    (this as unknown as { dw_url: string }).dw_url = `${endpoint}?ticket=${encodeURIComponent(ticket)}`;
    return this;
  }

  override onSystem(frame: DWClientDownStream): void {
    this.systemTopics.push(frame.headers.topic);
    super.onSystem(frame);
  }

  /** The SDK's own reconnect timer calls connect() even after disconnect(); this one stays down. */
  override async connect(): Promise<void> {
    if (!this.stopped) await super.connect();
  }

  stop(): void {
    this.stopped = true;
    this.config.autoReconnect = false;
    this.disconnect();
  }
}

/** Resolves with the frames a listener sees once it has seen `count` of them. */
function frames(client: DWClient, topic: string, count = 1, timeoutMs = 3_000): Promise<DWClientDownStream[]> {
  return new Promise((resolve, reject) => {
    const seen: DWClientDownStream[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${seen.length}/${count} frames on ${topic}`)), timeoutMs);
    client.registerCallbackListener(topic, (frame) => {
      seen.push(frame);
      if (seen.length === count) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
  });
}

let dt: DingTalkDouble;
const clients: TestClient[] = [];
let appCount = 0;

function newApp(): { clientId: string; clientSecret: string } {
  const app = { clientId: `dingstream${++appCount}`, clientSecret: `secret-${appCount}-xyz` };
  dt.app(app.clientId, app.clientSecret);
  return app;
}

function client(app: { clientId: string; clientSecret: string }, base = dt.url): TestClient {
  const c = new TestClient(base, app);
  clients.push(c);
  return c;
}

async function openTicket(
  app: { clientId: string; clientSecret: string },
  headers: Record<string, string> = { accept: "application/json" },
): Promise<{ status: number; text: string; type: string }> {
  const res = await fetch(`${dt.url}/v1.0/gateway/connections/open`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ ...app, subscriptions: [{ type: "CALLBACK", topic: TOPIC_ROBOT }] }),
  });
  return { status: res.status, text: await res.text(), type: res.headers.get("content-type") ?? "" };
}

async function ticketFor(app: { clientId: string; clientSecret: string }): Promise<{ endpoint: string; ticket: string }> {
  const r = await openTicket(app);
  return OpenAnswer.parse(JSON.parse(r.text));
}

/** Opens a raw socket: resolves with it once open, or with the HTTP status the handshake was refused with. */
function rawConnect(url: string): Promise<{ ws: WebSocket; status: 101 } | { status: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => resolve({ ws, status: 101 }));
    ws.once("unexpected-response", (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.once("error", reject);
  });
}

beforeAll(async () => {
  dt = await startDingTalkDouble();
});
beforeEach(() => {
  dt.reset();
  dt.stream.setRedelivery({ delayMs: 60_000, max: 3, sameMessageId: true });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.stop();
});
afterAll(() => dt.close());

describe("Stream double: open and connect with the SDK", () => {
  it("delivers a CALLBACK to registerCallbackListener and records the SDK's ACK", async () => {
    const app = newApp();
    const sdk = client(app);
    const got = frames(sdk, TOPIC_ROBOT);
    await sdk.connect();
    const conn = await dt.stream.waitForConnection(app.clientId);
    expect(conn).toMatchObject({ clientId: app.clientId, ua: "dingclaw-test/1.0", state: "open" });
    expect(conn.subscriptions).toEqual(expect.arrayContaining([{ type: "CALLBACK", topic: TOPIC_ROBOT }, { type: "EVENT", topic: "*" }]));

    const body = callbackBody({ text: "你好 stream" });
    const id = dt.stream.push(app.clientId, body);
    const [frame] = await got;
    expect(frame).toMatchObject({
      specVersion: "1.0",
      type: "CALLBACK",
      headers: { topic: TOPIC_ROBOT, messageId: id, contentType: "application/json", appId: app.clientId, connectionId: conn.connectionId },
    });
    expect(frame!.headers.time).toMatch(/^\d+$/);
    expect(JSON.parse(frame!.data)).toEqual(body);

    sdk.socketCallBackResponse(frame!.headers.messageId, { success: true });
    const ack = await dt.stream.waitForAck(id, 2_000);
    expect(ack.frame).toEqual({ code: 200, headers: { contentType: "application/json", messageId: id }, message: "OK", data: '{"response":{"success":true}}' });
    expect(ack).toMatchObject({ connectionId: conn.connectionId, answers: id, data: { response: { success: true } } });
    expect(dt.stream.message(id)).toMatchObject({ acked: true, nextAt: undefined, deliveries: [{ attempt: 0, messageId: id }] });

    const open = dt.callsTo("gateway.connections.open");
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ status: 200, headers: { accept: "application/json" }, body: { clientId: app.clientId, ua: "dingclaw-test/1.0" } });
    expect(dt.callsTo("gateway.connect")).toMatchObject([{ status: 101, query: { ticket: conn.ticket } }]);
    expect(dt.stream.connections()[app.clientId]).toEqual({ open: 1, closing: 0, opened: 1, ticketsIssued: 1, ticketsUsed: 1 });
  });

  it("gets SYSTEM pings echoed by the SDK", async () => {
    const app = newApp();
    const sdk = client(app);
    await sdk.connect();
    await dt.stream.waitForConnection(app.clientId);
    const [ping] = dt.stream.ping(app.clientId);
    expect(ping).toMatchObject({ echoed: false });
    expect(JSON.parse(ping!.data)).toEqual({ opaque: expect.any(String) as unknown });
    const reply = await dt.stream.waitForAck(ping!.messageId, 2_000);
    expect(reply.frame).toMatchObject({ code: 200, headers: { messageId: ping!.messageId, topic: "ping" }, data: ping!.data });
    expect(ping!.echoed).toBe(true);
    expect(sdk.systemTopics).toEqual(["ping"]);
    expect(dt.stream.frames.at(-1)).toMatchObject({ kind: "ping", frame: { type: "SYSTEM", headers: { topic: "ping", messageId: ping!.messageId } } });
  });

  it("auto-ACKs EVENT frames through the SDK; LATER means another delivery", async () => {
    const app = newApp();
    const sdk = client(app);
    const statuses = ["LATER", "SUCCESS"];
    const seen: DWClientDownStream[] = [];
    sdk.registerAllEventListener((frame) => {
      seen.push(frame);
      return { status: statuses.shift() } as EventAckData;
    });
    await sdk.connect();
    await dt.stream.waitForConnection(app.clientId);
    dt.stream.setRedelivery({ delayMs: 60_000, max: 1 });
    const id = dt.stream.push(app.clientId, { chatId: "c1" }, { type: "EVENT", topic: "chat_update_title" });
    const first = await dt.stream.waitForAck(id);
    expect(first.data).toEqual({ status: "LATER" });
    expect(dt.stream.message(id)?.acked).toBe(false);
    dt.advance(60_000);
    await dt.stream.waitUntil(() => dt.stream.message(id)?.acked || undefined, 2_000);
    expect(seen.map((f) => [f.type, f.headers.eventType, f.headers.messageId])).toEqual([
      ["EVENT", "chat_update_title", id],
      ["EVENT", "chat_update_title", id],
    ]);
    expect(seen[0]!.headers.eventId).toBe(seen[1]!.headers.eventId);
  });
});

describe("Stream double: redelivery", () => {
  it("pushes an un-ACKed frame again after the delay, up to max times, and an ACKed one only once", async () => {
    const app = newApp();
    const sdk = client(app);
    dt.stream.setRedelivery({ delayMs: 100, max: 2 });
    const toAck = callbackBody({ text: "ack me" });
    const ignored = callbackBody({ text: "ignore me" });
    sdk.registerCallbackListener(TOPIC_ROBOT, (frame) => {
      if ((JSON.parse(frame.data) as { msgId: string }).msgId === toAck.msgId) sdk.socketCallBackResponse(frame.headers.messageId, null);
    });
    const got = frames(sdk, TOPIC_ROBOT, 4);
    await sdk.connect();
    await dt.stream.waitForConnection(app.clientId);
    const ackedId = dt.stream.push(app.clientId, toAck);
    const ignoredId = dt.stream.push(app.clientId, ignored);
    const seen = await got;

    const final = dt.stream.message(ignoredId)!;
    expect(final.deliveries.map((d) => [d.attempt, d.messageId])).toEqual([[0, ignoredId], [1, ignoredId], [2, ignoredId]]);
    expect(final).toMatchObject({ acked: false, nextAt: undefined });
    const redelivered = seen.filter((f) => f.headers.messageId === ignoredId).map((f) => f.data);
    expect(redelivered).toEqual(Array(3).fill(JSON.stringify(ignored)));
    expect(dt.stream.message(ackedId)).toMatchObject({ acked: true, deliveries: [{ attempt: 0 }] });
    expect(seen.filter((f) => f.headers.messageId === ackedId)).toHaveLength(1);
  });

  it("follows the double's clock and can give redeliveries fresh messageIds", async () => {
    const app = newApp();
    const sdk = client(app);
    const got = frames(sdk, TOPIC_ROBOT, 2);
    await sdk.connect();
    await dt.stream.waitForConnection(app.clientId);
    dt.stream.setRedelivery({ delayMs: 60_000, max: 1, sameMessageId: false });
    const id = dt.stream.push(app.clientId, callbackBody());
    await dt.stream.waitUntil(() => (dt.stream.frames.some((f) => f.messageId === id) ? true : undefined));
    dt.advance(59_000);
    expect(dt.stream.message(id)!.deliveries).toHaveLength(1);
    dt.advance(1_000);
    const [first, second] = await got;
    expect(first!.headers.messageId).toBe(id);
    expect(second!.headers.messageId).not.toBe(id);
    expect(second!.data).toBe(first!.data);
    sdk.socketCallBackResponse(second!.headers.messageId, null);
    const ack = await dt.stream.waitForAck(id);
    expect(ack.frame?.headers.messageId).toBe(second!.headers.messageId);
    expect(dt.stream.message(second!.headers.messageId)).toMatchObject({ messageId: id, acked: true, messageIds: [id, second!.headers.messageId] });
  });

  it("spreads pushes over an app's connections (round-robin double)", async () => {
    const rr = await startDingTalkDouble({ apps: [{ clientId: "dingrr", clientSecret: "rr-secret" }], stream: { pick: "round-robin" } });
    try {
      const a = client({ clientId: "dingrr", clientSecret: "rr-secret" }, rr.url);
      const b = client({ clientId: "dingrr", clientSecret: "rr-secret" }, rr.url);
      const gotA = frames(a, TOPIC_ROBOT, 2);
      const gotB = frames(b, TOPIC_ROBOT, 2);
      await a.connect();
      await b.connect();
      await rr.stream.waitForConnection("dingrr", 2_000, { nth: 2 });
      const ids = [1, 2, 3, 4].map((n) => rr.stream.push("dingrr", callbackBody({ text: `m${n}` })));
      const all = [...(await gotA), ...(await gotB)].map((f) => f.headers.messageId);
      expect(all.sort()).toEqual([...ids].sort());
      expect(new Set(rr.stream.frames.map((f) => f.connectionId)).size).toBe(2);
    } finally {
      for (const c of clients.splice(0)) c.stop();
      await rr.close();
    }
  });
});

describe("Stream double: tickets and credentials", () => {
  it("accepts a ticket once and refuses used, unknown and expired ones at the handshake", async () => {
    const app = newApp();
    const { endpoint, ticket } = await ticketFor(app);
    expect(endpoint).toBe(`${dt.url.replace("http", "ws")}/connect`);
    expect(ticket).toMatch(/^[0-9a-f-]{36}$/);
    const first = await rawConnect(`${endpoint}?ticket=${ticket}`);
    expect(first.status).toBe(101);
    expect((await rawConnect(`${endpoint}?ticket=${ticket}`)).status).toBe(403);
    expect((await rawConnect(`${endpoint}?ticket=nope`)).status).toBe(401);
    expect((await rawConnect(endpoint)).status).toBe(401);
    const late = await ticketFor(app);
    dt.advance(90_001);
    expect((await rawConnect(`${endpoint}?ticket=${late.ticket}`)).status).toBe(403);
    expect(dt.callsTo("gateway.connect").map((c) => c.status)).toEqual([101, 403, 401, 401, 403]);
    expect(dt.stream.connections()[app.clientId]).toMatchObject({ open: 1, ticketsIssued: 2, ticketsUsed: 1 });
    if ("ws" in first) first.ws.terminate();
  });

  it("answers bad credentials and bad bodies in the new-API error shape, and XML without Accept: json", async () => {
    const app = newApp();
    const bad = await openTicket({ ...app, clientSecret: "wrong" });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ code: "invalidClientIdOrSecret", message: "无效的clientId或者clientSecret", requestid: expect.any(String) as unknown });
    expect(JSON.parse((await openTicket({ clientId: "dingnobody", clientSecret: "x" })).text)).toMatchObject({ code: "invalidClientIdOrSecret" });
    await expect(client({ ...app, clientSecret: "wrong" }).getEndpoint()).rejects.toThrow("400 invalidClientIdOrSecret");

    const post = async (body: unknown) => {
      const res = await fetch(`${dt.url}/v1.0/gateway/connections/open`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      return { status: res.status, code: ErrorAnswer.parse(await res.json()).code };
    };
    expect(await post("{nope")).toEqual({ status: 400, code: "invalidParameter.body" });
    expect(await post({ clientId: app.clientId, clientSecret: app.clientSecret })).toEqual({ status: 400, code: "Missingsubscriptions" });
    expect(await post({ ...app, subscriptions: [] })).toEqual({ status: 400, code: "invalidParameter.subscriptions" });
    expect(await post({ ...app, subscriptions: [{ type: "EVENT", topic: "x" }] })).toEqual({ status: 400, code: "invalidParameter.subscriptions" });
    expect(await post({ ...app, subscriptions: [{ type: "NOPE", topic: "x" }] })).toEqual({ status: 400, code: "invalidParameter.subscriptions.type" });

    const xml = await openTicket(app, {});
    expect(xml.status).toBe(200);
    expect(xml.type).toContain("application/xml");
    expect(xml.text).toMatch(/^<\?xml.*<endpoint>ws:\/\/.+<\/endpoint><ticket>[0-9a-f-]{36}<\/ticket>/);
  });

  it("applies faults to the open API (5xx, throttling) and the SDK retries into a connection", async () => {
    const app = newApp();
    dt.fault({ route: "gateway.connections.open", status: 503 });
    dt.fault({ route: "gateway.connections.open", throttle: "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi" });
    const sdk = client(app);
    await sdk.connect();
    await dt.stream.waitForConnection(app.clientId, 3_000);
    expect(dt.callsTo("gateway.connections.open").map((c) => [c.status, c.fault])).toEqual([
      [503, "status:503"],
      [403, "throttle:Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"],
      [200, undefined],
    ]);
    dt.fault({ route: "gateway.connect", status: 502 });
    const { endpoint, ticket } = await ticketFor(app);
    expect((await rawConnect(`${endpoint}?ticket=${ticket}`)).status).toBe(502);
  });
});

describe("Stream double: raw upstream frames", () => {
  it("records unparseable frames, non-echo ping replies, and answers WS pings", async () => {
    const app = newApp();
    const { endpoint, ticket } = await ticketFor(app);
    const conn = await rawConnect(`${endpoint}?ticket=${ticket}`);
    if (!("ws" in conn)) throw new Error(`handshake refused: ${conn.status}`);
    const ws = conn.ws;
    try {
      const pong = new Promise<void>((resolve) => ws.once("pong", () => resolve()));
      ws.ping();
      await pong;

      const pinged = new Promise<string>((resolve) => ws.once("message", (d: Buffer) => resolve(d.toString())));
      const [ping] = dt.stream.ping(app.clientId);
      const down = JSON.parse(await pinged) as { headers: { messageId: string } };
      ws.send("not json");
      ws.send(JSON.stringify({ code: 200, message: "OK" }));
      ws.send(JSON.stringify({ code: 200, headers: { messageId: down.headers.messageId }, message: "OK", data: '{"opaque":"other"}' }));
      const reply = await dt.stream.waitForAck(ping!.messageId);
      expect(reply.data).toEqual({ opaque: "other" });
      expect(ping!.echoed).toBe(false);
      expect(dt.stream.acks.map((a) => a.error)).toEqual(["not JSON", expect.stringContaining("headers") as unknown, undefined]);
      expect(dt.stream.acks[0]).toMatchObject({ raw: "not json", connectionId: expect.any(String) as unknown });

      const next = new Promise<string>((resolve) => ws.once("message", (d: Buffer) => resolve(d.toString())));
      const id = dt.stream.push(app.clientId, "{broken");
      expect(JSON.parse(await next)).toMatchObject({ type: "CALLBACK", headers: { messageId: id }, data: "{broken" });
    } finally {
      ws.terminate();
    }
  });
});

describe("Stream double: disconnects and reconnects", () => {
  it("dropConnections cuts the socket and the SDK reconnects with a fresh ticket", async () => {
    const app = newApp();
    const sdk = client(app);
    const got = frames(sdk, TOPIC_ROBOT);
    await sdk.connect();
    const first = await dt.stream.waitForConnection(app.clientId);
    expect(dt.stream.dropConnections(app.clientId)).toBe(1);
    expect(dt.stream.connections()[app.clientId]).toMatchObject({ open: 0, opened: 1 });
    const second = await dt.stream.waitForConnection(app.clientId, 3_000, { nth: 2 });
    expect(second.ticket).not.toBe(first.ticket);
    expect(second.connectionId).not.toBe(first.connectionId);
    expect(dt.stream.connections()[app.clientId]).toEqual({ open: 1, closing: 0, opened: 2, ticketsIssued: 2, ticketsUsed: 2 });
    expect(dt.stream.connectionList(app.clientId)[0]).toMatchObject({ state: "closed", closeCode: 1006 });
    const id = dt.stream.push(app.clientId, callbackBody());
    const [frame] = await got;
    expect(frame!.headers).toMatchObject({ messageId: id, connectionId: second.connectionId });
  });

  it("sends a SYSTEM disconnect, closes after the delay, and holds pushes for the next connection", async () => {
    const app = newApp();
    const sdk = client(app);
    const got = frames(sdk, TOPIC_ROBOT);
    await sdk.connect();
    const first = await dt.stream.waitForConnection(app.clientId);
    expect(dt.stream.disconnect(app.clientId, { closeAfterMs: 50 })).toEqual([first.connectionId]);
    expect(dt.stream.connections()[app.clientId]).toMatchObject({ open: 0, closing: 1 });
    const id = dt.stream.push(app.clientId, callbackBody());
    expect(dt.stream.message(id)).toMatchObject({ waiting: true, deliveries: [] });

    const second = await dt.stream.waitForConnection(app.clientId, 3_000, { nth: 2 });
    const [frame] = await got;
    expect(frame!.headers).toMatchObject({ messageId: id, connectionId: second.connectionId });
    expect(sdk.systemTopics).toEqual(["disconnect"]);
    const sent = dt.stream.frames.find((f) => f.kind === "disconnect");
    expect(sent).toMatchObject({ connectionId: first.connectionId, frame: { type: "SYSTEM", headers: { topic: "disconnect" } } });
    expect(JSON.parse(sent!.frame!.data)).toEqual({ reason: "connection is expired" });
    expect(dt.stream.connectionList(app.clientId)[0]).toMatchObject({ state: "closed", closeCode: 1000 });
  });
});

describe("Stream double: standalone process", () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.pid && child.exitCode === null) child.kill("SIGTERM");
  });

  it("exposes the gateway and is driven through /__control/stream", async () => {
    const app = { clientId: "dingproc", clientSecret: "proc-secret-789" };
    child = spawn(process.execPath, ["--import", "tsx", "test/doubles/dingtalk/main.ts", "--port", "0", "--app", `${app.clientId}:${app.clientSecret}`], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines = createInterface({ input: child.stdout! });
    const { url } = JSON.parse(
      await new Promise<string>((resolve, reject) => {
        lines.once("line", resolve);
        child!.once("exit", (code) => reject(new Error(`double exited with ${code}`)));
      }),
    ) as { url: string };
    const control = async <T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${url}/__control/stream/${path}`, {
        method,
        headers: { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as T };
    };

    expect(await control("POST", "redelivery", { delayMs: 5_000, max: 1 })).toEqual({ status: 200, body: { delayMs: 5_000, max: 1, sameMessageId: true } });
    const sdk = client(app, url);
    const got = frames(sdk, TOPIC_ROBOT);
    await sdk.connect();
    const conn = await control("POST", "wait-connection", { clientId: app.clientId, timeoutMs: 3_000 });
    expect(conn).toMatchObject({ status: 200, body: { clientId: app.clientId, state: "open" } });

    const body = callbackBody({ text: "from another process" });
    const pushed = await control<{ messageId: string }>("POST", "push", { clientId: app.clientId, body });
    const id = pushed.body.messageId;
    const [frame] = await got;
    expect(JSON.parse(frame!.data)).toEqual(body);
    sdk.socketCallBackResponse(id, null);
    const ack = await control("POST", "wait-ack", { messageId: id, timeoutMs: 3_000 });
    expect(ack).toMatchObject({ status: 200, body: { answers: id, frame: { code: 200 } } });
    expect((await control("GET", `acks?messageId=${id}`)).body).toHaveLength(1);
    expect((await control("GET", `messages?messageId=${id}`)).body).toMatchObject([{ acked: true }]);

    const ping = await control<{ pings: { messageId: string }[] }>("POST", "ping", { clientId: app.clientId });
    const pingId = ping.body.pings[0]!.messageId;
    expect((await control("POST", "wait-ack", { messageId: pingId })).status).toBe(200);
    expect((await control("GET", "pings")).body).toMatchObject([{ messageId: pingId, echoed: true }]);

    expect((await control<{ connections: string[] }>("POST", "disconnect", { clientId: app.clientId, closeAfterMs: 20 })).body.connections).toHaveLength(1);
    expect((await control("POST", "wait-connection", { clientId: app.clientId, nth: 2 })).status).toBe(200);
    expect(await control("POST", "drop", { clientId: app.clientId })).toEqual({ status: 200, body: { dropped: 1 } });
    expect((await control("POST", "wait-connection", { clientId: app.clientId, nth: 3 })).status).toBe(200);
    expect((await control<{ apps: Record<string, unknown> }>("GET", "connections")).body.apps[app.clientId]).toEqual({ open: 1, closing: 0, opened: 3, ticketsIssued: 3, ticketsUsed: 3 });
    expect((await control<{ kind: string }[]>("GET", "frames")).body.map((f) => f.kind)).toEqual(["CALLBACK", "ping", "disconnect"]);

    expect(await control("POST", "wait-ack", { messageId: "nope", timeoutMs: 20 })).toMatchObject({ status: 408 });
    expect(await control("POST", "push", { clientId: "dingnobody", body: {} })).toMatchObject({ status: 400, body: { error: expect.stringContaining("unknown app") as unknown } });
    expect(await control("POST", "push", { clientId: app.clientId })).toMatchObject({ status: 400 });

    await fetch(`${url}/__control/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ route: "gateway.connections.open", status: 500 }) });
    const faulted = await fetch(`${url}/v1.0/gateway/connections/open`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ ...app, subscriptions: [{ type: "CALLBACK", topic: TOPIC_ROBOT }] }),
    });
    expect(faulted.status).toBe(500);
    expect(await control("POST", "reset")).toEqual({ status: 200, body: { ok: true } });
    expect((await control("GET", "acks")).body).toEqual([]);
  });
});
