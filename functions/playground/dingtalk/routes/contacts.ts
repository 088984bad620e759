// Contacts of the DingTalk double (reference §9): a small company directory behind
// - `POST /v1.0/contact/users/search` (doc "搜索用户userId", address-book-search-user-id): header
//   x-acs-dingtalk-access-token, body {queryWord, offset, size, fullMatchField?} → {hasMore, totalCount,
//   list:[userId]}; 400 `parameter.error` for a bad body; permission qyapi_addresslist_search.
// - `POST /topapi/v2/user/get?access_token=…` (doc "查询用户详情", query-user-details): body {userid,
//   language?} → {errcode:0, errmsg:"ok", result:{userid, unionid, name, title, dept_id_list, mobile?,
//   email?, …}, request_id}; 33012 invalid userid / 60121 not found, 400002 bad parameter; permission
//   qyapi_get_member; `mobile` only with the 企业员工手机号信息 permission, `email`/`work_place` only
//   with 邮箱等个人信息.
// - `POST /topapi/v2/department/get?access_token=…` (doc "获取部门详情", query-department-details0-v2):
//   body {dept_id, language?} → {errcode:0, result:{dept_id, name, parent_id, …}}; 60003 no such
//   department; permission qyapi_get_department_list.
// A missing permission answers as DingTalk does: 403 `Forbidden.AccessDenied.AccessTokenPermissionDenied`
// (new API, with `accessdenieddetail.requiredScopes`) or errcode 60011 (legacy) (doc
// server-api-error-codes-1); a bad legacy token is errcode 40014.
import * as z from "zod";
import { apiError, json, legacyError, permissionDenied, type DoubleRequest, type DoubleResponse, type Route } from "../router.js";
import { requestId, type DoubleState } from "../state.js";
import { checkAccessToken } from "./auth.js";

export interface DirectoryUser {
  userid: string;
  name: string;
  title?: string;
  deptIds: number[];
  mobile?: string;
  email?: string;
  orgEmail?: string;
  jobNumber?: string;
  workPlace?: string;
  /** English name or pinyin the search also matches. */
  alias?: string;
}

export type ContactScope =
  | "qyapi_addresslist_search"
  | "qyapi_get_member"
  | "qyapi_get_department_list"
  /** 企业员工手机号信息 */
  | "fieldMobile"
  /** 邮箱等个人信息 */
  | "fieldEmail";

/** The directory the contact routes serve; every scope is granted until revoked. */
export class ContactDirectory {
  readonly users = new Map<string, DirectoryUser>();
  readonly departments = new Map<number, { name: string; parentId: number }>([[1, { name: "公司", parentId: 0 }]]);
  readonly revoked = new Set<ContactScope>();

  addUser(user: DirectoryUser): this {
    this.users.set(user.userid, user);
    return this;
  }

  addDepartment(id: number, name: string, parentId = 1): this {
    this.departments.set(id, { name, parentId });
    return this;
  }

  revoke(...scopes: ContactScope[]): this {
    for (const s of scopes) this.revoked.add(s);
    return this;
  }

  grantAll(): void {
    this.revoked.clear();
  }
}

const SearchBody = z.looseObject({
  queryWord: z.string().min(1),
  offset: z.number().int().min(0),
  size: z.number().int().min(1).max(50),
  fullMatchField: z.number().int().optional(),
});
const UserGetBody = z.looseObject({ userid: z.string().min(1), language: z.string().optional() });
const DeptGetBody = z.looseObject({ dept_id: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]), language: z.string().optional() });

/** The legacy APIs take the token in the query. */
function legacyToken(req: DoubleRequest, state: DoubleState): DoubleResponse | undefined {
  const token = req.query.get("access_token");
  if (!token || !state.validToken(token)) return legacyError(40014, "不合法的access_token");
  return undefined;
}

const ok = (result: unknown) => json(200, { errcode: 0, errmsg: "ok", result, request_id: requestId() });

export function contactRoutes(directory: ContactDirectory): Route[] {
  return [
    {
      name: "contact.users.search",
      method: "POST",
      path: "/v1.0/contact/users/search",
      handle(req, state) {
        const auth = checkAccessToken(req, state);
        if (!auth.ok) return auth.response;
        if (directory.revoked.has("qyapi_addresslist_search")) return permissionDenied("qyapi_addresslist_search", requestId());
        const body = SearchBody.safeParse(req.json);
        if (!body.success) return apiError(400, "parameter.error", "参数错误", requestId());
        const { queryWord, offset, size, fullMatchField } = body.data;
        const word = queryWord.toLowerCase();
        const matches = [...directory.users.values()]
          .filter((u) =>
            fullMatchField === 1 ? u.name === queryWord : u.name.toLowerCase().includes(word) || (u.alias ?? "").toLowerCase().includes(word),
          )
          .map((u) => u.userid);
        const list = matches.slice(offset * size, offset * size + size);
        return json(200, { hasMore: matches.length > offset * size + size, totalCount: matches.length, list });
      },
    },
    {
      name: "topapi.v2.user.get",
      method: "POST",
      path: "/topapi/v2/user/get",
      handle(req, state) {
        const bad = legacyToken(req, state);
        if (bad) return bad;
        if (directory.revoked.has("qyapi_get_member")) return legacyError(60011, "没有调用该接口的权限");
        const body = UserGetBody.safeParse(req.json);
        if (!body.success) return legacyError(400002, "无效的参数");
        const u = directory.users.get(body.data.userid);
        if (!u) return legacyError(60121, "找不到该用户");
        const personal = !directory.revoked.has("fieldEmail");
        return ok({
          userid: u.userid,
          unionid: `union-${u.userid}`,
          name: u.name,
          ...(u.title ? { title: u.title } : {}),
          dept_id_list: u.deptIds,
          dept_order_list: u.deptIds.map((dept_id) => ({ dept_id, order: 1 })),
          leader_in_dept: u.deptIds.map((dept_id) => ({ dept_id, leader: false })),
          ...(u.jobNumber ? { job_number: u.jobNumber } : {}),
          ...(u.mobile && !directory.revoked.has("fieldMobile") ? { mobile: u.mobile, state_code: "86" } : {}),
          hide_mobile: false,
          ...(u.email && personal ? { email: u.email } : {}),
          ...(u.orgEmail ? { org_email: u.orgEmail } : {}),
          ...(u.workPlace && personal ? { work_place: u.workPlace } : {}),
          active: true,
          admin: false,
          boss: false,
          senior: false,
          real_authed: true,
          exclusive_account: false,
        });
      },
    },
    {
      name: "topapi.v2.department.get",
      method: "POST",
      path: "/topapi/v2/department/get",
      handle(req, state) {
        const bad = legacyToken(req, state);
        if (bad) return bad;
        if (directory.revoked.has("qyapi_get_department_list")) return legacyError(60011, "没有调用该接口的权限");
        const body = DeptGetBody.safeParse(req.json);
        if (!body.success) return legacyError(400002, "无效的参数");
        const dept = directory.departments.get(body.data.dept_id);
        if (!dept) return legacyError(60003, "部门不存在");
        return ok({ dept_id: body.data.dept_id, name: dept.name, parent_id: dept.parentId, order: 1, create_dept_group: false, auto_add_user: false, hide_dept: false });
      },
    },
  ];
}
