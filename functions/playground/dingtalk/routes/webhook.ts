// Session webhooks of the DingTalk double (reference §4.1): `POST /robot/sendBySession?session=`
// answers `{errcode:0}`, or HTTP 200 `{errcode:300001}` once the session is unknown or expired.
import * as z from "zod";
import { json, legacyError, type Route } from "../router.js";
import type { SentMessage } from "../state.js";

const s = z.string();
const At = z.looseObject({ atUserIds: z.array(s).optional(), atMobiles: z.array(s).optional(), isAtAll: z.boolean().optional() });

const WebhookBody = z.discriminatedUnion("msgtype", [
  z.looseObject({ msgtype: z.literal("text"), text: z.looseObject({ content: s }), at: At.optional() }),
  z.looseObject({ msgtype: z.literal("markdown"), markdown: z.looseObject({ title: s, text: s }), at: At.optional() }),
  z.looseObject({ msgtype: z.literal("link"), link: z.looseObject({ title: s, text: s, messageUrl: s, picUrl: s.optional() }) }),
  z.looseObject({
    msgtype: z.literal("actionCard"),
    actionCard: z.looseObject({
      title: s,
      text: s,
      singleTitle: s.optional(),
      singleURL: s.optional(),
      btnOrientation: s.optional(),
      btns: z.array(z.looseObject({ title: s, actionURL: s })).optional(),
    }),
  }),
  z.looseObject({ msgtype: z.literal("feedCard"), feedCard: z.looseObject({ links: z.array(z.looseObject({ title: s, messageURL: s, picURL: s.optional() })) }) }),
  z.looseObject({ msgtype: z.literal("empty") }),
]);
type WebhookBody = z.output<typeof WebhookBody>;

/** The webhook body as the normalised fields of a SentMessage. */
export function normaliseWebhook(body: WebhookBody): Pick<SentMessage, "msgtype" | "title" | "text" | "buttons" | "atUserIds"> {
  switch (body.msgtype) {
    case "text":
      return { msgtype: "text", text: body.text.content, ...(body.at?.atUserIds ? { atUserIds: body.at.atUserIds } : {}) };
    case "markdown":
      return {
        msgtype: "markdown",
        title: body.markdown.title,
        text: body.markdown.text,
        ...(body.at?.atUserIds ? { atUserIds: body.at.atUserIds } : {}),
      };
    case "link":
      return { msgtype: "link", title: body.link.title, text: body.link.text };
    case "actionCard": {
      const c = body.actionCard;
      const buttons = c.btns
        ? c.btns.map((b) => ({ title: b.title, url: b.actionURL }))
        : c.singleTitle !== undefined
          ? [{ title: c.singleTitle, url: c.singleURL ?? "" }]
          : [];
      return { msgtype: "actionCard", title: c.title, text: c.text, buttons };
    }
    case "feedCard":
      return { msgtype: "feedCard", text: body.feedCard.links.map((l) => l.title).join("\n") };
    case "empty":
      return { msgtype: "empty" };
  }
}

export const webhookRoutes: Route[] = [
  {
    name: "robot.sendBySession",
    method: "POST",
    path: "/robot/sendBySession",
    handle(req, state) {
      const session = state.sessions.get(req.query.get("session") ?? "");
      if (!session || session.expiresAt <= state.now()) return legacyError(300001, "session 不存在");
      if (req.jsonError || req.json === undefined) return legacyError(40035, "缺少参数 json");
      const body = WebhookBody.safeParse(req.json);
      if (!body.success) return legacyError(40035, "缺少参数 msgtype 或消息内容不合法");
      if (body.data.msgtype !== "empty")
        state.recordSent(
          {
            route: "webhook",
            robotCode: session.robotCode,
            conversationType: session.conversationType,
            conversationId: session.conversationId,
            ...(session.staffId ? { userId: session.staffId } : {}),
            ...normaliseWebhook(body.data),
            time: state.now(),
          },
          { session: session.session },
        );
      return json(200, { errcode: 0, errmsg: "ok" });
    },
  },
];
