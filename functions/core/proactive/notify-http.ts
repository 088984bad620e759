// The gateway's `POST /notify`: `Authorization: Bearer <channels.dingtalk.notify_token>` checked in
// constant time (SHA-256 of both sides, timingSafeEqual), the JSON body parsed with zod, then the
// same core as the CLI and the FC function (notify.ts). The gateway adds the route only when a token
// is set, so without one it does not exist (404).
import { createHash, timingSafeEqual } from "node:crypto";
import { json, type Route } from "../gateway/http-server.js";
import { notify, notifyAnswer, parseNotifyRequest, type NotifierDeps } from "./notify.js";

const MAX_BODY_BYTES = 256 * 1024;

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/** True when the header is `Bearer <token>` for exactly this token. */
export function bearerMatches(header: string | string[] | undefined, token: string): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  const given = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(value ?? "")?.[1] ?? "";
  // Hashing first makes both sides the same length, so the compare takes the same time whatever was sent.
  return timingSafeEqual(digest(given), digest(token)) && given.length > 0;
}

export function notifyRoute(token: string, deps: NotifierDeps): Route {
  return {
    method: "POST",
    path: "/notify",
    maxBodyBytes: MAX_BODY_BYTES,
    async handle(req) {
      if (!bearerMatches(req.headers.authorization, token))
        return json(401, { ok: false, error: "missing or wrong bearer token (Authorization: Bearer <channels.dingtalk.notify_token>)" }, { "www-authenticate": "Bearer" });
      if (req.body === undefined) return json(413, { ok: false, error: `body larger than ${MAX_BODY_BYTES / 1024} KB` });
      let value: unknown;
      try {
        value = JSON.parse(req.body.toString("utf8"));
      } catch {
        return json(400, { ok: false, error: "body is not JSON (example: {\"to\": {\"group\": \"cid…\"}, \"text\": \"部署完成\"})" });
      }
      const parsed = parseNotifyRequest(value);
      if (!parsed.ok) return json(400, { ok: false, error: parsed.reason });
      const log = deps.log.child({ requestId: req.requestId });
      let answer;
      try {
        answer = notifyAnswer(await notify(parsed.request, { ...deps, log }));
      } catch (error) {
        answer = notifyAnswer({ error });
      }
      return json(answer.status, answer.body);
    },
  };
}
