// find_colleague with the real DingTalkClient against the DingTalk double's contact APIs: matches with
// title and department names, the contact-field policy, and missing permissions named plainly.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DingTalkClient } from "../../functions/core/dingtalk/client.js";
import { silentLogger } from "../../functions/core/log.js";
import { findColleagueTool } from "../../functions/core/tools/find-colleague.js";
import { ToolError } from "../../functions/core/tools/types.js";
import { startDingTalkDouble, type DingTalkDouble } from "../doubles/dingtalk/index.js";
import { rejection } from "../helpers/rejection.js";
import { toolContext } from "../helpers/tool-context.js";

const CLIENT_ID = "dingcontacts01";
const SECRET = "contacts-secret-for-tests-1";
let dt: DingTalkDouble;
let client: DingTalkClient;

beforeAll(async () => {
  dt = await startDingTalkDouble();
  dt.app(CLIENT_ID, SECRET);
  dt.contacts
    .addDepartment(10, "研发部")
    .addDepartment(11, "平台组", 10)
    .addUser({ userid: "zhangsan01", name: "张三", title: "高级工程师", deptIds: [10, 11], mobile: "13800000000", email: "zs@example.com", alias: "zhangsan" })
    .addUser({ userid: "zhangsanfeng", name: "张三丰", title: "顾问", deptIds: [10] });
  client = new DingTalkClient({ credentials: { clientId: CLIENT_ID, clientSecret: SECRET, robotCode: CLIENT_ID }, apiBase: dt.url, oapiBase: dt.url, log: silentLogger, sleep: () => Promise.resolve() });
});
beforeEach(() => {
  dt.reset();
  dt.contacts.grantAll();
});
afterAll(() => dt.close());

const ctx = () => toolContext({ robotCode: CLIENT_ID });

type Found = { matches: Array<Record<string, unknown>>; notes?: string[] };
const run = async (name: string, fields: Parameters<typeof findColleagueTool>[1] = []) =>
  JSON.parse((await findColleagueTool(client, fields).run({ name }, ctx())).text) as Found;

describe("find_colleague", () => {
  it("returns name, title, department names and userId; no mobile or e-mail by default", async () => {
    const found = await run("张三");
    expect(found.matches).toEqual([
      { userId: "zhangsan01", name: "张三", title: "高级工程师", departments: ["研发部", "平台组"] },
      { userId: "zhangsanfeng", name: "张三丰", title: "顾问", departments: ["研发部"] },
    ]);
    expect(JSON.stringify(found)).not.toContain("13800000000");
    expect(dt.callsTo("contact.users.search")[0]!.body).toEqual({ queryWord: "张三", offset: 0, size: 10 });
    expect(dt.callsTo("contact.users.search")[0]!.headers["x-acs-dingtalk-access-token"]).toBeTruthy();
    expect(dt.callsTo("topapi.v2.user.get")[0]!.query.access_token).toBeTruthy();
  });

  it("adds the fields tools.dingtalk.contact_fields allows", async () => {
    const found = await run("zhangsan", ["mobile", "email"]);
    expect(found.matches[0]).toMatchObject({ name: "张三", mobile: "13800000000", email: "zs@example.com" });
  });

  it("nobody found is a plain answer", async () => {
    const out = await findColleagueTool(client, []).run({ name: "李四" }, ctx());
    expect(out.text).toContain("没有找到“李四”");
  });

  it("names a missing search or member permission plainly", async () => {
    dt.contacts.revoke("qyapi_addresslist_search");
    let err = await rejection(findColleagueTool(client, []).run({ name: "张三" }, ctx()), ToolError);
    expect(err.kind).toBe("permission");
    expect(err.message).toContain("qyapi_addresslist_search");
    dt.contacts.grantAll();
    dt.contacts.revoke("qyapi_get_member");
    err = await rejection(findColleagueTool(client, []).run({ name: "张三" }, ctx()), ToolError);
    expect(err.message).toContain("成员信息读权限");
  });

  it("without the department permission it still answers, with department numbers and a note", async () => {
    dt.contacts.revoke("qyapi_get_department_list");
    const found = await run("张三丰");
    expect(found.matches[0]).toMatchObject({ name: "张三丰", departments: ["部门 10"] });
    expect(found.notes?.join()).toContain("通讯录部门信息读权限");
  });
});
