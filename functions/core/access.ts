// Who may do what: who may talk to the bot (channels.dingtalk.allow_from), who is an admin
// (channels.dingtalk.admins: exempt from limits, may use every model, gets the admin commands and may
// cancel anyone's reminders), and who may use a model_list entry (model_list[].allow_from).
import type { AppConfig, ModelEndpoint } from "./config.js";
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


/** Who sent a message, as limits, model access and the admin commands see them. */
export interface Caller {
  /** The staff id, else DingTalk's sender id (users outside the org have no staff id). */
  id: string;
  staffId: string | undefined;
  admin: boolean;
}

export function callerOf(sender: Pick<InboundMessage["sender"], "id" | "staffId">, dingtalk: Pick<AppConfig["dingtalk"], "admins">): Caller {
  return { id: sender.staffId || sender.id, staffId: sender.staffId, admin: isAdmin(dingtalk, sender.staffId) };
}

/** Whether a user may use this model_list entry: admins may use every entry, others those whose allow_from is empty or lists their staff id. */
export function mayUseEndpoint(endpoint: Pick<ModelEndpoint, "allowFrom">, user: Pick<Caller, "staffId" | "admin">): boolean {
  return user.admin || endpoint.allowFrom.length === 0 || (!!user.staffId && endpoint.allowFrom.includes(user.staffId));
}
