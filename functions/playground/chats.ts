// The playground's simulated DingTalk organisation: its users (plus every `allow_from` id, so access
// rules can be tried), its group chats, and the callback bodies DingTalk would post for their messages.
import { randomUUID } from "node:crypto";
import type { ChatId, PlaygroundGroup, PlaygroundUser } from "./protocol.js";

export const BOT_NAME = "AI助手";
const CORP_ID = "dingplaygroundcorp";
const BOT_USER_ID = "$:LWCP_v1:$playgroundbot";

const DEFAULT_USERS: ReadonlyArray<{ staffId: string; nick: string }> = [
  { staffId: "zhangsan", nick: "张三" },
  { staffId: "lisi", nick: "李四" },
  { staffId: "wangwu", nick: "王五" },
];

const GROUPS: ReadonlyArray<{ conversationId: string; title: string }> = [
  { conversationId: "cidPlayGroupRD==", title: "产品研发群" },
  { conversationId: "cidPlayGroupHike==", title: "周末爬山群" },
];

export function playgroundUsers(allowFrom: readonly string[]): PlaygroundUser[] {
  const users = [...DEFAULT_USERS];
  for (const id of allowFrom) if (!users.some((u) => u.staffId === id)) users.push({ staffId: id, nick: id });
  return users.map((u) => ({ ...u, allowed: allowFrom.length === 0 || allowFrom.includes(u.staffId) }));
}

export function playgroundGroups(): PlaygroundGroup[] {
  return GROUPS.map((g) => ({ ...g, chat: `group:${g.conversationId}` }));
}

export const dmChat = (staffId: string): ChatId => `dm:${staffId}`;
export const groupChat = (conversationId: string): ChatId => `group:${conversationId}`;
export const dmConversationId = (staffId: string): string => `cidPlayDM${Buffer.from(staffId).toString("base64url")}==`;

export type Content =
  | { kind: "text"; text: string }
  | { kind: "picture"; downloadCode: string }
  | { kind: "richText"; text: string; downloadCode: string };

export interface CallbackInput {
  robotCode: string;
  user: { staffId: string; nick: string };
  /** A direct chat with the bot, or a group (messages there @-mention the bot). */
  conversation: { type: "direct" } | { type: "group"; conversationId: string; title: string };
  content: Content;
  sessionWebhook: string;
  sessionWebhookExpiredTime: number;
  now: number;
}

export function newMsgId(): string {
  return `msgpg${randomUUID().replace(/-/g, "")}`;
}

/** The text a user typed, as DingTalk delivers it: in groups prefixed with the bot's @-mention. */
export function deliveredText(text: string, group: boolean): string {
  return group ? `@${BOT_NAME} ${text}` : text;
}

/** A robot callback body as DingTalk posts it (reference §1). */
export function callbackBody(msgId: string, input: CallbackInput): Record<string, unknown> {
  const group = input.conversation.type === "group";
  const c = input.content;
  const payload =
    c.kind === "text"
      ? { msgtype: "text", text: { content: deliveredText(c.text, group) } }
      : c.kind === "picture" && !group
        ? { msgtype: "picture", content: { downloadCode: c.downloadCode, pictureDownloadCode: c.downloadCode } }
        : {
            msgtype: "richText",
            content: {
              richText: [
                ...(group ? [{ type: "at", atName: BOT_NAME }] : []),
                ...(c.kind === "richText" && c.text ? [{ text: c.text }] : []),
                { type: "picture", downloadCode: c.downloadCode, pictureDownloadCode: c.downloadCode },
              ],
            },
          };
  return {
    msgId,
    ...payload,
    createAt: input.now,
    conversationType: group ? "2" : "1",
    conversationId: input.conversation.type === "group" ? input.conversation.conversationId : dmConversationId(input.user.staffId),
    ...(input.conversation.type === "group" ? { conversationTitle: input.conversation.title } : {}),
    senderId: `$:LWCP_v1:$${input.user.staffId}`,
    senderNick: input.user.nick,
    senderStaffId: input.user.staffId,
    senderCorpId: CORP_ID,
    chatbotCorpId: CORP_ID,
    chatbotUserId: BOT_USER_ID,
    robotCode: input.robotCode,
    isAdmin: false,
    senderPlatform: "Web",
    sessionWebhook: input.sessionWebhook,
    sessionWebhookExpiredTime: input.sessionWebhookExpiredTime,
    ...(group ? { isInAtList: true, atUsers: [{ dingtalkId: BOT_USER_ID }] } : {}),
  };
}
