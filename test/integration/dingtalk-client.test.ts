// DingTalkClient against the DingTalk double over real HTTP: route choice (webhook vs OpenAPI),
// fallbacks, retries on throttling and 5xx, single-flight token refresh, re-auth, downloads.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LocalRateGate, type RateGate } from "../../functions/core/dingtalk/rate-gate.js";
import { DingTalkClient, type ReplyTarget } from "../../functions/core/dingtalk/client.js";
import { DingTalkApiError } from "../../functions/core/dingtalk/http.js";
import { renderReply } from "../../functions/core/dingtalk/split.js";
import { silentLogger } from "../../functions/core/log.js";
import { startDingTalkDouble, type DingTalkDouble } from "../doubles/dingtalk/index.js";
import { rejection } from "../helpers/rejection.js";

const CLIENT_ID = "dingclienttest01";
const SECRET = "client-secret-for-tests-8f2c";
const GROUP = "cidGroupConversation==";
const STAFF = "manager4711";

let dt: DingTalkDouble;

beforeAll(async () => {
  dt = await startDingTalkDouble();
  dt.app(CLIENT_ID, SECRET);
});
beforeEach(() => dt.reset());
afterAll(() => dt.close());

function makeClient(opts: { secret?: string; gate?: RateGate } = {}) {
  const delays: number[] = [];
  const client = new DingTalkClient({
    credentials: { clientId: CLIENT_ID, clientSecret: opts.secret ?? SECRET, robotCode: CLIENT_ID },
    ...(opts.gate ? { gate: opts.gate } : {}),
    apiBase: dt.url,
    oapiBase: dt.url,
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
    log: silentLogger,
  });
  return { client, delays };
}

function groupTarget(extra: Partial<ReplyTarget> = {}): ReplyTarget {
  return { conversationType: "group", conversationId: GROUP, robotCode: CLIENT_ID, ...extra };
}

function directTarget(extra: Partial<ReplyTarget> = {}): ReplyTarget {
  return { conversationType: "direct", conversationId: "cidDirect==", staffId: STAFF, robotCode: CLIENT_ID, ...extra };
}

const failure = (p: Promise<unknown>) => rejection(p, DingTalkApiError);

const md = { kind: "markdown", title: "天气", text: "今天**晴**" } as const;

describe("DingTalkClient.send: route choice", () => {
  it("uses a valid session webhook and needs no token", async () => {
    const hook = dt.sessionWebhookFor({ conversationId: GROUP, conversationType: "group", robotCode: CLIENT_ID });
    const { client } = makeClient();
    const result = await client.send(groupTarget({ sessionWebhook: hook.url, sessionWebhookExpiresAt: hook.expiresAt }), md);
    expect(result).toEqual({ route: "webhook" });
    expect(dt.callsTo("oauth2.accessToken")).toHaveLength(0);
    expect(dt.sent()).toMatchObject([{ route: "webhook", conversationId: GROUP, msgtype: "markdown", title: "天气", text: "今天**晴**" }]);
  });

  it("uses the group OpenAPI with the token header once the webhook has expired (or nearly)", async () => {
    const { client } = makeClient();
    for (const expiresAt of [Date.now() - 1_000, Date.now() + 5_000]) {
      const hook = dt.sessionWebhookFor({ conversationId: GROUP, conversationType: "group" }, { expiresAt });
      const result = await client.send(groupTarget({ sessionWebhook: hook.url, sessionWebhookExpiresAt: expiresAt }), md);
      expect(result.route).toBe("openapi");
      expect(result.processQueryKey).toBeTruthy();
      expect(result.fallbackReason).toBe("session webhook expired");
    }
    expect(dt.callsTo("robot.sendBySession")).toHaveLength(0);
    const sends = dt.callsTo("robot.groupMessages.send");
    expect(sends).toHaveLength(2);
    const tokenCall = dt.callsTo("oauth2.accessToken");
    expect(tokenCall).toHaveLength(1);
    expect(sends[0]!.headers["x-acs-dingtalk-access-token"]).toMatch(/^[0-9a-f]{32}$/);
    expect(sends[0]!.body).toEqual({
      robotCode: CLIENT_ID,
      openConversationId: GROUP,
      msgKey: "sampleMarkdown",
      msgParam: JSON.stringify({ title: "天气", text: "今天**晴**" }),
    });
    expect(dt.sent().map((m) => [m.route, m.conversationId, m.msgtype, m.title])).toEqual([
      ["openapi", GROUP, "markdown", "天气"],
      ["openapi", GROUP, "markdown", "天气"],
    ]);
  });

  it("falls back to the OpenAPI when the webhook answers 300001", async () => {
    const dead = dt.sessionWebhookFor({ conversationId: GROUP, conversationType: "group" }, { expiresAt: Date.now() - 1 });
    const { client } = makeClient();
    const result = await client.send(groupTarget({ sessionWebhook: dead.url, sessionWebhookExpiresAt: Date.now() + 3_600_000 }), md);
    expect(result).toMatchObject({ route: "openapi", fallbackReason: "session webhook gone (300001)" });
    expect(dt.callsTo("robot.sendBySession").map((c) => c.status)).toEqual([200]);
    expect(dt.sent()).toHaveLength(1);
    expect(dt.sent()[0]!.route).toBe("openapi");
  });

  it("sends 1:1 replies with batchSend to the staff id", async () => {
    dt.sessionWebhookFor({ conversationId: "cidDirect==", conversationType: "direct", staffId: STAFF, robotCode: CLIENT_ID }, { expiresAt: Date.now() - 1 });
    const { client } = makeClient();
    const result = await client.send(directTarget(), { kind: "text", text: "你好" });
    expect(result.route).toBe("openapi");
    expect(dt.callsTo("robot.oToMessages.batchSend")[0]!.body).toMatchObject({ userIds: [STAFF], msgKey: "sampleText" });
    expect(dt.sent()).toMatchObject([{ route: "openapi", conversationType: "direct", conversationId: "cidDirect==", userId: STAFF, msgtype: "text", text: "你好" }]);
  });

  it("explains that an external user (no staffId) can only be reached by the webhook", async () => {
    const { client } = makeClient();
    const hook = dt.sessionWebhookFor({ conversationId: "cidExt==", conversationType: "direct" }, { expiresAt: Date.now() - 1 });
    const err = await failure(client.send(directTarget({ staffId: undefined, sessionWebhook: hook.url, sessionWebhookExpiresAt: hook.expiresAt }), md));
    expect(err.code).toBe("noRoute");
    expect(err.message).toContain("no staffId");
    expect(err.message).toContain("session webhook expired");
    expect(dt.calls).toHaveLength(0);
  });

  it("does not post to a session webhook on another host", async () => {
    const { client } = makeClient();
    const result = await client.send(groupTarget({ sessionWebhook: "https://evil.example/robot/sendBySession?session=1", sessionWebhookExpiresAt: Date.now() + 3_600_000 }), md);
    expect(result).toMatchObject({ route: "openapi", fallbackReason: "session webhook not on the oapi host" });
  });

  it("maps actionCards: one button via webhook, three via the OpenAPI; @ mentions via webhook", async () => {
    const hook = dt.sessionWebhookFor({ conversationId: GROUP, conversationType: "group" });
    const { client } = makeClient();
    const target = groupTarget({ sessionWebhook: hook.url, sessionWebhookExpiresAt: hook.expiresAt });
    await client.send(target, { kind: "actionCard", title: "审批", text: "请处理", buttons: [{ title: "打开", url: "https://a.example/1" }] });
    await client.send(groupTarget(), {
      kind: "actionCard",
      title: "选择",
      text: "选一个",
      buttons: [1, 2, 3].map((i) => ({ title: `选项${i}`, url: `https://a.example/${i}` })),
    });
    await client.send({ ...target, atStaffIds: [STAFF] }, { kind: "text", text: "请看" });
    const [one, three, mention] = dt.sent();
    expect(one).toMatchObject({ route: "webhook", msgtype: "actionCard", buttons: [{ title: "打开", url: "https://a.example/1" }] });
    expect(three).toMatchObject({ route: "openapi", msgKey: "sampleActionCard3", msgtype: "actionCard", title: "选择" });
    expect(three!.buttons).toHaveLength(3);
    expect(mention).toMatchObject({ msgtype: "text", text: `请看\n\n@${STAFF}`, atUserIds: [STAFF] });
  });
});

describe("DingTalkClient.send: retries", () => {
  it("retries a throttled OpenAPI send (new-API code) and delivers once", async () => {
    dt.fault({ route: "robot.groupMessages.send", throttle: "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", times: 2 });
    const { client, delays } = makeClient();
    const result = await client.send(groupTarget(), md);
    expect(result.route).toBe("openapi");
    expect(dt.callsTo("robot.groupMessages.send").map((c) => c.status)).toEqual([403, 403, 200]);
    expect(delays).toHaveLength(2);
    expect(delays[1]!).toBeGreaterThan(0);
    expect(dt.sent()).toHaveLength(1);
  });

  it("retries a throttled webhook send (legacy errcodes) and delivers once", async () => {
    const hook = dt.sessionWebhookFor({ conversationId: GROUP, conversationType: "group" });
    dt.fault({ route: "robot.sendBySession", throttle: 410100 });
    dt.fault({ route: "robot.sendBySession", throttle: 660026 });
    const { client, delays } = makeClient();
    const result = await client.send(groupTarget({ sessionWebhook: hook.url, sessionWebhookExpiresAt: hook.expiresAt }), md);
    expect(result).toEqual({ route: "webhook" });
    expect(dt.callsTo("robot.sendBySession").map((c) => c.fault ?? "ok")).toEqual(["throttle:410100", "throttle:660026", "ok"]);
    expect(delays).toHaveLength(2);
    expect(dt.sent()).toHaveLength(1);
  });

  it("retries send.too.fast and 5xx on batchSend", async () => {
    dt.fault({ route: "robot.oToMessages.batchSend", status: 502 });
    dt.fault({ route: "robot.oToMessages.batchSend", throttle: "send.too.fast" });
    const { client } = makeClient();
    await client.send(directTarget(), md);
    expect(dt.callsTo("robot.oToMessages.batchSend").map((c) => c.status)).toEqual([502, 400, 200]);
    expect(dt.sent()).toHaveLength(1);
  });

  it("gives up after four attempts on persistent 5xx", async () => {
    dt.fault({ route: "robot.groupMessages.send", status: 500, times: Infinity });
    const { client } = makeClient();
    const err = await failure(client.send(groupTarget(), md));
    expect(err).toMatchObject({ status: 500, code: "system.error", retryable: true });
    expect(dt.callsTo("robot.groupMessages.send")).toHaveLength(4);
    expect(dt.sent()).toHaveLength(0);
  });

  it("retries a per-user flow control answer and reports an invalid staff id", async () => {
    dt.fault({ route: "robot.oToMessages.batchSend", status: 200, body: { processQueryKey: "q1", invalidStaffIdList: [], flowControlledStaffIdList: [STAFF] } });
    const { client } = makeClient();
    await client.send(directTarget(), md);
    expect(dt.callsTo("robot.oToMessages.batchSend")).toHaveLength(2);
    dt.fault({ route: "robot.oToMessages.batchSend", status: 200, body: { processQueryKey: "q2", invalidStaffIdList: [STAFF], flowControlledStaffIdList: [] } });
    const err = await failure(client.send(directTarget(), md));
    expect(err).toMatchObject({ code: "invalidStaffId", retryable: false });
  });

  it("refuses an oversized msgParam before calling DingTalk", async () => {
    const { client } = makeClient();
    const err = await failure(client.send(groupTarget(), { kind: "markdown", title: "t", text: "长".repeat(6000) }));
    expect(err.code).toBe("msgParam.tooLong");
    expect(dt.callsTo("robot.groupMessages.send")).toHaveLength(0);
  });
});

describe("DingTalkClient: access tokens", () => {
  it("shares one token request among 20 concurrent sends (paced by the app's rate gate)", async () => {
    const { client } = makeClient({ gate: new LocalRateGate({ qps: 15 }) });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => client.send(groupTarget(), { kind: "text", text: `消息${i}` })));
    expect(results.every((r) => r.route === "openapi")).toBe(true);
    expect(dt.callsTo("oauth2.accessToken")).toHaveLength(1);
    expect(dt.sent()).toHaveLength(20);
    await client.send(groupTarget(), md);
    expect(dt.callsTo("oauth2.accessToken")).toHaveLength(1);
  });

  it("refreshes once on InvalidAuthentication and succeeds", async () => {
    const { client } = makeClient();
    await client.send(groupTarget(), md);
    dt.expireTokens();
    await client.send(groupTarget(), md);
    expect(dt.callsTo("robot.groupMessages.send").map((c) => c.status)).toEqual([200, 400, 200]);
    expect(dt.callsTo("oauth2.accessToken")).toHaveLength(2);
    const [, stale, fresh] = dt.callsTo("robot.groupMessages.send");
    expect(stale!.headers["x-acs-dingtalk-access-token"]).not.toBe(fresh!.headers["x-acs-dingtalk-access-token"]);
  });

  it("refreshes only once for many concurrent sends hitting an expired token", async () => {
    const { client } = makeClient();
    await client.send(groupTarget(), md);
    dt.expireTokens();
    await Promise.all(Array.from({ length: 10 }, () => client.send(groupTarget(), md)));
    expect(dt.callsTo("oauth2.accessToken")).toHaveLength(2);
    expect(dt.sent()).toHaveLength(11);
  });

  it("names the client id, never the secret, when the credentials are wrong", async () => {
    const { client } = makeClient({ secret: "wrong-secret-value-1234" });
    const err = await failure(client.send(groupTarget(), md));
    expect(err.code).toBe("invalidClientIdOrSecret");
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(CLIENT_ID);
    expect(err.message).not.toContain("wrong-secret-value-1234");
    expect(dt.callsTo("oauth2.accessToken")).toHaveLength(1);
  });
});

describe("DingTalkClient.downloadUrl", () => {
  it("returns a URL that serves the file, and a clear error for an unknown code", async () => {
    const code = dt.addFile(Buffer.from("PNGDATA"), { fileName: "a.png", contentType: "image/png" });
    const { client } = makeClient();
    const url = await client.downloadUrl(code, CLIENT_ID);
    const res = await fetch(url);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await res.arrayBuffer()).toString()).toBe("PNGDATA");
    const err = await failure(client.downloadUrl("dcUnknown", CLIENT_ID));
    expect(err).toMatchObject({ status: 400, code: "invalidParameter.robotCode.downloadCode", retryable: false });
  });
});

describe("renderReply + send", () => {
  it("delivers every part of a long reply through the validating double", async () => {
    const paragraph = "钉钉机器人会把很长的回答拆成几条消息，每条都在限制以内。😀".repeat(40);
    const answer = `<think>先想想</think>\n\n# 长回答\n\n${Array.from({ length: 12 }, () => paragraph).join("\n\n")}`;
    const parts = renderReply(answer);
    expect(parts.length).toBeGreaterThan(1);
    const { client } = makeClient();
    for (const part of parts) await client.send(groupTarget(), { kind: "markdown", title: part.title, text: part.text });
    const sent = dt.sent();
    expect(sent.map((m) => m.text)).toEqual(parts.map((p) => p.text));
    expect(sent[0]!.title).toBe(`长回答 (1/${parts.length})`);
  });
});
