// A tiny router for the DingTalk double: named routes (method + exact path or pattern), each a
// function from a parsed request to a JSON (or raw) response. New areas add route modules.
import type { IncomingHttpHeaders } from "node:http";
import type { DoubleState } from "./state.js";

export interface DoubleRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** The body parsed as JSON; undefined when empty or not JSON (see `jsonError`). */
  json: unknown;
  /** True when a non-empty body was not valid JSON. */
  jsonError: boolean;
  /** Path parameters from a RegExp route's named groups. */
  params: Record<string, string>;
}

export interface DoubleResponse {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialised unless a Buffer or string (sent as is). */
  body?: unknown;
}

export interface Route {
  /** Stable name used in recorded calls and fault switches, e.g. "robot.groupMessages.send". */
  name: string;
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string | RegExp;
  /** Control routes are neither recorded nor subject to faults. */
  control?: boolean;
  handle(req: DoubleRequest, state: DoubleState): DoubleResponse | Promise<DoubleResponse>;
}

export class Router {
  private readonly routes: Route[] = [];

  add(...routes: Route[]): this {
    this.routes.push(...routes);
    return this;
  }

  match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      if (typeof route.path === "string") {
        if (route.path === path) return { route, params: {} };
      } else {
        const m = route.path.exec(path);
        if (m) return { route, params: { ...m.groups } };
      }
    }
    return undefined;
  }
}

export const json = (status: number, body: unknown): DoubleResponse => ({ status, body });

/** New-API error shape: `{code, message, requestid}` with a non-2xx status. */
export function apiError(status: number, code: string, message: string, requestid: string): DoubleResponse {
  return { status, body: { code, message, requestid } };
}

const PERMISSION_DOC = "https://open.dingtalk.com/document/orgapp-server/add-api-permission";

/**
 * A new API called without its permission: 403 `Forbidden.AccessDenied.AccessTokenPermissionDenied`
 * with the scope it needs in `accessdenieddetail.requiredScopes` (doc server-api-error-codes-1).
 */
export function permissionDenied(scope: string, requestid: string): DoubleResponse {
  return {
    status: 403,
    body: {
      code: "Forbidden.AccessDenied.AccessTokenPermissionDenied",
      message: `没有调用该接口的权限，接口权限申请参考：${PERMISSION_DOC}`,
      requestid,
      accessdenieddetail: { requiredScopes: [scope] },
    },
  };
}

/** Legacy error shape: HTTP 200 with `{errcode, errmsg}`. */
export function legacyError(errcode: number, errmsg: string): DoubleResponse {
  return { status: 200, body: { errcode, errmsg } };
}
