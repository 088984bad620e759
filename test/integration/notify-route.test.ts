// The gateway's POST /notify against the DingTalk double and a real table: every status code (200,
// 400, 401, 404 without a token, 409, 413, 502/503 from DingTalk), the same id sent once (also across
// a restart of the gateway), and a retry after a failure midway sending only what was left.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.js";
import { startGateway, type Gateway } from "../../functions/core/gateway/start.js";
import { bearerMatches } from "../../functions/core/proactive/notify-http.js";
import { notify, parseNotifyRequest } from "../../functions/core/proactive/notify.js";
import { ProactiveSendError } from "../../functions/core/proactive/send.js";
import { IdempotencyStore } from "../../functions/core/store/idempotency.js";
import { rejection } from "../helpers/rejection.js";
import { startWorld, type World } from "../helpers/world.js";

const TOKEN = "notify-token-for-tests-5d8e1f";
const GROUP = "cidNotifyGroup==";

let w: World;
let gw: Gateway;

function raw(extra: Record<string, unknown> = {}) {
  const base = JSON.parse(w.configJson) as { channels: { dingtalk: Record<string, unknown> } };
  return { ...base, channels: { dingtalk: { ...base.channels.dingtalk, mode: "http", ...extra } } };
}

async function gateway(extra: Record<string, unknown> = { notify_token: TOKEN }, env: Record<string, string> = {}): Promise<Gateway> {
  return startGateway({ config: parseConfig(raw(extra), { ...w.env, ...env }), log: w.log, port: 0, host: "127.0.0.1", table: w.db.table });
}

beforeAll(async () => {
  w = await startWorld();
  gw = await gateway();
});
beforeEach(() => w.dt.reset());
afterAll(async () => {
  await gw.close();
  await w.close();
});

function post(body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }, at: Gateway = gw) {
  return fetch(`${at.url}/notify`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers }));
}

describe("POST /notify", () => {
  it("200: sends text to a group and says where it went", async () => {
    const res = await post({ to: { group: GROUP }, text: "部署完成 ✅" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, sent: { group: GROUP }, to: `group ${GROUP}`, parts: 1 });
    expect(w.dt.sent()).toMatchObject([{ route: "openapi", conversationType: "group", conversationId: GROUP, msgtype: "text", text: "部署完成 ✅" }]);
  });

  it("200: sends markdown with a title to users, listing the staff ids DingTalk refused", async () => {
    w.dt.robot.unknownStaff.add("nobody");
    const res = await post({ to: { users: ["alice", "nobody", "bob"] }, markdown: "## 构建失败\n- main #42", title: "CI" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, sent: { users: ["alice", "bob"] }, invalidStaffIds: ["nobody"] });
    expect(w.dt.sent().map((m) => [m.userId, m.title])).toEqual([
      ["alice", "CI"],
      ["bob", "CI"],
    ]);
  });

  it("401 without the token, with a wrong one or another scheme; nothing is sent", async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer nope" }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }, { authorization: "Bearer " }];
    for (const headers of attempts) {
      const res = await post({ to: { group: GROUP }, text: "x" }, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
      expect(JSON.stringify(res.body)).not.toContain(TOKEN);
    }
    expect(w.dt.calls).toHaveLength(0);
  });

  it("bearer check: the scheme is case-insensitive, the token is not", () => {
    expect(bearerMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`Bearer ${TOKEN.toUpperCase()}`, TOKEN)).toBe(false);
    expect(bearerMatches([`Bearer ${TOKEN}`], TOKEN)).toBe(true);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
  });

  it("400 with the reason for a bad body", async () => {
    const cases: Array<[unknown, RegExp]> = [
      ["{not json", /not JSON/],
      [{ to: { group: GROUP } }, /text: needs either "text" or "markdown"/],
      [{ to: { group: GROUP }, text: "a", markdown: "b" }, /not both/],
      [{ to: { group: GROUP }, text: "a", title: "t" }, /title: goes with "markdown" only/],
      [{ to: { users: [] }, text: "a" }, /to/],
      [{ to: { channel: "x" }, text: "a" }, /to: must be \{"users"/],
      [{ to: { group: GROUP }, text: "a", id: "has space" }, /id: must be 1-128 printable/],
      [{ to: { group: GROUP }, text: "a", extra: 1 }, /extra/],
      [{ to: { group: GROUP }, text: "长".repeat(20_001) }, /text: must be at most 20000/],
      [[1, 2], /expected object/],
    ];
    for (const [body, reason] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.body.ok).toBe(false);
      expect(String(res.body.error)).toMatch(reason);
    }
    expect(w.dt.calls).toHaveLength(0);
  });

  it("413 for a body over the limit, 405 for GET", async () => {
    expect((await post({ to: { group: GROUP }, text: "x".repeat(300 * 1024) })).status).toBe(413);
    expect((await fetch(`${gw.url}/notify`)).status).toBe(405);
  });

  it("502 with DingTalk's refusal in plain words: the robot permission", async () => {
    w.dt.robot.sendPermission = false;
    const res = await post({ to: { group: GROUP }, text: "x" });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ ok: false, code: "Forbidden.AccessDenied.AccessTokenPermissionDenied", retryable: false });
    expect(String(res.body.error)).toContain("qyapi_robot_sendmsg");
  });

  it("503 when DingTalk keeps failing with 5xx (worth retrying)", async () => {
    w.dt.fault({ route: "robot.groupMessages.send", status: 500, times: Infinity });
    const res = await post({ to: { group: GROUP }, text: "x" });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ ok: false, retryable: true });
  });

  it("the same id twice is sent once, also after a gateway restart", async () => {
    const body = { to: { group: GROUP }, text: "发布 v1.2.3", id: "release-1.2.3" };
    const first = await post(body);
    expect(first.body).toMatchObject({ ok: true, id: "release-1.2.3", sent: { group: GROUP } });
    const again = await post(body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ ok: true, id: "release-1.2.3", duplicate: true, sent: { group: GROUP } });
    const restarted = await gateway();
    try {
      expect((await post(body, undefined, restarted)).body).toMatchObject({ duplicate: true });
    } finally {
      await restarted.close();
    }
    expect(w.dt.sent()).toHaveLength(1);
  });

  it("concurrent requests with one id: one sends, the others are told it is under way or done", async () => {
    const body = { to: { users: ["carol"] }, text: "并发", id: "concurrent-1" };
    const results = await Promise.all([post(body), post(body), post(body)]);
    expect(results.filter((r) => r.body.sent && !r.body.duplicate)).toHaveLength(1);
    for (const r of results) expect([200, 409]).toContain(r.status);
    expect(w.dt.sent()).toHaveLength(1);
  });

  it("an id whose send failed before anything went out can be sent again", async () => {
    w.dt.robot.sendPermission = false;
    const body = { to: { group: GROUP }, text: "重试", id: "retry-after-failure" };
    expect((await post(body)).status).toBe(502);
    w.dt.robot.sendPermission = true;
    expect((await post(body)).body).toMatchObject({ ok: true, sent: { group: GROUP } });
    expect(w.dt.sent()).toHaveLength(1);
  });
});

describe("POST /notify without DingTalk credentials", () => {
  it("503 saying what to configure", async () => {
    const base = JSON.parse(w.configJson) as Record<string, unknown>;
    const config = parseConfig({ ...base, channels: { dingtalk: { mode: "http", notify_token: TOKEN } } }, { ...w.env, DINGTALK_CLIENT_ID: "", DINGTALK_CLIENT_SECRET: "" });
    const bare = await startGateway({ config, log: w.log, port: 0, host: "127.0.0.1", table: w.db.table });
    try {
      const res = await post({ to: { group: GROUP }, text: "x" }, undefined, bare);
      expect(res.status).toBe(503);
      expect(String(res.body.error)).toMatch(/client_id and client_secret/);
    } finally {
      await bare.close();
    }
  });
});

describe("POST /notify without a token", () => {
  it("does not exist (404), also with DINGCLAW_NOTIFY_TOKEN empty; the env variable turns it on", async () => {
    const off = await gateway({});
    try {
      const res = await post({ to: { group: GROUP }, text: "x" }, { authorization: "Bearer anything" }, off);
      expect(res.status).toBe(404);
    } finally {
      await off.close();
    }
    const fromEnv = await gateway({}, { DINGCLAW_NOTIFY_TOKEN: "env-notify-token-8a7b" });
    try {
      expect((await post({ to: { group: GROUP }, text: "x" }, { authorization: "Bearer env-notify-token-8a7b" }, fromEnv)).status).toBe(200);
    } finally {
      await fromEnv.close();
    }
  });
});

describe("notify(): an id whose send stopped midway", () => {
  it("is under way (409) while its lease runs, then a retry sends only the parts that were left", async () => {
    let now = Date.now();
    const idempotency = new IdempotencyStore(w.db.table, { now: () => now });
    const deps = { dingtalk: w.runtime.dingtalk, robotCode: w.config.dingtalk.credentials!.robotCode, idempotency, log: w.log, sleep: () => Promise.resolve() };
    const markdown = Array.from({ length: 3 }, (_, i) => `## 第 ${i + 1} 节\n${"内容很长的一段说明。".repeat(300)}`).join("\n\n");
    const parsed = parseNotifyRequest({ to: { group: GROUP }, markdown, id: "midway-1" });
    if (!parsed.ok) throw new Error(parsed.reason);
    // The first part goes out, the second is refused: the record keeps the progress.
    let calls = 0;
    w.dt.state.events.on("sent", () => {
      if (++calls === 1) w.dt.fault({ route: "robot.groupMessages.send", status: 400, body: { code: "unknown.send.result", message: "未知的发送结果" } });
    });
    const err = await rejection(notify(parsed.request, deps), ProactiveSendError);
    expect(err.code).toBe("unknown.send.result");
    w.dt.state.events.removeAllListeners("sent");
    const firstParts = w.dt.sent().map((m) => m.text);
    expect(firstParts).toHaveLength(1);
    expect(await notify(parsed.request, deps)).toEqual({ status: "in_progress", id: "midway-1" });
    now += 181_000;
    const done = await notify(parsed.request, deps);
    expect(done.status).toBe("sent");
    const parts = done.status === "sent" ? done.result.parts : 0;
    expect(parts).toBeGreaterThan(2);
    const texts = w.dt.sent().map((m) => m.text);
    expect(texts).toHaveLength(parts);
    expect(new Set(texts).size).toBe(parts);
    expect(texts[0]).toBe(firstParts[0]);
    expect(await notify(parsed.request, deps)).toMatchObject({ status: "duplicate", sent: { group: GROUP } });
  });
});
