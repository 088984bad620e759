// /forget through the real message path (ingest → processJob): nothing is deleted without `/forget
// confirm` in the same chat within the request's lifetime; then the sender's 1:1 conversation, the
// records of its messages (tool journals, the reply ledger), their own conversation in
// a group with group_scope "sender", the reminders they set (anywhere) and their usage details are gone
// from the table, while other people's data, the org's anonymous totals and a group's shared
// conversation stay.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.js";
import type { ItemTable } from "../../functions/core/store/items.js";
import { createRuntime, type Runtime } from "../../functions/core/runtime.js";
import { CLIENT_ID, startWorld, type World } from "../helpers/world.js";

const TEMPLATE = "8aebdfb9-28f4-4a98-98f5-396c3dde41a0.schema";
const T0 = Date.UTC(2026, 11, 3, 2, 0, 0);
const clock = { t: T0 };

let w: World;
let items: ItemTable;

const weekly = (text: string) => ({ toolCalls: [{ name: "create_reminder", arguments: { text, cron: "0 9 * * 1" } }] });

function runtime(groupScope: "conversation" | "sender", allowFrom: string[] = []): Runtime {
  const raw = JSON.parse(w.configJson) as { channels: { dingtalk: Record<string, unknown> } };
  raw.channels.dingtalk = { ...raw.channels.dingtalk, card_mode: "answer", card_template_id: TEMPLATE, group_scope: groupScope, allow_from: allowFrom };
  return createRuntime(parseConfig(raw, w.env), w.db.table, { log: w.log, now: () => clock.t, sleep: () => Promise.resolve() });
}

const lastText = () => w.dt.sent().at(-1)?.text ?? w.dt.cards().at(-1)?.params.content ?? "";
const conv = (key: string) => items.get({ pk: `conv#${CLIENT_ID}:${key}`, sk: "conv" });
const msgIdsOf = async (key: string) => ((await conv(key))?.turns as Array<{ msgId: string }>).map((t) => t.msgId);

/** What the table holds for one message: its tool journal, its idempotency record (also its AI card record). */
async function records(msgId: string) {
  const key = `${CLIENT_ID}:${msgId}`;
  const [journal, claim] = await Promise.all([items.get({ pk: `tools#${key}`, sk: "journal" }), items.get({ pk: `msg#${key}`, sk: "msg" })]);
  return { journal, claim };
}

beforeAll(async () => {
  w = await startWorld();
  w.dt.cardTemplate(TEMPLATE);
  items = w.db.table.items(() => clock.t);
});
afterAll(() => w.close());
beforeEach(() => {
  w.dt.reset();
  w.llm.reset();
  clock.t += 3_600_000;
});

describe("/forget in a 1:1 chat", () => {
  it("asks first, deletes only after /forget confirm, and then removes what it listed", async () => {
    const rt = runtime("conversation");
    const reminders = rt.reminders;
    w.llm.script(weekly("交周报"), { text: "好的，每周一 9 点提醒你交周报。" });
    await w.deliver({ text: "每周一早上提醒我交周报", staffId: "alice" }, rt);
    await w.deliver({ text: "谢谢", staffId: "alice" }, rt);
    w.llm.script(weekly("开周会"), { text: "好的。" });
    await w.deliver({ text: "每周一提醒大家开周会", staffId: "alice", type: "group", conversationId: "cidShared==" }, rt);
    w.llm.script(weekly("写日报"), { text: "好的。" });
    await w.deliver({ text: "每周一提醒我写日报", staffId: "bob" }, rt);
    expect((await reminders.listFor("alice")).map((r) => r.text).sort()).toEqual(["交周报", "开周会"]);
    expect((await rt.usage.user("alice")).tokens).toBeGreaterThan(0);
    const orgBefore = (await rt.usage.org()).tokens;

    const aliceIds = [...new Set(await msgIdsOf("dm:alice"))];
    expect(aliceIds).toHaveLength(2);
    const first = await records(aliceIds[0]!);
    expect(first.journal).toBeDefined();
    expect(first.claim).toMatchObject({ status: "COMPLETED", sentParts: expect.any(Array) as unknown, cardOpens: 1 });

    // A confirmation nobody asked for deletes nothing.
    await w.deliver({ text: "/forget confirm", staffId: "alice" }, rt);
    expect(lastText()).toContain("没有待确认的删除请求");
    expect(await conv("dm:alice")).toBeDefined();

    await w.deliver({ text: "/forget", staffId: "alice" }, rt);
    const asked = lastText();
    expect(asked).toContain("你和我的单聊记录（4 条消息）");
    expect(asked).toContain("你设置的提醒");
    expect(asked).toContain("你的 AI 用量明细");
    expect(asked).toContain("/forget confirm");
    expect(await conv("dm:alice")).toBeDefined();
    expect(await reminders.listFor("alice")).toHaveLength(2);

    await w.deliver({ text: "/forget confirm", staffId: "alice" }, rt);
    expect(lastText()).toContain("已删除");
    expect(lastText()).toContain("你设置的提醒（包括在群里设置的）：2 项");

    expect(await conv("dm:alice")).toBeUndefined();
    for (const id of aliceIds) {
      const r = await records(id);
      expect(r.journal).toBeUndefined();
      // The claim stays (a late redelivery is still answered by nothing) without what it kept of the reply.
      expect(r.claim).toMatchObject({ status: "COMPLETED" });
      expect(r.claim).not.toHaveProperty("sentParts");
      expect(r.claim).not.toHaveProperty("replyId");
    }
    expect(await reminders.listFor("alice")).toEqual([]);
    expect((await rt.usage.user("alice")).tokens).toBe(0);
    // The org's anonymous totals stay.
    expect((await rt.usage.org()).tokens).toBe(orgBefore);
    expect(await items.query(`forget#${CLIENT_ID}:alice`)).toEqual([]);

    // Other people's data and the group's shared conversation stay.
    expect(await conv("dm:bob")).toBeDefined();
    expect(await reminders.listFor("bob")).toHaveLength(1);
    expect((await rt.usage.user("bob")).tokens).toBeGreaterThan(0);
    expect(await conv("group:cidShared==")).toBeDefined();

    // The request was used up.
    await w.deliver({ text: "/forget confirm", staffId: "alice" }, rt);
    expect(lastText()).toContain("没有待确认的删除请求");
  });

  it("a confirmation after the request's 10 minutes deletes nothing", async () => {
    const rt = runtime("conversation");
    await w.deliver({ text: "你好", staffId: "late" }, rt);
    await w.deliver({ text: "/forget", staffId: "late" }, rt);
    clock.t += 11 * 60_000;
    await w.deliver({ text: "/forget confirm", staffId: "late" }, rt);
    expect(lastText()).toContain("或已超过 10 分钟");
    expect(await conv("dm:late")).toBeDefined();
  });

  it("a confirmation must come from the chat the request was made in", async () => {
    const rt = runtime("conversation");
    await w.deliver({ text: "你好", staffId: "carol" }, rt);
    await w.deliver({ text: "/forget", staffId: "carol" }, rt);
    await w.deliver({ text: "/forget confirm", staffId: "carol", type: "group", conversationId: "cidOther==" }, rt);
    expect(lastText()).toContain("没有待确认的删除请求");
    expect(await conv("dm:carol")).toBeDefined();
  });

  it("someone no longer allowed to use the bot can still delete their data", async () => {
    await w.deliver({ text: "你好", staffId: "leaver" }, runtime("conversation"));
    const restricted = runtime("conversation", ["someone-else"]);
    await w.deliver({ text: "还在吗", staffId: "leaver" }, restricted);
    expect(lastText()).toContain("没有使用这个助手的权限");
    await w.deliver({ text: "/forget", staffId: "leaver" }, restricted);
    await w.deliver({ text: "/forget confirm", staffId: "leaver" }, restricted);
    expect(lastText()).toContain("已删除");
    expect(await conv("dm:leaver")).toBeUndefined();
  });
});

describe("/forget in a group", () => {
  it("with a shared conversation: deletes the sender's own data, says the group's conversation stays", async () => {
    const rt = runtime("conversation");
    const group = { type: "group" as const, conversationId: "cidTeam==" };
    await w.deliver({ text: "私聊的问题", staffId: "dave" }, rt);
    await w.deliver({ ...group, text: "群里的问题", staffId: "dave" }, rt);

    await w.deliver({ ...group, text: "/forget", staffId: "dave" }, rt);
    expect(lastText()).toContain("本群的对话记录属于整个群，不会删除");
    expect(lastText()).toContain("在本群 @我 发送 `/forget confirm`");
    await w.deliver({ ...group, text: "/forget confirm", staffId: "dave" }, rt);
    expect(lastText()).toContain("本群的对话记录属于整个群，没有删除");

    expect(await conv("dm:dave")).toBeUndefined();
    expect(await conv("group:cidTeam==")).toBeDefined();
  });

  it("with group_scope sender: deletes the sender's own conversation in this group too, not the others'", async () => {
    const rt = runtime("sender");
    const group = { type: "group" as const, conversationId: "cidPerSender==" };
    await w.deliver({ ...group, text: "我的问题", staffId: "erin" }, rt);
    await w.deliver({ ...group, text: "他的问题", staffId: "frank" }, rt);
    await w.deliver({ text: "私聊", staffId: "erin" }, rt);

    await w.deliver({ ...group, text: "/forget", staffId: "erin" }, rt);
    expect(lastText()).toContain("你在本群的个人对话记录（2 条消息）");
    expect(lastText()).not.toContain("属于整个群");
    await w.deliver({ ...group, text: "/forget confirm", staffId: "erin" }, rt);

    expect(await conv("group:cidPerSender==:erin")).toBeUndefined();
    expect(await conv("dm:erin")).toBeUndefined();
    expect(await conv("group:cidPerSender==:frank")).toBeDefined();
  });
});
