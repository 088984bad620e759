// Test helper: realistic DingTalk callback bodies (fields as in the protocol reference §1) and their
// signed HTTP headers, for any test that feeds messages to the callback, the Stream socket or the agent.
import { randomUUID } from "node:crypto";
import { signTimestamp } from "../../functions/core/dingtalk/sign.js";

export interface MessageOptions {
  text?: string;
  msgId?: string;
  robotCode?: string;
  /** "direct" (default) or "group". */
  type?: "direct" | "group";
  conversationId?: string;
  conversationTitle?: string;
  staffId?: string | null;
  nick?: string;
  senderId?: string;
  mentioned?: boolean;
  createAt?: number;
  sessionWebhook?: string;
  sessionWebhookExpiredTime?: number;
  /** Replaces the text payload (e.g. { msgtype: "picture", content: {...} }). */
  payload?: Record<string, unknown>;
}

/** A DingTalk robot callback body, as DingTalk posts it (HTTP) or puts it in a Stream frame's `data`. */
export function callbackBody(o: MessageOptions = {}): Record<string, unknown> {
  const createAt = o.createAt ?? Date.now();
  const group = o.type === "group";
  const staffId = o.staffId === undefined ? "staff001" : o.staffId;
  const body: Record<string, unknown> = {
    msgId: o.msgId ?? `msg${randomUUID().replace(/-/g, "")}`,
    msgtype: "text",
    text: { content: o.text ?? "你好" },
    createAt,
    conversationType: group ? "2" : "1",
    conversationId: o.conversationId ?? (group ? "cidGroup001==" : `cidDirect${staffId ?? "ext"}==`),
    senderId: o.senderId ?? `$:LWCP_v1:$${staffId ?? "external"}`,
    senderNick: o.nick ?? "张三",
    senderCorpId: "dingcorp001",
    chatbotCorpId: "dingcorp001",
    chatbotUserId: "$:LWCP_v1:$bot",
    robotCode: o.robotCode ?? "dingtestbot",
    isAdmin: false,
    senderPlatform: "Mac",
    sessionWebhook: o.sessionWebhook ?? "https://oapi.dingtalk.com/robot/sendBySession?session=unused",
    sessionWebhookExpiredTime: o.sessionWebhookExpiredTime ?? createAt + 5_400_000,
    ...(o.payload ?? {}),
  };
  if (staffId) body.senderStaffId = staffId;
  if (group) {
    body.conversationTitle = o.conversationTitle ?? "产品研发群";
    body.isInAtList = o.mentioned ?? true;
    body.atUsers = [{ dingtalkId: "$:LWCP_v1:$bot" }];
  }
  return body;
}

/** The headers DingTalk sends with a callback, signed with the app secret. */
export function signedHeaders(secret: string, timestamp = Date.now()): Record<string, string> {
  const ts = String(timestamp);
  return { "content-type": "application/json; charset=utf-8", timestamp: ts, sign: signTimestamp(ts, secret) };
}
