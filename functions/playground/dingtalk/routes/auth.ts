// Token routes of the DingTalk double: the new `POST /v1.0/oauth2/accessToken` and the legacy
// `GET /gettoken`, with DingTalk's answers for bad or missing credentials (reference §3).
import * as z from "zod";
import { apiError, json, legacyError, type DoubleRequest, type Route } from "../router.js";
import { requestId, type DoubleState, type Token } from "../state.js";

const AccessTokenBody = z.looseObject({ appKey: z.string().min(1), appSecret: z.string().min(1) });

function expiresIn(t: Token, state: DoubleState): number {
  return Math.max(0, Math.round((t.expiresAt - state.now()) / 1000));
}

export const authRoutes: Route[] = [
  {
    name: "oauth2.accessToken",
    method: "POST",
    path: "/v1.0/oauth2/accessToken",
    handle(req: DoubleRequest, state: DoubleState) {
      const body = AccessTokenBody.safeParse(req.json);
      if (!body.success) return apiError(400, "MissingappKey", "缺少参数 appKey 或 appSecret", requestId());
      const app = state.apps.get(body.data.appKey);
      if (!app || app.clientSecret !== body.data.appSecret)
        return apiError(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret", requestId());
      const t = state.issueToken(app);
      return json(200, { accessToken: t.token, expireIn: expiresIn(t, state) });
    },
  },
  {
    name: "gettoken",
    method: "GET",
    path: "/gettoken",
    handle(req: DoubleRequest, state: DoubleState) {
      const appkey = req.query.get("appkey");
      const appsecret = req.query.get("appsecret");
      if (!appkey || !appsecret) return legacyError(40035, "缺少参数 corpid or appkey");
      const app = state.apps.get(appkey);
      if (!app || app.clientSecret !== appsecret) return legacyError(40096, "不合法的appKey或appSecret");
      const t = state.issueToken(app);
      return json(200, { errcode: 0, errmsg: "ok", access_token: t.token, expires_in: expiresIn(t, state) });
    },
  },
];

/** The new-API token check: header required (not query or Bearer), token valid. */
export function checkAccessToken(req: DoubleRequest, state: DoubleState): { ok: true; token: Token } | { ok: false; response: ReturnType<typeof apiError> } {
  const header = req.headers["x-acs-dingtalk-access-token"];
  const value = Array.isArray(header) ? header[0] : header;
  if (!value)
    return { ok: false, response: apiError(400, "AuthenticationFailed.MissingParameter", "缺少参数：x-acs-dingtalk-access-token", requestId()) };
  const token = state.validToken(value);
  if (!token) return { ok: false, response: apiError(400, "InvalidAuthentication", "不合法的access_token", requestId()) };
  return { ok: true, token };
}
