// `find_colleague` {name}: looks a person up in the company directory (reference §9): user ids by name
// (`POST /v1.0/contact/users/search`), then each match's details (`POST {oapi}/topapi/v2/user/get`)
// and department names (`POST {oapi}/topapi/v2/department/get`, cached per warm instance). Returns
// name, title, departments and userId; mobile, e-mail and the like only when
// `tools.dingtalk.contact_fields` allows them. A missing app permission is named plainly.
import * as z from "zod";
import type { DingTalkClient } from "../dingtalk/client.js";
import { DingTalkApiError } from "../dingtalk/http.js";
import type { ContactField } from "./config.js";
import { ToolError, defineTool, type Tool, type ToolContext } from "./types.js";

export type ContactsApi = Pick<DingTalkClient, "callOpenApi" | "callOapi">;

const MAX_MATCHES = 5;
const DEPT_TTL_MS = 10 * 60_000;

const SearchAnswer = z.looseObject({
  hasMore: z.boolean().optional(),
  totalCount: z.number().optional(),
  list: z.array(z.union([z.string(), z.number()]).transform(String)).nullish(),
});

const id = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);
const UserAnswer = z.looseObject({
  result: z.looseObject({
    userid: z.string(),
    name: z.string(),
    title: z.string().nullish(),
    dept_id_list: z.array(id).nullish(),
    mobile: z.string().nullish(),
    email: z.string().nullish(),
    org_email: z.string().nullish(),
    telephone: z.string().nullish(),
    job_number: z.string().nullish(),
    work_place: z.string().nullish(),
  }),
});
const DeptAnswer = z.looseObject({ result: z.looseObject({ name: z.string() }) });

/** Which permission each API needs, as the developer console names it. */
const PERMISSION: Record<string, string> = {
  "contact.users.search": "通讯录搜索权限（qyapi_addresslist_search「搜索企业通讯录」）",
  "topapi.v2.user.get": "成员信息读权限（qyapi_get_member）",
  "topapi.v2.department.get": "通讯录部门信息读权限（qyapi_get_department_list）",
};

const NOT_FOUND_CODES = new Set(["60121", "33012"]);

function isPermissionError(err: DingTalkApiError): boolean {
  return err.code === "Forbidden.AccessDenied.AccessTokenPermissionDenied" || err.code === "60011" || (err.status === 403 && !err.throttled);
}

function permissionError(api: string): ToolError {
  return new ToolError(
    "permission",
    `钉钉应用缺少${PERMISSION[api] ?? "通讯录读权限"}，查不了通讯录。请告诉用户：需要管理员在钉钉开发者后台 > 应用 > 权限管理中开通后再试。`,
  );
}

function apiFailure(err: unknown, api: string): ToolError {
  if (!(err instanceof DingTalkApiError)) return new ToolError("unavailable", "通讯录暂时查不了，可以稍后重试");
  if (isPermissionError(err)) return permissionError(api);
  if (err.throttled) return new ToolError("limit", "钉钉接口调用太频繁，请稍后重试");
  return new ToolError(err.retryable ? "unavailable" : "http", `钉钉通讯录接口出错（${err.code}），可以稍后重试`);
}

/** Department names per warm instance (they rarely change). */
class DepartmentNames {
  private readonly cache = new Map<number, { name: string; until: number }>();

  constructor(
    private readonly api: ContactsApi,
    private readonly now: () => number,
  ) {}

  /** Names for the ids; undefined when the app may not read departments. */
  async names(ids: readonly number[]): Promise<string[] | undefined> {
    const out: string[] = [];
    for (const deptId of ids) {
      const hit = this.cache.get(deptId);
      if (hit && hit.until > this.now()) {
        out.push(hit.name);
        continue;
      }
      try {
        const answer = await this.api.callOapi({ api: "topapi.v2.department.get", path: "/topapi/v2/department/get", body: { dept_id: deptId, language: "zh_CN" }, schema: DeptAnswer, maxAttempts: 2 });
        this.cache.set(deptId, { name: answer.result.name, until: this.now() + DEPT_TTL_MS });
        out.push(answer.result.name);
      } catch (err) {
        if (err instanceof DingTalkApiError && isPermissionError(err)) return undefined;
        if (err instanceof DingTalkApiError && err.code === "60003") continue;
        throw apiFailure(err, "topapi.v2.department.get");
      }
    }
    return out;
  }
}

export function findColleagueTool(api: ContactsApi, fields: readonly ContactField[], now: () => number = Date.now): Tool {
  const departments = new DepartmentNames(api, now);
  return defineTool({
    name: "find_colleague",
    description: "在公司通讯录里按姓名（或拼音、英文名）查找同事，返回姓名、职位、部门和 userId。用户问某人是谁、在哪个部门、做什么时使用。",
    args: z.object({ name: z.string().trim().min(1).max(50).describe("要找的人的姓名，例如“张三”") }),
    sideEffects: false,
    timeoutMs: 12_000,
    status: (a) => `正在查找同事：${a.name}`,
    async run({ name }, ctx: ToolContext) {
      let found: z.output<typeof SearchAnswer>;
      try {
        found = await api.callOpenApi({ api: "contact.users.search", path: "/v1.0/contact/users/search", body: { queryWord: name, offset: 0, size: 10 }, schema: SearchAnswer, maxAttempts: 2 });
      } catch (err) {
        throw apiFailure(err, "contact.users.search");
      }
      const ids = found.list ?? [];
      if (ids.length === 0) return { text: `通讯录里没有找到“${name}”。可以确认一下名字或换个写法。` };
      const people = [];
      let noDeptNames = false;
      for (const userid of ids.slice(0, MAX_MATCHES)) {
        if (ctx.signal.aborted) break;
        let user: z.output<typeof UserAnswer>["result"];
        try {
          user = (await api.callOapi({ api: "topapi.v2.user.get", path: "/topapi/v2/user/get", body: { userid, language: "zh_CN" }, schema: UserAnswer, maxAttempts: 2 })).result;
        } catch (err) {
          if (err instanceof DingTalkApiError && NOT_FOUND_CODES.has(err.code)) continue;
          throw apiFailure(err, "topapi.v2.user.get");
        }
        const deptIds = user.dept_id_list ?? [];
        const deptNames = await departments.names(deptIds);
        if (!deptNames) noDeptNames = true;
        const extra: Record<string, string> = {};
        for (const f of fields) if (user[f]) extra[f] = user[f];
        people.push({
          userId: user.userid,
          name: user.name,
          ...(user.title ? { title: user.title } : {}),
          departments: deptNames ?? deptIds.map((d) => `部门 ${d}`),
          ...extra,
        });
      }
      const total = found.totalCount ?? ids.length;
      const notes = [
        total > people.length ? `共 ${total} 人匹配，只列出前 ${people.length} 位；可以让用户说得更具体。` : "",
        noDeptNames ? `应用没有${PERMISSION["topapi.v2.department.get"]}，部门只能给出编号。` : "",
        fields.length === 0 ? "手机号和邮箱按公司设置不提供。" : "",
      ].filter(Boolean);
      ctx.log.debug("find_colleague: matches", { matches: people.length, total });
      return { text: JSON.stringify({ matches: people, ...(notes.length ? { notes } : {}) }) };
    },
  });
}
