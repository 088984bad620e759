// The DingTalk HTTP helper: reads errcode as well as status, classifies throttling and transient
// errors, retries with growing jittered delays, times out, and keeps tokens out of errors.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DingTalkApiError, DingTalkHttp, errorFromBody, type FetchLike } from "../../functions/core/dingtalk/http.js";
import { registerSecret } from "../../functions/core/log.js";
import { rejection } from "../helpers/rejection.js";

function scripted(answers: Array<[number, unknown] | Error>): { fetch: FetchLike; calls: number } {
  const state = {
    calls: 0,
    fetch: (() => {
      const a = answers[Math.min(state.calls++, answers.length - 1)]!;
      if (a instanceof Error) return Promise.reject(a);
      const [status, body] = a;
      return Promise.resolve(new Response(typeof body === "string" ? body : JSON.stringify(body), { status }));
    }) as FetchLike,
  };
  return state;
}

const Ok = z.looseObject({ ok: z.boolean() });

function client(fetch: FetchLike, delays: number[] = []) {
  return new DingTalkHttp({ fetch, sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    }, random: () => 0.5, maxAttempts: 4 });
}

const failure = (p: Promise<unknown>) => rejection(p, DingTalkApiError);

describe("errorFromBody", () => {
  it("reads legacy errcode on HTTP 200 and new-API codes on non-2xx", () => {
    expect(errorFromBody("x", 200, { errcode: 0, errmsg: "ok" })).toBeUndefined();
    expect(errorFromBody("x", 200, { ok: true })).toBeUndefined();
    const legacy = errorFromBody("x", 200, { errcode: 90018, errmsg: "并发量超过上限", request_id: "r1" })!;
    expect(legacy).toMatchObject({ code: "90018", status: 200, throttled: true, retryable: true, requestId: "r1" });
    const badToken = errorFromBody("x", 200, { errcode: 88, sub_code: "40014", sub_msg: "不合法的access_token" })!;
    expect(badToken.code).toBe("40014");
    expect(badToken.isAuthError).toBe(true);
    const qps = errorFromBody("x", 403, { code: "Forbidden.AccessDenied.QpsLimitForApi", message: "限流", requestid: "r2" })!;
    expect(qps).toMatchObject({ throttled: true, retryable: true, requestId: "r2" });
    const perm = errorFromBody("x", 403, { code: "Forbidden.AccessDenied.AccessTokenPermissionDenied", message: "没有权限" })!;
    expect(perm).toMatchObject({ throttled: false, retryable: false });
    expect(errorFromBody("x", 502, {})!).toMatchObject({ code: "http_502", retryable: true });
    expect(errorFromBody("x", 200, { status: 1111, wait: 5, punish: "deny" })!).toMatchObject({ code: "ipBlocked", throttled: true, retryable: false });
  });
});

describe("DingTalkHttp", () => {
  it("retries throttling and 5xx with growing delays, then succeeds", async () => {
    const delays: number[] = [];
    const s = scripted([[403, { code: "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", message: "限流" }], [500, { code: "system.error" }], [200, { errcode: 660026, errmsg: "too many" }], [200, { ok: true }]]);
    const out = await client(s.fetch, delays).request({ api: "t", url: "http://x/t", body: {}, schema: Ok });
    expect(out).toEqual({ ok: true });
    expect(s.calls).toBe(4);
    expect(delays).toHaveLength(3);
    expect(delays[2]!).toBeGreaterThan(delays[1]!);
  });

  it("gives up after the attempt bound with the last error", async () => {
    const s = scripted([[503, "<html>busy</html>"]]);
    const err = await failure(client(s.fetch).request({ api: "t", url: "http://x/t", schema: Ok }));
    expect(s.calls).toBe(4);
    expect(err).toMatchObject({ status: 503, code: "http_503", retryable: true });
  });

  it("does not retry client errors", async () => {
    const s = scripted([[400, { code: "invalidParameter.msgKey.invalid", message: "msgKey无效", requestid: "abc" }]]);
    const err = await failure(client(s.fetch).request({ api: "robot.send", url: "http://x/t", body: {}, schema: Ok }));
    expect(s.calls).toBe(1);
    expect(err.message).toBe("robot.send: invalidParameter.msgKey.invalid (msgKey无效) [HTTP 400]");
  });

  it("retries network errors and reports timeouts", async () => {
    const s = scripted([new TypeError("fetch failed"), [200, { ok: true }]]);
    await expect(client(s.fetch).request({ api: "t", url: "http://x/t", schema: Ok })).resolves.toEqual({ ok: true });
    const hang: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason as Error)));
    const http = new DingTalkHttp({ fetch: hang, sleep: async () => {}, timeoutMs: 20, maxAttempts: 2 });
    const err = await failure(http.request({ api: "t", url: "http://x/t", schema: Ok }));
    expect(err).toMatchObject({ code: "timeout", status: 0, retryable: true });
  });

  it("rejects an unexpected 2xx answer without retrying", async () => {
    const s = scripted([[200, { nope: 1 }]]);
    const err = await failure(client(s.fetch).request({ api: "t", url: "http://x/t", schema: Ok }));
    expect(err).toMatchObject({ code: "invalidResponse", retryable: false });
    expect(s.calls).toBe(1);
  });

  it("counts each attempt without making it wait; countsSettled awaits the counts started so far, not later ones", async () => {
    const counted: string[] = [];
    const gates = new Map<string, () => void>();
    const http = new DingTalkHttp({
      fetch: scripted([[200, { ok: true }]]).fetch,
      onCall: async (api) => {
        await new Promise<void>((r) => gates.set(api, r));
        counted.push(api);
      },
    });
    const call = (api: string) => http.request({ api, url: "http://x/send", body: {}, schema: Ok });
    expect(await call("robot.send")).toEqual({ ok: true });
    expect(counted).toEqual([]);
    let settled = false;
    const waiting = http.countsSettled().then(() => (settled = true));
    await call("card.streaming");
    await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(false);
    gates.get("robot.send")!();
    await waiting;
    expect(counted).toEqual(["robot.send"]);
    gates.get("card.streaming")!();
    await http.countsSettled();
    expect(counted).toEqual(["robot.send", "card.streaming"]);
  });

  it("keeps registered tokens out of error messages", async () => {
    registerSecret("tok-5f3a9c1e77d2");
    const s = scripted([[400, { code: "InvalidAuthentication", message: "不合法的access_token tok-5f3a9c1e77d2" }]]);
    const err = await failure(client(s.fetch).request({ api: "t", url: "http://x/t?access_token=tok-5f3a9c1e77d2", schema: Ok }));
    expect(err.message).not.toContain("tok-5f3a9c1e77d2");
    expect(err.isAuthError).toBe(true);
  });
});
