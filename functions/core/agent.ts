// The agent: one inbound DingTalk message in, one reply out. Access rules, commands, conversation
// context, the LLM call with its fallback chain, rendering and sending; collaborators are injected.
import type { AppConfig } from "./config.js";
import { parseCommand, type Command } from "./commands.js";
import type { InboundMessage } from "./dingtalk/inbound.js";
import type { OutgoingMessage, ReplyTarget, SendResult } from "./dingtalk/client.js";
import { renderReply } from "./dingtalk/split.js";
import { LlmError, type ChatMessage, type ChatResult, type LlmClient, type LlmErrorKind } from "./llm/client.js";
import type { Logger } from "./log.js";
import type { Conversation, ConversationStore, Turn } from "./store/conversations.js";
import * as say from "./replies.js";

export interface AgentDeps {
  config: Pick<AppConfig, "agent" | "dingtalk" | "models">;
  conversations: ConversationStore;
  llm: Pick<LlmClient, "chat">;
  send: (target: ReplyTarget, message: OutgoingMessage) => Promise<SendResult>;
  log: Logger;
  now: () => number;
}

export interface AgentContext {
  requestId?: string;
  /** Called once every part of the reply has been delivered (the worker records it so a retry never resends). */
  onSent?: (result: SendResult) => Promise<void>;
}

export type AgentOutcome =
  | { action: "ignored"; reason: "not_mentioned" }
  | {
      action: "replied";
      kind: "answer" | "command" | "help" | "refused" | "unsupported" | "llm_error";
      route: SendResult["route"];
      parts: number;
      modelName?: string;
      errorKind?: LlmErrorKind;
      llm?: { firstTokenMs?: number; totalMs: number; promptTokens: number; completionTokens: number };
      sendMs: number;
      reused?: boolean;
    };

type Replied = Extract<AgentOutcome, { action: "replied" }>;

/** The conversation a message belongs to: 1:1 per sender; groups per conversation or per sender. */
export function scopeKey(msg: InboundMessage, groupScope: AppConfig["dingtalk"]["groupScope"]): string {
  const robot = msg.robotCode ?? "robot";
  const who = msg.sender.staffId || msg.sender.id;
  if (msg.conversation.type === "direct") return `${robot}:dm:${who}`;
  return groupScope === "sender"
    ? `${robot}:group:${msg.conversation.id}:${who}`
    : `${robot}:group:${msg.conversation.id}`;
}

export function replyTarget(msg: InboundMessage, robotCode: string): ReplyTarget {
  return {
    conversationType: msg.conversation.type,
    conversationId: msg.conversation.id,
    staffId: msg.sender.staffId,
    robotCode: msg.robotCode ?? robotCode,
    sessionWebhook: msg.reply.sessionWebhook,
    sessionWebhookExpiresAt: msg.reply.sessionWebhookExpiresAt,
  };
}

function isAllowed(msg: InboundMessage, allowFrom: string[]): boolean {
  if (allowFrom.length === 0) return true;
  return [msg.sender.staffId, msg.sender.id, msg.sender.unionId].some((id) => id && allowFrom.includes(id));
}

export async function handleMessage(msg: InboundMessage, deps: AgentDeps, ctx: AgentContext = {}): Promise<AgentOutcome> {
  const { config } = deps;
  const group = msg.conversation.type === "group";
  const reply = (text: string, kind: Replied["kind"], extra: Partial<Replied> = {}) =>
    sendReply(msg, text, deps, ctx).then((sent): Replied => ({ action: "replied", kind, ...sent, ...extra }));

  if (group && !msg.mentioned) return { action: "ignored", reason: "not_mentioned" };
  if (!isAllowed(msg, config.dingtalk.allowFrom)) return reply(say.notAllowed(), "refused");

  const command = parseCommand(msg.text);
  const key = scopeKey(msg, config.dingtalk.groupScope);
  if (command) return reply(await runCommand(command, key, msg, deps), command.name === "help" ? "help" : "command");

  const unsupported = say.unsupportedKind(msg);
  if (unsupported) return reply(unsupported, "unsupported");
  if (msg.text.trim() === "") return reply(group ? say.emptyMention() : say.help(group), "help");

  const conversation = await deps.conversations.load(key);
  const earlier = conversation.turns.find((t) => t.role === "assistant" && t.msgId === msg.msgId);
  if (earlier) return reply(earlier.content, "answer", { reused: true });

  const modelName = conversation.model && config.models.some((m) => m.name === conversation.model) ? conversation.model : undefined;
  let result: ChatResult;
  try {
    result = await askWithContext(msg, conversation, modelName, deps, ctx);
  } catch (err) {
    const kind = err instanceof LlmError ? err.kind : "other";
    deps.log.warn("llm failed", { msgId: msg.msgId, requestId: ctx.requestId, kind, error: err });
    return reply(say.llmFailure(kind), "llm_error", { errorKind: kind });
  }

  const userTurn: Turn = { role: "user", content: userContent(msg), at: msg.createdAt, msgId: msg.msgId, sender: msg.sender.nick };
  const answerTurn: Turn = { role: "assistant", content: result.text, at: msg.createdAt, msgId: msg.msgId };
  await deps.conversations.append(key, [userTurn, answerTurn], {
    usage: { promptTokens: result.usage.promptTokens, completionTokens: result.usage.completionTokens },
  });
  return reply(result.text, "answer", {
    modelName: result.modelName,
    llm: {
      firstTokenMs: result.firstTokenMs,
      totalMs: result.totalMs,
      promptTokens: result.usage.promptTokens,
      completionTokens: result.usage.completionTokens,
    },
  });
}

function userContent(msg: InboundMessage): string {
  return msg.quoted?.text ? `> ${msg.quoted.text.replace(/\n/g, "\n> ")}\n\n${msg.text}` : msg.text;
}

function toChat(turn: Turn, group: boolean): ChatMessage {
  const content = group && turn.role === "user" && turn.sender ? `${turn.sender}: ${turn.content}` : turn.content;
  return { role: turn.role, content };
}

/** The LLM call; on "context too long" it retries once with the current message alone. */
async function askWithContext(
  msg: InboundMessage,
  conversation: Conversation,
  modelName: string | undefined,
  deps: AgentDeps,
  ctx: AgentContext,
): Promise<ChatResult> {
  const shared = msg.conversation.type === "group" && deps.config.dingtalk.groupScope === "conversation";
  const system: ChatMessage = { role: "system", content: say.systemPrompt(deps.config.agent.systemPrompt, msg, deps.now()) };
  const current = toChat({ role: "user", content: userContent(msg), at: msg.createdAt, sender: msg.sender.nick }, shared);
  const history = conversation.turns.map((t) => toChat(t, shared));
  try {
    return await deps.llm.chat({ messages: [system, ...history, current], modelName, requestId: ctx.requestId });
  } catch (err) {
    if (!(err instanceof LlmError) || err.kind !== "context_length" || history.length === 0) throw err;
    deps.log.info("context too long, retrying without history", { msgId: msg.msgId, requestId: ctx.requestId });
    return deps.llm.chat({ messages: [system, current], modelName, requestId: ctx.requestId });
  }
}

async function runCommand(command: Command, key: string, msg: InboundMessage, deps: AgentDeps): Promise<string> {
  const { config } = deps;
  const names = [...new Set(config.models.map((m) => m.name))];
  switch (command.name) {
    case "help":
      return say.help(msg.conversation.type === "group");
    case "new":
      await deps.conversations.reset(key);
      return say.reset();
    case "usage": {
      const conversation = await deps.conversations.load(key);
      return say.usage(conversation.usage, conversation.turns.length);
    }
    case "model": {
      if (!command.arg) {
        const conversation = await deps.conversations.load(key);
        const current = conversation.model && names.includes(conversation.model) ? conversation.model : config.agent.primary;
        return say.currentModel(current, names, config.models);
      }
      const wanted = names.find((n) => n.toLowerCase() === command.arg!.toLowerCase());
      if (!wanted) return say.unknownModel(command.arg, names);
      await deps.conversations.setModel(key, wanted === config.agent.primary ? undefined : wanted);
      return say.modelSwitched(wanted);
    }
    case "unknown":
      return say.unknownCommand(command.word);
  }
}

async function sendReply(
  msg: InboundMessage,
  text: string,
  deps: AgentDeps,
  ctx: AgentContext,
): Promise<{ route: SendResult["route"]; parts: number; sendMs: number }> {
  const started = deps.now();
  const target = replyTarget(msg, deps.config.dingtalk.credentials?.robotCode ?? "");
  const rendered = renderReply(text);
  const parts = rendered.length > 0 ? rendered : renderReply(say.emptyAnswer());
  let last: SendResult | undefined;
  for (const part of parts) last = await deps.send(target, { kind: "markdown", title: part.title, text: part.text });
  if (!last) throw new Error("nothing to send");
  await ctx.onSent?.(last);
  return { route: last.route, parts: parts.length, sendMs: deps.now() - started };
}
