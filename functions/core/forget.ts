// `/forget`: a user deletes what the bot stores about them. `/forget` lists what will go and records
// a request (store/forget-requests.ts); `/forget confirm` in the same chat within its lifetime deletes
// the user's own conversations (their 1:1 chat; in a group with group_scope "sender", their own one
// there) with the per-message records of those conversations' messages (tool journals, the reply
// ledger on idempotency records), then every other kind of personal data
// registered as PersonalData (reminders, usage details). A shared group conversation is the group's
// and stays. Safe to retry: the request is cleared only after everything is deleted.
import type { Caller } from "./access.js";
import type { Logger } from "./log.js";
import type { ConversationStore } from "./store/conversations.js";
import type { ForgetRequestStore } from "./store/forget-requests.js";
import type { IdempotencyStore } from "./store/idempotency.js";
import type { ToolJournalStore } from "./tools/journal-store.js";

/** Whose data: the staff id (else DingTalk's sender id) and the robot the messages went to. */
export interface Person {
  id: string;
  staffId: string | undefined;
  robotCode: string;
}

/** One kind of data kept about a person outside their conversations; /forget lists and deletes each. */
export interface PersonalData {
  /** For logs, e.g. "reminders". */
  name: string;
  /** What /forget lists, e.g. "你设置的提醒". */
  label: string;
  /** Deletes all of it for `person`; resolves to how many items went. Safe to call again. */
  erase(person: Person): Promise<number>;
}

export interface ForgetDeps {
  requests: Pick<ForgetRequestStore, "ask" | "pending" | "clear" | "ttlSeconds">;
  conversations: Pick<ConversationStore, "load" | "erase">;
  journal: Pick<ToolJournalStore, "delete">;
  idempotency: Pick<IdempotencyStore, "forgetReply">;
  /** Reminders, usage details, …: each store that keeps data about a person adds one entry. */
  personalData: readonly PersonalData[];
}

export interface ForgetRequest {
  confirm: boolean;
  caller: Pick<Caller, "id" | "staffId">;
  /** The robot code message keys start with (ingest.ts messageKey). */
  robotCode: string;
  /** The chat the command was sent in. */
  conversation: { id: string; type: "direct" | "group" };
  /** The sender's own conversations (scope.ts ownScopeKeys). */
  own: { direct: string; group?: string };
  log: Logger;
}

/** Per-message deletions run this many at a time. */
const PARALLEL = 8;

export async function forget(req: ForgetRequest, deps: ForgetDeps): Promise<string> {
  const person: Person = { id: req.caller.id, staffId: req.caller.staffId, robotCode: req.robotCode };
  const requester = `${req.robotCode}:${person.id}`;
  const sharedGroup = req.conversation.type === "group" && !req.own.group;
  const minutes = Math.round(deps.requests.ttlSeconds / 60);

  if (!req.confirm) {
    const [direct, group] = await Promise.all([deps.conversations.load(req.own.direct), req.own.group ? deps.conversations.load(req.own.group) : undefined]);
    await deps.requests.ask(requester, req.conversation.id);
    const lines = [
      "确认要删除我保存的关于你的数据吗？将删除：",
      `- 你和我的单聊记录（${countText(direct.turns.length)}），以及这些消息的卡片和工具调用记录`,
      ...(group ? [`- 你在本群的个人对话记录（${countText(group.turns.length)}）`] : []),
      ...deps.personalData.map((d) => `- ${d.label}`),
    ];
    if (sharedGroup) lines.push("", "本群的对话记录属于整个群，不会删除。");
    lines.push("", `请在 ${minutes} 分钟内${req.conversation.type === "group" ? "在本群 @我 " : ""}发送 \`/forget confirm\` 确认；不确认则什么都不会删除。`);
    return lines.join("\n");
  }

  if (!(await deps.requests.pending(requester, req.conversation.id)))
    return `没有待确认的删除请求（或已超过 ${minutes} 分钟）。请先发送 \`/forget\`，看清将删除的内容后再确认。`;

  const direct = await eraseConversation(req.own.direct, req.robotCode, deps);
  const group = req.own.group ? await eraseConversation(req.own.group, req.robotCode, deps) : undefined;
  const others: Array<{ name: string; label: string; count: number }> = [];
  for (const data of deps.personalData) others.push({ name: data.name, label: data.label, count: await data.erase(person) });
  await deps.requests.clear(requester, req.conversation.id);
  req.log.info("forget: personal data deleted", {
    conversations: [direct, group].filter((c) => c !== undefined && c.turns > 0).length,
    messageRecords: direct.records + (group?.records ?? 0),
    ...Object.fromEntries(others.map((o) => [o.name, o.count])),
  });

  const lines = [
    "已删除：",
    `- 你和我的单聊记录（${countText(direct.turns)}）`,
    ...(group ? [`- 你在本群的个人对话记录（${countText(group.turns)}）`] : []),
    ...others.map((o) => `- ${o.label}：${o.count} 项`),
  ];
  if (sharedGroup) lines.push("", "本群的对话记录属于整个群，没有删除。");
  return lines.join("\n");
}

function countText(turns: number): string {
  return turns > 0 ? `${turns} 条消息` : "目前没有";
}

/** Deletes a conversation and its messages' records; resolves to how many turns and records went. */
async function eraseConversation(key: string, robotCode: string, deps: ForgetDeps): Promise<{ turns: number; records: number }> {
  const seen = new Set<string>();
  const records = async (turns: ReadonlyArray<{ msgId?: string }>): Promise<number> => {
    const ids = [...new Set(turns.flatMap((t) => (t.msgId && !seen.has(t.msgId) ? [t.msgId] : [])))];
    for (const id of ids) seen.add(id);
    let deleted = 0;
    for (let i = 0; i < ids.length; i += PARALLEL) {
      const batch = ids.slice(i, i + PARALLEL).map((id) => eraseMessageRecords(`${robotCode}:${id}`, deps));
      for (const n of await Promise.all(batch)) deleted += n;
    }
    return deleted;
  };
  // Records first: a retry after a crash still finds the conversation that names them.
  const before = await deps.conversations.load(key);
  let deleted = await records(before.turns);
  const erased = await deps.conversations.erase(key);
  if (erased) deleted += await records(erased.turns);
  return { turns: erased?.turns.length ?? 0, records: deleted };
}

async function eraseMessageRecords(messageKey: string, deps: ForgetDeps): Promise<number> {
  const done = await Promise.all([deps.journal.delete(messageKey), deps.idempotency.forgetReply(messageKey)]);
  return done.filter(Boolean).length;
}
