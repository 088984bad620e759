// Fault switches for the DingTalk double: the next N calls to a route answer 5xx, a throttling
// code (new-API 403 shape or legacy errcode), any status/body, a delay, or a dropped connection.
import { apiError, legacyError, type DoubleResponse } from "./router.js";
import { requestId } from "./state.js";

export const NEW_API_THROTTLE_CODES = [
  "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
  "Forbidden.AccessDenied.QpsLimitForApi",
  "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi",
  "send.too.fast",
] as const;
export const LEGACY_THROTTLE_CODES = [90018, 90002, 410100, 660026] as const;
export type ThrottleCode = (typeof NEW_API_THROTTLE_CODES)[number] | (typeof LEGACY_THROTTLE_CODES)[number];

export interface FaultSpec {
  /** Route name ("robot.groupMessages.send"), path ("/v1.0/robot/groupMessages/send") or "*". */
  route: string;
  /** How many calls it affects (default 1; Infinity for all). */
  times?: number;
  /** Answer with this status (e.g. 500, 502); the body defaults to DingTalk's `system.error`. */
  status?: number;
  body?: unknown;
  /** Answer as DingTalk throttles: string codes in the new-API shape, numbers as legacy errcodes (HTTP 200). */
  throttle?: ThrottleCode;
  /** Wait this long first; alone, the call is then answered normally. */
  delayMs?: number;
  /** Destroy the connection without answering (a network error for the client). */
  drop?: boolean;
  /** Answer as DingTalk does once the org's monthly API quota is used up (403 `…ApiCountLimitForOrg`). */
  quota?: boolean;
}

export const QUOTA_CODE = "Forbidden.AccessDenied.ApiCountLimitForOrg";

/** DingTalk's answer when the monthly quota is used up. */
export function quotaResponse(): DoubleResponse {
  return apiError(403, QUOTA_CODE, "企业调用该接口的次数已超过本月的额度", requestId());
}

/**
 * DingTalk's answer to an app over its per-API rate: new APIs 403 `…QpsLimitForAppkeyAndApi`, legacy
 * APIs errcode 90018 (调用频次与限流: "旧版服务端api返回错误码90018，新版服务端api返回错误码
 * Forbidden.AccessDenied.QpsLimitForAppkeyAndApi").
 */
export function rateResponse(path: string): DoubleResponse {
  return faultResponse({ route: path, throttle: path.startsWith("/v1.0/") ? "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi" : 90018 }) as DoubleResponse;
}

const THROTTLE_MESSAGES: Record<string, string> = {
  "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi": "应用调用该接口的QPS超过限制",
  "Forbidden.AccessDenied.QpsLimitForApi": "接口调用QPS超过限制",
  "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi": "应用调用该接口的QPM超过限制",
  "send.too.fast": "发送太快",
  "90018": "当前应用调用该接口的并发量超过上限",
  "90002": "服务器调用该接口的并发量超过上限",
  "410100": "发送速度太快而限流",
  "660026": "sending too many messages per minute",
};

export function describeFault(f: FaultSpec): string {
  if (f.drop) return "drop";
  if (f.quota) return "quota";
  if (f.throttle !== undefined) return `throttle:${f.throttle}`;
  if (f.status !== undefined) return `status:${f.status}`;
  return `delay:${f.delayMs ?? 0}`;
}

/** The answer a fault forces, "drop" to cut the connection, or undefined to answer normally. */
export function faultResponse(f: FaultSpec): DoubleResponse | "drop" | undefined {
  if (f.drop) return "drop";
  if (f.quota) return quotaResponse();
  if (f.throttle !== undefined) {
    const message = THROTTLE_MESSAGES[String(f.throttle)] ?? "throttled";
    if (typeof f.throttle === "number") return legacyError(f.throttle, message);
    return apiError(f.throttle === "send.too.fast" ? 400 : 403, f.throttle, message, requestId());
  }
  if (f.status !== undefined)
    return { status: f.status, body: f.body ?? { code: "system.error", message: "系统错误", requestid: requestId() } };
  return undefined;
}
