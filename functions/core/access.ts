// Who may do what: who may talk to the bot (channels.dingtalk.allow_from), who is an admin
// (channels.dingtalk.admins: exempt from limits, may use every model, gets the admin commands and may
// cancel anyone's reminders), and who may use a model_list entry (model_list[].allow_from).
import type { AppConfig } from "./config.js";
import type { InboundMessage } from "./dingtalk/inbound.js";

/** Whether the sender may use the bot at all; an empty allow_from allows everyone. */
export function isAllowed(sender: InboundMessage["sender"], allowFrom: readonly string[]): boolean {
  if (allowFrom.length === 0) return true;
  return [sender.staffId, sender.id, sender.unionId].some((id) => id && allowFrom.includes(id));
}

/** Whether the staff id is one of `channels.dingtalk.admins` (only a staff id counts: DingTalk sets it for members of the org). */
export function isAdmin(dingtalk: Pick<AppConfig["dingtalk"], "admins">, staffId: string | undefined): boolean {
  return !!staffId && dingtalk.admins.includes(staffId);
}

