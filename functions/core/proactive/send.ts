// Proactive messages: the bot speaks first, to staff ids (`oToMessages/batchSend`, at most 20 per
// call) or one group (`groupMessages/send`), always through the robot OpenAPI (session webhooks
// expire). Long texts are split like replies; per-user flow control is retried with backoff for the
// users it held back; DingTalk's refusals come back in plain words (ProactiveSendError).
import * as z from "zod";
import type { DingTalkClient } from "../dingtalk/client.js";
import { DingTalkApiError, apiError } from "../dingtalk/http.js";
import { openApiMessage, type OutgoingMessage } from "../dingtalk/outgoing.js";
import { DEFAULT_LIMITS, numbering, renderReply, splitText } from "../dingtalk/split.js";
import { backoffDelay, realSleep, retry, type Sleep } from "../retry.js";
import type { Recipients } from "./config.js";

/** batchSend's documented limit: "每次最多传20个" (chatbots-send-one-on-one-chat-messages-in-batches). */
export const MAX_USERS_PER_CALL = 20;

/** What to say: plain text, or markdown (rendered for DingTalk like replies) with an optional title. */
export type ProactiveMessage = { text: string } | { markdown: string; title?: string };

export interface ProactiveResult {
  /** Where it went: the staff ids DingTalk accepted it for, or the group. */
  delivered: Recipients;
  /** Staff ids DingTalk does not know or the bot may not message (batchSend's invalidStaffIdList). */
  invalidStaffIds: string[];
  /** Staff ids still flow-controlled by DingTalk after the retries (they did not get it). */
  flowControlledStaffIds: string[];
  /** Messages each recipient got (a long text is split). */
  parts: number;
  /** DingTalk's ids of the sent messages (for read status or recall). */
  processQueryKeys: string[];
}

export interface ProactiveSendOptions {
  robotCode: string;
  /**
   * Steps an earlier attempt of the same send already completed (keys given to `onStep`): they are
   * not sent again, so a retried job never repeats a part.
   */
  done?: Iterable<string>;
  /** Called after each step (one part to one group or one batch of users) DingTalk accepted. */
  onStep?: (key: string) => Promise<void> | void;
  /** Attempts for users held back by flow control (default 4). */
  flowAttempts?: number;
  sleep?: Sleep;
  random?: () => number;
}

/** A send DingTalk refused (or that reached nobody), explained in plain words. */
export class ProactiveSendError extends Error {
  constructor(
    message: string,
    /** DingTalk's code (or ours: "noRecipient"), for logs and retry decisions. */
    readonly code: string,
    /** True when trying again later may work (throttling, DingTalk or network trouble). */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "ProactiveSendError";
  }
}

const BatchSendAnswer = z.looseObject({
  processQueryKey: z.string().optional(),
  invalidStaffIdList: z.array(z.string()).nullish(),
  flowControlledStaffIdList: z.array(z.string()).nullish(),
});
const GroupSendAnswer = z.looseObject({ processQueryKey: z.string().optional() });

/** The messages to send, in order, each within DingTalk's size limits. */
export function proactiveParts(message: ProactiveMessage): OutgoingMessage[] {
  if ("text" in message) {
    const reserve = 16;
    const pieces = splitText(message.text.trim(), { maxChars: DEFAULT_LIMITS.maxChars - reserve, maxBytes: DEFAULT_LIMITS.maxBytes - reserve })
      .map((p) => p.trim())
      .filter(Boolean);
    return pieces.map((text, i) => ({ kind: "text", text: pieces.length > 1 ? text + numbering(i, pieces.length) : text }));
  }
  const parts = renderReply(message.markdown);
  const title = message.title?.trim();
  return parts.map((p, i) => ({
    kind: "markdown",
    title: title ? (parts.length > 1 ? `${title} (${i + 1}/${parts.length})` : title) : p.title,
    text: p.text,
  }));
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Sends `message` to `to`. Resolves once DingTalk accepted every part for at least one recipient
 * (the result lists staff ids it refused or held back); throws ProactiveSendError otherwise.
 */
export async function sendProactive(client: DingTalkClient, to: Recipients, message: ProactiveMessage, opts: ProactiveSendOptions): Promise<ProactiveResult> {
  const parts = proactiveParts(message);
  if (parts.length === 0) throw new ProactiveSendError("nothing to send: the message is empty", "emptyMessage", false);
  const done = new Set(opts.done ?? []);
  const keys: string[] = [];
  try {
    if ("group" in to) {
      for (const [i, part] of parts.entries()) {
        const key = `p${i}`;
        if (done.has(key)) continue;
        const answer = await client.callOpenApi({
          api: "robot.groupMessages.send",
          path: "/v1.0/robot/groupMessages/send",
          body: { robotCode: opts.robotCode, openConversationId: to.group, ...wire(part) },
          schema: GroupSendAnswer,
        });
        if (answer.processQueryKey) keys.push(answer.processQueryKey);
        await opts.onStep?.(key);
      }
      return { delivered: { group: to.group }, invalidStaffIds: [], flowControlledStaffIds: [], parts: parts.length, processQueryKeys: keys };
    }
    const users = [...new Set(to.users)];
    const invalid = new Set<string>();
    const held = new Set<string>();
    for (const [i, part] of parts.entries()) {
      for (const [b, batch] of chunks(users, MAX_USERS_PER_CALL).entries()) {
        const key = `p${i}b${b}`;
        if (done.has(key)) continue;
        // A user DingTalk refused or held back for an earlier part does not get the later ones out of order.
        const pending = batch.filter((u) => !invalid.has(u) && !held.has(u));
        if (pending.length === 0) continue;
        const outcome = await sendBatch(client, pending, part, opts);
        outcome.invalid.forEach((u) => invalid.add(u));
        outcome.held.forEach((u) => held.add(u));
        keys.push(...outcome.keys);
        await opts.onStep?.(key);
      }
    }
    const delivered = users.filter((u) => !invalid.has(u) && !held.has(u));
    if (delivered.length === 0) throw noRecipient([...invalid], [...held]);
    return { delivered: { users: delivered }, invalidStaffIds: [...invalid], flowControlledStaffIds: [...held], parts: parts.length, processQueryKeys: keys };
  } catch (err) {
    throw err instanceof DingTalkApiError ? explain(err, to) : err;
  }
}

function wire(part: OutgoingMessage): { msgKey: string; msgParam: string } {
  const { msgKey, msgParam } = openApiMessage(part);
  return { msgKey, msgParam: JSON.stringify(msgParam) };
}

/** One part to one batch; users held back by flow control are tried again with backoff. */
async function sendBatch(client: DingTalkClient, batch: string[], part: OutgoingMessage, opts: ProactiveSendOptions) {
  const invalid: string[] = [];
  const keys: string[] = [];
  let pending = batch;
  try {
    await retry(
      async () => {
        const answer = await client.callOpenApi({
          api: "robot.oToMessages.batchSend",
          path: "/v1.0/robot/oToMessages/batchSend",
          body: { robotCode: opts.robotCode, userIds: pending, ...wire(part) },
          schema: BatchSendAnswer,
        });
        if (answer.processQueryKey) keys.push(answer.processQueryKey);
        const refused = new Set(answer.invalidStaffIdList ?? []);
        const limited = new Set(answer.flowControlledStaffIdList ?? []);
        invalid.push(...pending.filter((u) => refused.has(u)));
        pending = pending.filter((u) => limited.has(u) && !refused.has(u));
        if (pending.length > 0) throw apiError("robot.oToMessages.batchSend", 200, "flowControlled", `${pending.length} user(s) flow-controlled`);
      },
      {
        attempts: opts.flowAttempts ?? 4,
        retryable: (err) => err instanceof DingTalkApiError && err.code === "flowControlled",
        delayMs: (n) => backoffDelay(n, { baseMs: 1_000, maxMs: 8_000 }, opts.random),
        sleep: opts.sleep ?? realSleep,
      },
    );
  } catch (err) {
    if (!(err instanceof DingTalkApiError) || err.code !== "flowControlled") throw err;
  }
  return { invalid, held: pending, keys };
}

function noRecipient(invalid: string[], held: string[]): ProactiveSendError {
  const why = [
    invalid.length ? `DingTalk does not know these staff ids or the bot may not message them: ${invalid.join(", ")}` : "",
    held.length ? `DingTalk kept holding these back (flow control, too many messages to them): ${held.join(", ")}` : "",
  ].filter(Boolean);
  return new ProactiveSendError(`nobody got the message: ${why.join("; ")}`, invalid.length ? "invalidStaffIds" : "flowControlled", invalid.length === 0);
}

const PERMISSION = "qyapi_robot_sendmsg (企业内机器人发送消息权限)";

/** DingTalk's error as one plain sentence with what to do about it. */
export function explain(err: DingTalkApiError, to: Recipients): ProactiveSendError {
  const c = err.code;
  const where = "group" in to ? `group ${to.group}` : `staff id(s) ${to.users.join(", ")}`;
  const say = (text: string) => new ProactiveSendError(`${text} [${c}]`, c, err.retryable);
  if (c.includes("PermissionDenied") || c === "apiPermissionDenied" || (err.status === 403 && !err.throttled))
    return say(`the DingTalk app may not send robot messages: grant it the permission ${PERMISSION} under 权限管理 in the developer console`);
  if (c === "invalidClientIdOrSecret" || c === "MissingappKey" || err.isAuthError)
    return say("DingTalk rejected the app's credentials: check channels.dingtalk.client_id and client_secret");
  if (c.startsWith("invalidParameter.robotCode") || c === "template.not.existed" || c === "resource.not.found")
    return say("DingTalk does not know this app's robot: turn the robot on for the app (应用能力 → 机器人) and check channels.dingtalk.robot_code");
  if (c === "chatbotId.notAllow.sendOTO" || c === "robot.oto.notExist")
    return say(`the robot may not start 1:1 chats with ${where}: publish the robot and make sure they are in the app's 可见范围`);
  if (c === "staffId.notExisted" || c === "invalidParameter.userId.empty" || c === "illegal.receivers")
    return say(`DingTalk does not know ${where}: use staff ids (userid) of people in this organisation`);
  if (c === "invalid.openConversationId" || c === "miss.openConversationId" || c === "conversation.org.notMatch" || c.includes("groupPermissionDenied"))
    return say(`DingTalk does not know ${where} for this robot: use the group's openConversationId and add the robot to the group`);
  if (c === "group.disbanded") return say(`${where} has been disbanded`);
  if (c === "bot.stopped" || c === "template.stopped" || c === "send.forbidden" || c === "bot.forbidden.sendMessage" || c === "resource.unavailable")
    return say("the robot is stopped or muted in DingTalk: turn it on again in the developer console");
  if (c.startsWith("contain.")) return say("DingTalk refused the content (unsafe link or not allowed text)");
  if (err.throttled) return say("DingTalk is rate limiting this app right now: try again in a minute");
  if (c === "network" || c === "timeout") return say(`could not reach DingTalk (${err.message.replace(/^[^:]*: /, "")})`);
  if (err.retryable) return say("DingTalk had a problem: try again later");
  return say(`DingTalk refused it: ${err.message.replace(/^[^:]*: /, "")}`);
}

/** "2 users (alice, bob)" or "group cid…": where a send went, for people and logs. */
export function describeRecipients(to: Recipients): string {
  if ("group" in to) return `group ${to.group}`;
  return `${to.users.length} user${to.users.length === 1 ? "" : "s"} (${to.users.join(", ")})`;
}
