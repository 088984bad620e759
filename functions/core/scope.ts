// Which conversation a message belongs to: 1:1 chats per sender; groups per conversation, or per
// sender in the group with group_scope "sender"; and which conversations are the sender's own.
import type { AppConfig } from "./config.js";
import type { InboundMessage } from "./dingtalk/inbound.js";

type GroupScope = AppConfig["dingtalk"]["groupScope"];

function parts(msg: InboundMessage): { robot: string; who: string } {
  return { robot: msg.robotCode ?? "robot", who: msg.sender.staffId || msg.sender.id };
}

export function scopeKey(msg: InboundMessage, groupScope: GroupScope): string {
  const { robot, who } = parts(msg);
  if (msg.conversation.type === "direct") return `${robot}:dm:${who}`;
  return groupScope === "sender" ? `${robot}:group:${msg.conversation.id}:${who}` : `${robot}:group:${msg.conversation.id}`;
}

/**
 * The conversations that are the sender's own, wherever the message was sent: their 1:1 chat, and in a
 * group with group_scope "sender" their own one there (a shared group conversation is the group's).
 */
export function ownScopeKeys(msg: InboundMessage, groupScope: GroupScope): { direct: string; group?: string } {
  const { robot, who } = parts(msg);
  const direct = `${robot}:dm:${who}`;
  return msg.conversation.type === "group" && groupScope === "sender" ? { direct, group: scopeKey(msg, groupScope) } : { direct };
}
