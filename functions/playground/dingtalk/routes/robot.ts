// Robot send routes of the DingTalk double (reference §4.2–4.4): `oToMessages/batchSend` and
// `groupMessages/send`, validating token, robotCode, msgKey and msgParam as DingTalk does. Both need
// the permission qyapi_robot_sendmsg ("权限要求" in the docs chatbots-send-one-on-one-chat-messages-in-batches
// and the-robot-sends-a-group-message); without it DingTalk answers 403
// `Forbidden.AccessDenied.AccessTokenPermissionDenied` (server-api-error-codes-1). batchSend answers 200
// and lists the staff ids it did not send to in `invalidStaffIdList` / `flowControlledStaffIdList`
// (its response example), and refuses more than 20 userIds ("每次最多传20个"); groupMessages/send
// answers 400 `invalid.openConversationId` for a group it does not know (its error table).
import { randomBytes } from "node:crypto";
import * as z from "zod";
import { apiError, json, permissionDenied, type DoubleRequest, type DoubleResponse, type Route } from "../router.js";
import { requestId, type App, type DoubleState, type SentMessage } from "../state.js";
import { checkAccessToken } from "./auth.js";

export const MAX_MSG_PARAM_BYTES = 15_000;
export const MAX_USER_IDS = 20;

const s = z.string();
const actionCardN = (n: number) => {
  const shape: Record<string, z.ZodString> = { title: s, text: s };
  for (let i = 1; i <= n; i++) {
    shape[`actionTitle${i}`] = s;
    shape[`actionURL${i}`] = s;
  }
  return z.looseObject(shape);
};

/** msgParam schema per msgKey (reference §4.4). */
export const MSG_PARAM_SCHEMAS: Record<string, z.ZodType<Record<string, unknown>>> = {
  sampleText: z.looseObject({ content: s }),
  sampleMarkdown: z.looseObject({ title: s, text: s }),
  sampleImageMsg: z.looseObject({ photoURL: s }),
  sampleLink: z.looseObject({ text: s, title: s, picUrl: s.optional(), messageUrl: s }),
  sampleActionCard: z.looseObject({ title: s, text: s, singleTitle: s, singleURL: s }),
  sampleActionCard2: actionCardN(2),
  sampleActionCard3: actionCardN(3),
  sampleActionCard4: actionCardN(4),
  sampleActionCard5: actionCardN(5),
  sampleActionCard6: z.looseObject({ title: s, text: s, buttonTitle1: s, buttonUrl1: s, buttonTitle2: s, buttonUrl2: s }),
  sampleAudio: z.looseObject({ mediaId: s, duration: s }),
  sampleFile: z.looseObject({ mediaId: s, fileName: s, fileType: s }),
  sampleVideo: z.looseObject({ duration: s, videoMediaId: s, videoType: s, picMediaId: s }),
};

const MSGTYPE_OF_KEY: Record<string, string> = {
  sampleText: "text",
  sampleMarkdown: "markdown",
  sampleImageMsg: "image",
  sampleLink: "link",
  sampleAudio: "audio",
  sampleFile: "file",
  sampleVideo: "video",
};

type Normalised = Pick<SentMessage, "msgtype" | "title" | "text" | "buttons">;

/** A msgKey + msgParam as the normalised fields of a SentMessage. */
export function normaliseOpenApi(msgKey: string, p: Record<string, unknown>): Normalised {
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  if (msgKey.startsWith("sampleActionCard")) {
    const buttons: { title: string; url: string }[] = [];
    if (msgKey === "sampleActionCard") buttons.push({ title: str(p.singleTitle) ?? "", url: str(p.singleURL) ?? "" });
    else if (msgKey === "sampleActionCard6")
      for (const i of [1, 2]) buttons.push({ title: str(p[`buttonTitle${i}`]) ?? "", url: str(p[`buttonUrl${i}`]) ?? "" });
    else for (let i = 1; p[`actionTitle${i}`] !== undefined; i++) buttons.push({ title: str(p[`actionTitle${i}`]) ?? "", url: str(p[`actionURL${i}`]) ?? "" });
    return { msgtype: "actionCard", title: str(p.title), text: str(p.text), buttons };
  }
  const msgtype = MSGTYPE_OF_KEY[msgKey] ?? msgKey;
  const out: Normalised = { msgtype };
  const title = str(p.title);
  const text = str(p.text) ?? str(p.content);
  if (title !== undefined) out.title = title;
  if (text !== undefined) out.text = text;
  return out;
}

/** Who the robot can reach: the send permission, staff ids and groups DingTalk does not know, per-user flow control. */
export class RobotAudience {
  /** qyapi_robot_sendmsg granted (default). */
  sendPermission = true;
  /** Staff ids batchSend lists in invalidStaffIdList (not in the org, or the bot may not message them). */
  readonly unknownStaff = new Set<string>();
  /** openConversationIds groupMessages/send refuses with `invalid.openConversationId`. */
  readonly unknownGroups = new Set<string>();
  /** Staff id → how many more batchSend calls list it in flowControlledStaffIdList. */
  readonly flowControlled = new Map<string, number>();

  /** Forgets every setting (the permission is granted again). */
  clear(): void {
    this.sendPermission = true;
    this.unknownStaff.clear();
    this.unknownGroups.clear();
    this.flowControlled.clear();
  }
}

const ERROR_MESSAGES: Record<string, string> = {
  "invalidParameter.robotCode.empty": "robotCode不能为空",
  "invalidParameter.msgKey.empty": "缺少msgKey",
  "invalidParameter.msgKey.invalid": "msgKey无效",
  "invalidParameter.msgParam.invalid": "msgParam不合法",
  "invalidParameter.msgParam.tooLong": "msgParam过长",
  "invalidParameter.userIds.empty": "userIds不能为空",
  "invalidParameter.userIds.overMax": "userIds超过上限",
  "invalidParameter.openConversationId.empty": "openConversationId不能为空",
};

/** zod with DingTalk's error codes as messages: the first issue's message is the code to answer. */
const code = (c: string) => ({ error: c });
const SendBody = z.looseObject({
  robotCode: z.string(code("invalidParameter.robotCode.empty")).min(1, code("invalidParameter.robotCode.empty")),
  msgKey: z
    .string(code("invalidParameter.msgKey.empty"))
    .min(1, code("invalidParameter.msgKey.empty"))
    .refine((k) => Object.hasOwn(MSG_PARAM_SCHEMAS, k), code("invalidParameter.msgKey.invalid")),
  msgParam: z
    .string(code("invalidParameter.msgParam.invalid"))
    .refine((p) => Buffer.byteLength(p, "utf8") <= MAX_MSG_PARAM_BYTES, code("invalidParameter.msgParam.tooLong")),
});
const BatchSendBody = SendBody.extend({
  userIds: z
    .array(z.string().min(1), code("invalidParameter.userIds.empty"))
    .min(1, code("invalidParameter.userIds.empty"))
    .max(MAX_USER_IDS, code("invalidParameter.userIds.overMax")),
});
const GroupSendBody = SendBody.extend({
  openConversationId: z
    .string(code("invalidParameter.openConversationId.empty"))
    .min(1, code("invalidParameter.openConversationId.empty")),
  coolAppCode: z.string().optional(),
});

type Checked<T> = { ok: true; app: App; body: T; param: Record<string, unknown> } | { ok: false; response: DoubleResponse };

/** Token, body shape, robotCode ownership and msgParam-per-msgKey checks shared by both send APIs. */
function checkSend<S extends typeof BatchSendBody | typeof GroupSendBody>(
  req: DoubleRequest,
  state: DoubleState,
  audience: RobotAudience,
  schema: S,
): Checked<z.output<S>> {
  const fail = (c: string, message = ERROR_MESSAGES[c] ?? c): Checked<z.output<S>> => ({
    ok: false,
    response: apiError(400, c, message, requestId()),
  });
  const auth = checkAccessToken(req, state);
  if (!auth.ok) return auth;
  if (!audience.sendPermission) return { ok: false, response: permissionDenied("qyapi_robot_sendmsg", requestId()) };
  if (req.jsonError || typeof req.json !== "object" || req.json === null || Array.isArray(req.json))
    return fail("invalidParameter.body", "请求体不是合法的JSON");
  const parsed = schema.safeParse(req.json);
  if (!parsed.success) return fail(parsed.error.issues[0]?.message ?? "invalidParameter");
  const body = parsed.data as z.output<S>;
  const app = state.apps.get(auth.token.clientId)!;
  if (body.robotCode !== app.robotCode) return fail("invalidParameter.robotCode.auth", "robotCode与应用不匹配");
  let param: unknown;
  try {
    param = JSON.parse(body.msgParam);
  } catch {
    return fail("invalidParameter.msgParam.invalid");
  }
  const checked = MSG_PARAM_SCHEMAS[body.msgKey]!.safeParse(param);
  if (!checked.success) return fail("invalidParameter.msgParam.invalid", "msgParam与msgKey不匹配");
  return { ok: true, app, body, param: checked.data };
}

function processQueryKey(): string {
  return randomBytes(18).toString("base64");
}

export function robotRoutes(audience: RobotAudience): Route[] {
  return [
    {
      name: "robot.oToMessages.batchSend",
      method: "POST",
      path: "/v1.0/robot/oToMessages/batchSend",
      handle(req, state) {
        const c = checkSend(req, state, audience, BatchSendBody);
        if (!c.ok) return c.response;
        const { msgKey } = c.body;
        const userIds = [...new Set(c.body.userIds)];
        const invalid = userIds.filter((u) => audience.unknownStaff.has(u));
        const limited = userIds.filter((u) => !audience.unknownStaff.has(u) && (audience.flowControlled.get(u) ?? 0) > 0);
        for (const u of limited) audience.flowControlled.set(u, audience.flowControlled.get(u)! - 1);
        const key = processQueryKey();
        for (const userId of userIds.filter((u) => !invalid.includes(u) && !limited.includes(u)))
          state.recordSent({
            route: "openapi",
            robotCode: c.app.robotCode,
            conversationType: "direct",
            conversationId: state.directConversation(userId, c.app.robotCode),
            userId,
            msgKey,
            ...normaliseOpenApi(msgKey, c.param),
            processQueryKey: key,
            time: state.now(),
          });
        return json(200, { processQueryKey: key, invalidStaffIdList: invalid, flowControlledStaffIdList: limited });
      },
    },
    {
      name: "robot.groupMessages.send",
      method: "POST",
      path: "/v1.0/robot/groupMessages/send",
      handle(req, state) {
        const c = checkSend(req, state, audience, GroupSendBody);
        if (!c.ok) return c.response;
        const { msgKey, openConversationId: id } = c.body;
        if (audience.unknownGroups.has(id)) return apiError(400, "invalid.openConversationId", "无效的openConversationId", requestId());
        const key = processQueryKey();
        state.recordSent({
          route: "openapi",
          robotCode: c.app.robotCode,
          conversationType: "group",
          conversationId: id,
          msgKey,
          ...normaliseOpenApi(msgKey, c.param),
          processQueryKey: key,
          time: state.now(),
        });
        return json(200, { processQueryKey: key });
      },
    },
  ];
}
