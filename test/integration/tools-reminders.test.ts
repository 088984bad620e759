// The reminder tools called as the model calls them (create_reminder, list_reminders, cancel_reminder):
// a one-off and a cron reminder in a 1:1 chat and a group, and the errors the model can act on (past
// time, no offset, bad cron, too frequent, over the per-person limit, no staff id, both/neither of
// at and cron); and /reminders with cancel through the real message path (setter, admin, someone else).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.js";
import { ReminderStore } from "../../functions/core/store/reminders.js";
import { reminderTools } from "../../functions/core/tools/reminders.js";
import type { Tool, ToolContext } from "../../functions/core/tools/types.js";
import { startWorld, type World } from "../helpers/world.js";
import { toolContext } from "../helpers/tool-context.js";

// 2027-03-01 10:00 in Shanghai (a Monday).
const NOW = Date.parse("2027-03-01T10:00:00+08:00");
let w: World;
let store: ReminderStore;
let tools: Record<string, Tool>;
const config = parseConfig({ channels: { dingtalk: { admins: ["boss"] } }, tools: { reminders: { max_per_user: 3, min_interval_minutes: 60 } } });

beforeAll(async () => {
  w = await startWorld({ config: { channels: { dingtalk: { admins: ["boss"] } } } });
  store = new ReminderStore(w.db.table, { now: () => NOW });
  tools = Object.fromEntries(reminderTools(store, config).map((t) => [t.name, t]));
});
afterAll(() => w.close());

const dm = (staffId: string, over: Partial<ToolContext> = {}) =>
  toolContext({ sender: { id: `$:${staffId}`, staffId, nick: "张三" }, conversation: { id: `cid${staffId}`, type: "direct" }, now: () => NOW, ...over });
const group = (staffId: string, nick: string, cid: string) =>
  toolContext({ sender: { id: `$:${staffId}`, staffId, nick }, conversation: { id: cid, type: "group" }, now: () => NOW });

async function call(name: string, args: Record<string, unknown>, ctx: ToolContext) {
  const tool = tools[name]!;
  return tool.run(tool.args.parse(args), ctx).then((o) => JSON.parse(o.text) as Record<string, unknown>);
}
const failure = (name: string, args: Record<string, unknown>, ctx: ToolContext) => call(name, args, ctx).then(() => undefined, (err: Error & { kind?: string }) => ({ kind: err.kind, message: err.message }));

describe("create_reminder", () => {
  it("sets a one-off reminder for the user of a 1:1 chat and a workday cron one in a group", async () => {
    const once = await call("create_reminder", { text: "开周会", at: "2027-03-02T09:00:00+08:00" }, dm("u-once"));
    expect(once).toMatchObject({ id: expect.stringMatching(/^[a-z2-9]{6}$/) as string, next: "2027-03-02T09:00:00+08:00", next_display: "2027-03-02 09:00（周二）", delivered_to: "this user (1:1 chat)" });
    expect(await store.find("dm:u-once", once.id as string)).toMatchObject({ to: { users: ["u-once"] }, timing: { at: Date.parse("2027-03-02T01:00:00Z") } });

    const daily = await call("create_reminder", { text: "写日报", cron: "0 18 * * 1-5" }, group("u-g", "李四", "cidTeam=="));
    expect(daily).toMatchObject({ next: "2027-03-01T18:00:00+08:00", cron: "0 18 * * 1-5", timezone: "Asia/Shanghai", delivered_to: "this group" });
    expect(await store.find("group:cidTeam==", daily.id as string)).toMatchObject({ to: { group: "cidTeam==" }, owner: "u-g", ownerNick: "李四" });

    const listed = await call("list_reminders", {}, group("someone", "王五", "cidTeam=="));
    expect(listed.reminders).toEqual([{ id: daily.id, text: "写日报", status: "active", cron: "0 18 * * 1-5", timezone: "Asia/Shanghai", next: "2027-03-01T18:00:00+08:00", set_by: "李四" }]);
  });

  it("says what to change when the request cannot be done", async () => {
    const ctx = dm("u-bad");
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ text: "x", at: "2027-03-01T08:00:00+08:00" }, "bad_args", /已经过去了.*现在是 2027-03-01T10:00:00\+08:00/],
      [{ text: "x", at: "2027-03-01T12:00:00" }, "bad_args", /带时区偏移/],
      [{ text: "x", cron: "0 25 * * *" }, "bad_args", /cron 无效/],
      [{ text: "x", cron: "*/5 * * * *" }, "limit", /最短 60 分钟/],
      [{ text: "x" }, "bad_args", /二者之一/],
      [{ text: "x", at: "2027-03-02T09:00:00+08:00", cron: "0 9 * * *" }, "bad_args", /二者之一/],
      [{ text: "x", cron: "0 9 * * *", timezone: "Mars/Base" }, "bad_args", /不是有效的时区/],
      [{ text: "x", at: "2029-03-02T09:00:00+08:00" }, "limit", /360 天以内/],
    ];
    for (const [args, kind, message] of cases) expect(await failure("create_reminder", args, ctx), JSON.stringify(args)).toMatchObject({ kind, message: expect.stringMatching(message) as string });

    const external = toolContext({ sender: { id: "$:ext" }, conversation: { id: "cidExt", type: "direct" }, now: () => NOW });
    expect(await failure("create_reminder", { text: "x", at: "2027-03-02T09:00:00+08:00" }, external)).toMatchObject({ kind: "permission" });
    expect(await store.listFor("u-bad")).toEqual([]);
  });

  it("holds the per-person limit of active reminders, which admins do not have", async () => {
    for (let i = 0; i < 3; i++) await call("create_reminder", { text: `第${i}个`, at: "2027-03-02T09:00:00+08:00" }, dm("u-many"));
    expect(await failure("create_reminder", { text: "再一个", at: "2027-03-02T09:00:00+08:00" }, dm("u-many"))).toMatchObject({ kind: "limit", message: expect.stringContaining("最多 3 个") as string });
    for (let i = 0; i < 4; i++) await call("create_reminder", { text: `第${i}个`, at: "2027-03-02T09:00:00+08:00" }, dm("boss"));
    expect(await store.activeCount("boss")).toBe(4);
  });
});

describe("cancel_reminder", () => {
  it("lets the setter and an admin cancel, not someone else, and only in the chat it belongs to", async () => {
    const a = await call("create_reminder", { text: "交周报", cron: "0 17 * * 5" }, group("u-set", "赵六", "cidCancel=="));
    const b = await call("create_reminder", { text: "订会议室", at: "2027-03-03T09:00:00+08:00" }, group("u-set", "赵六", "cidCancel=="));
    expect(await failure("cancel_reminder", { id: a.id }, group("u-other", "钱七", "cidCancel=="))).toMatchObject({ kind: "permission", message: expect.stringContaining("赵六") as string });
    expect(await failure("cancel_reminder", { id: a.id }, dm("u-set"))).toMatchObject({ kind: "not_found" });
    expect(await call("cancel_reminder", { id: a.id }, group("u-set", "赵六", "cidCancel=="))).toEqual({ id: a.id, text: "交周报", status: "cancelled" });
    expect(await call("cancel_reminder", { id: String(b.id).toUpperCase() }, group("boss", "老板", "cidCancel=="))).toMatchObject({ status: "cancelled" });
    expect(await failure("cancel_reminder", { id: a.id }, group("u-set", "赵六", "cidCancel=="))).toMatchObject({ kind: "not_found", message: expect.stringContaining("已经取消") as string });
  });
});

describe("/reminders", () => {
  it("lists this chat's reminders with ids and next times and cancels for the setter or an admin only", async () => {
    const cid = "cidCmd==";
    const r = await w.runtime.reminders.create(
      { owner: "cmd-setter", ownerNick: "孙八", where: `group:${cid}`, to: { group: cid }, robotCode: "dingtestbot", text: "站会", timing: { cron: "30 9 * * 1-5", timezone: "Asia/Shanghai" }, nextAt: Date.parse("2027-03-02T09:30:00+08:00") },
      undefined,
    );
    const say = async (text: string, staffId: string) => {
      w.dt.reset();
      await w.deliver({ text, type: "group", conversationId: cid, staffId });
      return w.dt.sent().map((s) => s.text).join("\n");
    };
    const listed = await say("/reminders", "cmd-other");
    expect(listed).toContain(`\`${r.id}\` 站会`);
    expect(listed).toContain("下次 2027-03-02 09:30（周二）");
    expect(listed).toContain("孙八 设置");
    expect(w.llm.chatRequests()).toHaveLength(0);

    expect(await say(`/reminders cancel ${r.id}`, "cmd-other")).toContain("只有设置人或管理员可以取消");
    expect(await say(`/reminders cancel ${r.id}`, "boss")).toContain(`已取消提醒 \`${r.id}\``);
    expect(await say("/reminders", "cmd-other")).toMatch(new RegExp(`\`${r.id}\` 站会 .*已取消`));
    expect(await say("/提醒", "cmd-setter")).toContain(r.id);
  });
});
