// Proactive sends (core/proactive/send.ts) against the DingTalk double over real HTTP: groups and
// users (batches of 20), long texts split like replies, invalid and flow-controlled staff ids, a
// missing robot permission and an unknown group in plain words, retries, resuming a partial send.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DingTalkClient } from "../../functions/core/dingtalk/client.js";
import type { CallPriority, RateGate } from "../../functions/core/dingtalk/rate-gate.js";
import { silentLogger } from "../../functions/core/log.js";
import { ProactiveSendError, describeRecipients, sendProactive } from "../../functions/core/proactive/send.js";
import { startDingTalkDouble, type DingTalkDouble } from "../doubles/dingtalk/index.js";
import { rejection } from "../helpers/rejection.js";

const CLIENT_ID = "dingproactive01";
const SECRET = "proactive-secret-for-tests-3c1d";
const GROUP = "cidProactiveGroup==";

let dt: DingTalkDouble;
beforeAll(async () => {
  dt = await startDingTalkDouble();
  dt.app(CLIENT_ID, SECRET);
});
beforeEach(() => dt.reset());
afterAll(() => dt.close());

const sleeps: number[] = [];
const gated: CallPriority[] = [];
const gate: RateGate = {
  take: (priority) => {
    gated.push(priority);
    return Promise.resolve(() => undefined);
  },
};
beforeEach(() => {
  sleeps.length = 0;
  gated.length = 0;
});

function client(): DingTalkClient {
  return new DingTalkClient({
    credentials: { clientId: CLIENT_ID, clientSecret: SECRET, robotCode: CLIENT_ID },
    apiBase: dt.url,
    oapiBase: dt.url,
    gate,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    log: silentLogger,
  });
}

const opts = { robotCode: CLIENT_ID, sleep: (ms: number) => (sleeps.push(ms), Promise.resolve()) };
const failure = (p: Promise<unknown>) => rejection(p, ProactiveSendError);
const staff = (n: number) => Array.from({ length: n }, (_, i) => `staff${String(i + 1).padStart(3, "0")}`);

describe("sendProactive: groups", () => {
  it("sends markdown with its title to the group through groupMessages/send, through the app's rate gate", async () => {
    const result = await sendProactive(client(), { group: GROUP }, { markdown: "构建 **失败**：main #42", title: "CI" }, opts);
    expect(result).toMatchObject({ delivered: { group: GROUP }, parts: 1, invalidStaffIds: [], flowControlledStaffIds: [] });
    expect(result.processQueryKeys).toHaveLength(1);
    expect(dt.sent()).toMatchObject([{ route: "openapi", conversationType: "group", conversationId: GROUP, msgtype: "markdown", title: "CI", text: "构建 **失败**：main #42" }]);
    const [call] = dt.callsTo("robot.groupMessages.send");
    expect(call!.body).toMatchObject({ robotCode: CLIENT_ID, openConversationId: GROUP, msgKey: "sampleMarkdown" });
    expect(gated).toEqual(["final"]);
    expect(dt.callsTo("robot.sendBySession")).toHaveLength(0);
  });

  it("splits long markdown like replies: every part within the limits, numbered, titles numbered too", async () => {
    const para = "今天的发布说明包含很多内容，这一段用来把消息撑长。".repeat(40);
    const markdown = Array.from({ length: 12 }, (_, i) => `第 ${i + 1} 段：${para}`).join("\n\n");
    const result = await sendProactive(client(), { group: GROUP }, { markdown, title: "发布说明" }, opts);
    const sent = dt.sent();
    expect(result.parts).toBe(sent.length);
    expect(sent.length).toBeGreaterThan(1);
    sent.forEach((m, i) => {
      expect(m.title).toBe(`发布说明 (${i + 1}/${sent.length})`);
      expect(m.text!.endsWith(`(${i + 1}/${sent.length})`)).toBe(true);
      expect(Buffer.byteLength(JSON.stringify({ title: m.title, text: m.text }))).toBeLessThanOrEqual(15_000);
    });
    const joined = sent.map((m) => m.text!.replace(/\n\n\(\d+\/\d+\)$/, "")).join("\n\n");
    for (let i = 1; i <= 12; i++) expect(joined).toContain(`第 ${i} 段：`);
  });

  it("sends plain text as sampleText, split when long", async () => {
    const text = "告警：磁盘使用率超过 90%。".repeat(400);
    await sendProactive(client(), { group: GROUP }, { text }, opts);
    const sent = dt.sent();
    expect(sent.length).toBeGreaterThan(1);
    expect(sent.every((m) => m.msgtype === "text")).toBe(true);
    expect(sent.map((m) => m.text!.replace(/\n\n\(\d+\/\d+\)$/, "")).join("")).toBe(text);
  });

  it("an unknown group is explained: the openConversationId and adding the robot to the group", async () => {
    dt.robot.unknownGroups.add("cidNoSuchGroup==");
    const err = await failure(sendProactive(client(), { group: "cidNoSuchGroup==" }, { text: "hi" }, opts));
    expect(err.code).toBe("invalid.openConversationId");
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/cidNoSuchGroup==.*openConversationId.*add the robot to the group/);
    expect(dt.sent()).toHaveLength(0);
  });

  it("a missing robot send permission is explained, not retried", async () => {
    dt.robot.sendPermission = false;
    const err = await failure(sendProactive(client(), { group: GROUP }, { text: "hi" }, opts));
    expect(err.code).toBe("Forbidden.AccessDenied.AccessTokenPermissionDenied");
    expect(err.message).toContain("qyapi_robot_sendmsg");
    expect(err.message).toContain("权限管理");
    expect(dt.callsTo("robot.groupMessages.send")).toHaveLength(1);
  });

  it("throttling and 5xx are retried with backoff, then the message goes once", async () => {
    dt.fault({ route: "robot.groupMessages.send", throttle: "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi" });
    dt.fault({ route: "robot.groupMessages.send", status: 502 });
    await sendProactive(client(), { group: GROUP }, { text: "部署完成" }, opts);
    expect(dt.callsTo("robot.groupMessages.send")).toHaveLength(3);
    expect(dt.sent()).toHaveLength(1);
    expect(sleeps.length).toBe(2);
  });

  it("throttling that does not stop is reported as retryable in plain words", async () => {
    dt.fault({ route: "robot.groupMessages.send", throttle: "send.too.fast", times: Infinity });
    const err = await failure(sendProactive(client(), { group: GROUP }, { text: "hi" }, opts));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/rate limiting.*try again/);
  });
});

describe("sendProactive: users", () => {
  it("sends to staff ids in batches of at most 20 (batchSend's limit)", async () => {
    const users = staff(45);
    const result = await sendProactive(client(), { users }, { text: "周五下午三点全员会" }, opts);
    const calls = dt.callsTo("robot.oToMessages.batchSend");
    expect(calls.map((c) => (c.body as { userIds: string[] }).userIds.length)).toEqual([20, 20, 5]);
    expect(result.delivered).toEqual({ users });
    expect(dt.sent().map((m) => m.userId)).toEqual(users);
    expect(dt.sent().every((m) => m.msgKey === "sampleText" && m.text === "周五下午三点全员会")).toBe(true);
    expect(describeRecipients(result.delivered)).toBe(`45 users (${users.join(", ")})`);
  });

  it("staff ids DingTalk does not know are listed; the others get it", async () => {
    dt.robot.unknownStaff.add("ghost01");
    const result = await sendProactive(client(), { users: ["alice", "ghost01", "bob"] }, { markdown: "# 周报\n请提交" }, opts);
    expect(result.delivered).toEqual({ users: ["alice", "bob"] });
    expect(result.invalidStaffIds).toEqual(["ghost01"]);
    expect(dt.sent().map((m) => m.userId)).toEqual(["alice", "bob"]);
  });

  it("when nobody is a known staff id, the send fails naming them", async () => {
    dt.robot.unknownStaff.add("ghost01").add("ghost02");
    const err = await failure(sendProactive(client(), { users: ["ghost01", "ghost02"] }, { text: "hi" }, opts));
    expect(err.code).toBe("invalidStaffIds");
    expect(err.message).toContain("ghost01, ghost02");
    expect(err.retryable).toBe(false);
  });

  it("users held back by flow control are sent again with backoff, alone", async () => {
    dt.robot.flowControlled.set("bob", 2);
    const result = await sendProactive(client(), { users: ["alice", "bob"] }, { text: "提醒" }, opts);
    expect(result.delivered).toEqual({ users: ["alice", "bob"] });
    expect(dt.callsTo("robot.oToMessages.batchSend").map((c) => (c.body as { userIds: string[] }).userIds)).toEqual([["alice", "bob"], ["bob"], ["bob"]]);
    expect(dt.sent().map((m) => m.userId)).toEqual(["alice", "bob"]);
    expect(sleeps).toHaveLength(2);
  });

  it("a user still flow-controlled after the retries is reported, the others got it", async () => {
    dt.robot.flowControlled.set("bob", 100);
    const result = await sendProactive(client(), { users: ["alice", "bob"] }, { text: "提醒" }, { ...opts, flowAttempts: 3 });
    expect(result.delivered).toEqual({ users: ["alice"] });
    expect(result.flowControlledStaffIds).toEqual(["bob"]);
    expect(dt.callsTo("robot.oToMessages.batchSend")).toHaveLength(3);
  });

  it("a retried send skips the steps an earlier attempt recorded", async () => {
    const users = staff(25);
    const text = "停机维护通知，请提前保存工作。".repeat(300);
    const steps: string[] = [];
    let calls = 0;
    const first = await rejection(
      sendProactive(client(), { users }, { text }, {
        ...opts,
        onStep: (key) => {
          steps.push(key);
          if (++calls === 2) throw new Error("crash after two steps");
        },
      }),
      Error,
    );
    expect(first.message).toBe("crash after two steps");
    expect(steps).toEqual(["p0b0", "p0b1"]);
    const before = dt.sent().length;
    expect(before).toBe(25);
    const more: string[] = [];
    const result = await sendProactive(client(), { users }, { text }, { ...opts, done: steps, onStep: (k) => void more.push(k) });
    expect(more[0]).toBe("p1b0");
    expect(dt.sent().length).toBe(25 * result.parts);
    for (const u of users) expect(dt.sent().filter((m) => m.userId === u)).toHaveLength(result.parts);
  });
});
