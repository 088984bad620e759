// The DingTalk double itself: answers like DingTalk (token rules, body validation, error shapes),
// applies faults, and runs as a standalone process driven through its control API.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DingTalkClient } from "../../functions/core/dingtalk/client.js";
import { startDingTalkDouble, type DingTalkDouble } from "../doubles/dingtalk/index.js";

let dt: DingTalkDouble;
const APP = { clientId: "dingdoubletest", clientSecret: "double-secret-123" };

beforeAll(async () => {
  dt = await startDingTalkDouble({ apps: [APP, { clientId: "dingother", clientSecret: "other-secret-456" }] });
});
beforeEach(() => dt.reset());
afterAll(() => dt.close());

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${dt.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function token(clientId = APP.clientId, secret = APP.clientSecret): Promise<string> {
  const r = await post("/v1.0/oauth2/accessToken", { appKey: clientId, appSecret: secret });
  return r.body.accessToken as string;
}

const markdownParam = JSON.stringify({ title: "t", text: "x" });

describe("DingTalk double: tokens", () => {
  it("returns the same token while valid and a new one after expiry", async () => {
    const a = await post("/v1.0/oauth2/accessToken", { appKey: APP.clientId, appSecret: APP.clientSecret });
    expect(a).toMatchObject({ status: 200, body: { expireIn: 7200 } });
    expect(await token()).toBe(a.body.accessToken);
    dt.advance(7_201_000);
    expect(await token()).not.toBe(a.body.accessToken);
  });

  it("answers bad credentials in both token APIs' shapes", async () => {
    expect(await post("/v1.0/oauth2/accessToken", { appKey: APP.clientId, appSecret: "nope" })).toMatchObject({
      status: 400,
      body: { code: "invalidClientIdOrSecret", message: "无效的clientId或者clientSecret" },
    });
    const legacyBad = await fetch(`${dt.url}/gettoken?appkey=${APP.clientId}&appsecret=nope`);
    expect(legacyBad.status).toBe(200);
    expect(await legacyBad.json()).toMatchObject({ errcode: 40096 });
    const legacyMissing = await fetch(`${dt.url}/gettoken`);
    expect(await legacyMissing.json()).toMatchObject({ errcode: 40035 });
    const legacyOk = await fetch(`${dt.url}/gettoken?appkey=${APP.clientId}&appsecret=${APP.clientSecret}`);
    expect(await legacyOk.json()).toMatchObject({ errcode: 0, errmsg: "ok", expires_in: 7200 });
  });
});

describe("DingTalk double: robot send validation", () => {
  const group = (extra: Record<string, unknown> = {}) => ({ robotCode: APP.clientId, openConversationId: "cid1", msgKey: "sampleMarkdown", msgParam: markdownParam, ...extra });

  it("requires the token header and a valid token", async () => {
    const t = await token();
    expect((await post("/v1.0/robot/groupMessages/send", group())).body.code).toBe("AuthenticationFailed.MissingParameter");
    expect((await post(`/v1.0/robot/groupMessages/send?access_token=${t}`, group())).body.code).toBe("AuthenticationFailed.MissingParameter");
    expect(await post("/v1.0/robot/groupMessages/send", group(), { "x-acs-dingtalk-access-token": "bogus" })).toMatchObject({
      status: 400,
      body: { code: "InvalidAuthentication", message: "不合法的access_token" },
    });
    expect((await post("/v1.0/robot/groupMessages/send", group(), { "x-acs-dingtalk-access-token": t })).status).toBe(200);
  });

  it("rejects bad bodies with DingTalk's codes", async () => {
    const h = { "x-acs-dingtalk-access-token": await token() };
    const code = async (path: string, body: unknown) => (await post(path, body, h)).body.code;
    const g = "/v1.0/robot/groupMessages/send";
    const o = "/v1.0/robot/oToMessages/batchSend";
    expect(await code(g, group({ robotCode: "" }))).toBe("invalidParameter.robotCode.empty");
    expect(await code(g, group({ robotCode: "dingother" }))).toBe("invalidParameter.robotCode.auth");
    expect(await code(g, group({ msgKey: "sampleNope" }))).toBe("invalidParameter.msgKey.invalid");
    expect(await code(g, group({ msgKey: "" }))).toBe("invalidParameter.msgKey.empty");
    expect(await code(g, group({ msgParam: { title: "t", text: "x" } }))).toBe("invalidParameter.msgParam.invalid");
    expect(await code(g, group({ msgParam: "{not json" }))).toBe("invalidParameter.msgParam.invalid");
    expect(await code(g, group({ msgParam: JSON.stringify({ content: "x" }) }))).toBe("invalidParameter.msgParam.invalid");
    expect(await code(g, group({ msgParam: JSON.stringify({ title: "t", text: "长".repeat(5000) }) }))).toBe("invalidParameter.msgParam.tooLong");
    expect(await code(g, group({ openConversationId: "" }))).toBe("invalidParameter.openConversationId.empty");
    expect(await code(g, "not json")).toBe("invalidParameter.body");
    const oto = { robotCode: APP.clientId, msgKey: "sampleText", msgParam: JSON.stringify({ content: "hi" }) };
    expect(await code(o, { ...oto, userIds: [] })).toBe("invalidParameter.userIds.empty");
    expect(await code(o, { ...oto, userIds: Array.from({ length: 21 }, (_, i) => `u${i}`) })).toBe("invalidParameter.userIds.overMax");
    const ok = await post(o, { ...oto, userIds: ["u1", "u2"] }, h);
    expect(ok).toMatchObject({ status: 200, body: { invalidStaffIdList: [], flowControlledStaffIdList: [] } });
    expect(dt.sent().map((m) => m.userId)).toEqual(["u1", "u2"]);
  });

  it("batchSend lists unknown and flow-controlled staff ids instead of sending to them", async () => {
    const h = { "x-acs-dingtalk-access-token": await token() };
    dt.robot.unknownStaff.add("ghost");
    dt.robot.flowControlled.set("busy", 1);
    const oto = { robotCode: APP.clientId, msgKey: "sampleText", msgParam: JSON.stringify({ content: "hi" }) };
    const first = await post("/v1.0/robot/oToMessages/batchSend", { ...oto, userIds: ["u1", "ghost", "busy"] }, h);
    expect(first).toMatchObject({ status: 200, body: { invalidStaffIdList: ["ghost"], flowControlledStaffIdList: ["busy"] } });
    expect(dt.sent().map((m) => m.userId)).toEqual(["u1"]);
    const again = await post("/v1.0/robot/oToMessages/batchSend", { ...oto, userIds: ["busy"] }, h);
    expect(again.body).toMatchObject({ invalidStaffIdList: [], flowControlledStaffIdList: [] });
    expect(dt.sent().map((m) => m.userId)).toEqual(["u1", "busy"]);
  });

  it("without qyapi_robot_sendmsg both send APIs answer 403 AccessTokenPermissionDenied; unknown groups are refused", async () => {
    const h = { "x-acs-dingtalk-access-token": await token() };
    dt.robot.unknownGroups.add("cidGone");
    expect(await post("/v1.0/robot/groupMessages/send", group({ openConversationId: "cidGone" }), h)).toMatchObject({
      status: 400,
      body: { code: "invalid.openConversationId" },
    });
    dt.robot.sendPermission = false;
    for (const [path, body] of [
      ["/v1.0/robot/groupMessages/send", group()],
      ["/v1.0/robot/oToMessages/batchSend", { robotCode: APP.clientId, userIds: ["u1"], msgKey: "sampleText", msgParam: JSON.stringify({ content: "x" }) }],
    ] as const)
      expect(await post(path, body, h)).toMatchObject({
        status: 403,
        body: { code: "Forbidden.AccessDenied.AccessTokenPermissionDenied", accessdenieddetail: { requiredScopes: ["qyapi_robot_sendmsg"] } },
      });
    expect(dt.sent()).toHaveLength(0);
    dt.reset();
    expect(dt.robot.sendPermission).toBe(true);
  });

  it("answers unknown paths with 404 and records them", async () => {
    const r = await post("/v1.0/robot/nope", {});
    expect(r.status).toBe(404);
    expect(dt.calls.at(-1)).toMatchObject({ route: "unknown", status: 404 });
  });
});

describe("DingTalk double: session webhooks and faults", () => {
  it("answers 300001 for unknown and expired sessions and validates the body", async () => {
    const hook = dt.sessionWebhookFor({ conversationId: "cid9", conversationType: "group" }, { ttlMs: 60_000 });
    const path = hook.url.slice(dt.url.length);
    expect((await post(path, { msgtype: "text", text: { content: "hi" } })).body).toEqual({ errcode: 0, errmsg: "ok" });
    expect((await post(path, { msgtype: "markdown", markdown: { title: "t" } })).body.errcode).toBe(40035);
    expect((await post("/robot/sendBySession?session=ffff", { msgtype: "text", text: { content: "hi" } })).body).toEqual({ errcode: 300001, errmsg: "session 不存在" });
    dt.advance(61_000);
    const expired = await post(path, { msgtype: "text", text: { content: "hi" } });
    expect(expired).toEqual({ status: 200, body: { errcode: 300001, errmsg: "session 不存在" } });
    expect(dt.sent()).toMatchObject([{ route: "webhook", conversationId: "cid9", msgtype: "text", text: "hi" }]);
  });

  it("applies faults in order, by route name or path, for the given number of calls", async () => {
    dt.fault({ route: "/v1.0/oauth2/accessToken", status: 503, times: 2 });
    dt.fault({ route: "oauth2.accessToken", throttle: "Forbidden.AccessDenied.QpsLimitForApi" });
    dt.fault({ route: "oauth2.accessToken", throttle: 90018 });
    dt.fault({ route: "oauth2.accessToken", delayMs: 30 });
    const statuses: Array<[number, unknown]> = [];
    for (let i = 0; i < 6; i++) {
      const r = await post("/v1.0/oauth2/accessToken", { appKey: APP.clientId, appSecret: APP.clientSecret });
      statuses.push([r.status, r.body.code ?? r.body.errcode ?? "token"]);
    }
    expect(statuses).toEqual([
      [503, "system.error"],
      [503, "system.error"],
      [403, "Forbidden.AccessDenied.QpsLimitForApi"],
      [200, 90018],
      [200, "token"],
      [200, "token"],
    ]);
    expect(dt.calls.map((c) => c.fault)).toEqual(["status:503", "status:503", "throttle:Forbidden.AccessDenied.QpsLimitForApi", "throttle:90018", "delay:30", undefined]);
  });

  it("drops the connection on a drop fault (a network error for the client, retried)", async () => {
    dt.fault({ route: "oauth2.accessToken", drop: true });
    const client = new DingTalkClient({
      credentials: { ...APP, robotCode: APP.clientId },
      apiBase: dt.url,
      oapiBase: dt.url,
      sleep: async () => {},
    });
    await expect(client.accessToken()).resolves.toMatch(/^[0-9a-f]{32}$/);
    expect(dt.callsTo("oauth2.accessToken").map((c) => c.fault ?? "ok")).toEqual(["drop", "ok"]);
  });
});

describe("DingTalk double: standalone process", () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.pid && child.exitCode === null) child.kill("SIGTERM");
  });

  it("prints its URL and is driven through the control API", async () => {
    child = spawn(process.execPath, ["--import", "tsx", "test/doubles/dingtalk/main.ts", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    const lines = createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once("line", resolve);
      child!.once("exit", (code) => reject(new Error(`double exited with ${code}`)));
    });
    const { url } = JSON.parse(first) as { url: string; port: number };
    const control = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}/__control/${path}`, {
        method,
        headers: { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const answer: unknown = await res.json();
      return answer;
    };
    expect(await control("GET", "health")).toEqual({ ok: true });
    await control("POST", "apps", { clientId: "dingproc", clientSecret: "proc-secret-789" });
    const hook = (await control("POST", "session-webhooks", { conversationId: "cidP", conversationType: "group" })) as { url: string; expiresAt: number };
    expect(hook.url.startsWith(`${url}/robot/sendBySession?session=`)).toBe(true);
    expect(await control("POST", "faults", { route: "robot.sendBySession", throttle: 410100 })).toEqual({ ok: true });
    expect(await control("POST", "faults", { route: "x", throttle: 12345 })).toHaveProperty("error");

    const client = new DingTalkClient({
      credentials: { clientId: "dingproc", clientSecret: "proc-secret-789", robotCode: "dingproc" },
      apiBase: url,
      oapiBase: url,
      sleep: async () => {},
    });
    const target = { conversationType: "group" as const, conversationId: "cidP", robotCode: "dingproc" };
    await client.send({ ...target, sessionWebhook: hook.url, sessionWebhookExpiresAt: hook.expiresAt }, { kind: "text", text: "经由webhook" });
    await client.send(target, { kind: "markdown", title: "标题", text: "经由OpenAPI" });

    const sent = (await control("GET", "sent")) as Array<{ route: string; text: string }>;
    expect(sent.map((m) => [m.route, m.text])).toEqual([
      ["webhook", "经由webhook"],
      ["openapi", "经由OpenAPI"],
    ]);
    const calls = (await control("GET", "calls?route=robot.sendBySession")) as Array<{ fault?: string }>;
    expect(calls.map((c) => c.fault ?? "ok")).toEqual(["throttle:410100", "ok"]);
    expect(await control("POST", "reset")).toEqual({ ok: true });
    expect(await control("GET", "sent")).toEqual([]);

    const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
