// The agent: one inbound DingTalk message in, one reply out. Orchestrates access rules, commands,
// inbound media (media.ts), model choice (model-choice.ts), the LLM call with its fallback chain (a
// tool loop when tools are configured: tools/loop.ts), and delivery through the job's Replier
// (markdown, the /help card, or a streaming AI card); collaborators are injected.
import { callerOf, isAllowed, mayUseEndpoint, type Caller } from "./access.js";
import { parseCommand, type Command } from "./commands.js";
import type { AppConfig } from "./config.js";
import type { InboundMessage } from "./dingtalk/inbound.js";
import { checkLimits, checkOrgLimit, TurnMeter, type LimitName } from "./limits.js";
import type { ReplyTarget, SendResult } from "./dingtalk/outgoing.js";
import { writePromptAudit, type PromptEnd } from "./audit.js";
import { forget, type ForgetDeps } from "./forget.js";
import { messageKey } from "./ingest.js";
import { LlmError, type ChatMessage, type ChatRequest, type ChatResult, type LlmClient, type LlmErrorKind } from "./llm/index.js";
import type { Logger } from "./log.js";
import { hasMedia, pictureCodes, readUserInput, toContent, type MediaSource, type UserInput } from "./media.js";
import { chooseModel, defaultModel, isUsable, usableNames, type MayUse } from "./model-choice.js";
import type { CardGovernor } from "./quota.js";
import { Replier, type AnswerChannel, type Delivered, type ReplierDeps } from "./replier.js";
import * as say from "./replies.js";
import type { ApiUsageStore } from "./store/api-usage.js";
import { ownScopeKeys, scopeKey } from "./scope.js";
import type { Conversation, ConversationStore, Turn } from "./store/conversations.js";
import type { ReminderStore } from "./store/reminders.js";
import { remindersCommand } from "./proactive/reminders.js";
import type { LlmUsageStore } from "./store/llm-usage.js";
import { buildUsageReport, formatPersonalUsage, formatUsageReport } from "./usage-report.js";
import { callsToStore, replayCalls, runToolLoop, type ToolCallRecord, type ToolContext, type ToolJournal, type ToolRegistry, type ToolSet } from "./tools/index.js";

export { scopeKey };

export interface AgentDeps {
  config: Pick<AppConfig, "agent" | "dingtalk" | "models" | "limits">;
  conversations: ConversationStore;
  llm: Pick<LlmClient, "chat">;
  send: ReplierDeps["send"];
  log: Logger;
  now: () => number;
  /** Inbound pictures and files; absent: such messages get a clear "not supported" reply. */
  media?: MediaSource;
  /** Streaming AI cards for answers (card_mode "answer"); absent: markdown only. */
  cards?: ReplierDeps["cards"];
  /** This month's DingTalk API calls, for `/usage`. */
  quota?: Pick<CardGovernor, "status">;
  /** LLM usage counters: limits are checked and turns counted there; absent: no limits, no counts. */
  usage?: LlmUsageStore;
  /** The DingTalk API-call counter, for the admin report. */
  apiUsage?: Pick<ApiUsageStore, "monthOf">;
  /** Tools the model may call; absent or empty: a plain chat. */
  tools?: Pick<ToolRegistry, "forTurn" | "empty">;
  /** Where a message's side-effecting tool calls are recorded, so a retried job never repeats them. */
  toolJournal?: (messageKey: string) => ToolJournal;
  /** Reminders, for `/reminders`. */
  reminders?: ReminderStore;
  /** What `/forget` deletes; absent: the command says it is not available here. */
  forget?: ForgetDeps;
}

export interface AgentContext {
  requestId?: string;
  /** The job's Replier (the worker's records each delivered part on the job's claim). */
  replier?: Replier;
  /** The conversation of `answerScope`, already being read (the worker reads it alongside its claim renewal). */
  conversation?: Promise<Conversation>;
}

export type AgentOutcome =
  | { action: "ignored"; reason: "not_mentioned" }
  | {
      action: "replied";
      kind: "answer" | "command" | "help" | "refused" | "limited" | "unsupported" | "llm_error";
      route: SendResult["route"];
      parts: number;
      modelName?: string;
      errorKind?: LlmErrorKind;
      llm?: { firstTokenMs?: number; totalMs: number; promptTokens: number; completionTokens: number; cost?: { micros: number; unpriced: boolean } };
      /** The limit that refused the message. */
      limit?: LimitName;
      sendMs: number;
      reused?: boolean;
      /** The AI card the answer went into. */
      card?: { outTrackId: string; updates: number };
      /** How many pictures reached the model. */
      images?: number;
      /** Tool calls of the turn (name, duration, ok/error). */
      tools?: Array<Pick<ToolCallRecord, "name" | "ms" | "ok" | "error" | "reused">>;
      /** The reply's text (content: only the audit line with audit.include_content shows it). */
      reply?: string;
    };

type Replied = Extract<AgentOutcome, { action: "replied" }>;

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

function replied(kind: Replied["kind"], d: Delivered, extra: Partial<Replied> = {}): Replied {
  return { action: "replied", kind, route: d.route, parts: d.parts, sendMs: d.sendMs, ...(d.card ? { card: d.card } : {}), ...extra };
}

/** What a message gets without asking the LLM; undefined when it is answered by the LLM. */
type WithoutLlm =
  | { kind: "ignored" | "refused" | "help" | "empty" }
  | { kind: "command"; command: Exclude<Command, { name: "help" }> }
  | { kind: "unsupported"; reply: string };

function withoutLlm(msg: InboundMessage, config: AgentDeps["config"]): WithoutLlm | undefined {
  if (msg.conversation.type === "group" && !msg.mentioned) return { kind: "ignored" };
  const command = parseCommand(msg.text);
  // Someone no longer allowed to use the bot may still delete what it keeps about them.
  if (!isAllowed(msg.sender, config.dingtalk.allowFrom) && command?.name !== "forget") return { kind: "refused" };
  if (command?.name === "help") return { kind: "help" };
  if (command) return { kind: "command", command };
  const unsupported = say.unsupportedKind(msg);
  if (unsupported) return { kind: "unsupported", reply: unsupported };
  if (msg.text.trim() === "" && !hasMedia(msg)) return { kind: "empty" };
  return undefined;
}

/** The conversation `handleMessage` reads before asking the LLM (its scope key); undefined when it answers without the LLM. */
export function answerScope(msg: InboundMessage, config: AgentDeps["config"]): string | undefined {
  return withoutLlm(msg, config) ? undefined : scopeKey(msg, config.dingtalk.groupScope);
}

export async function handleMessage(msg: InboundMessage, deps: AgentDeps, ctx: AgentContext = {}): Promise<AgentOutcome> {
  const { config } = deps;
  const group = msg.conversation.type === "group";
  const robotCode = config.dingtalk.credentials?.robotCode ?? "";
  const target = replyTarget(msg, robotCode);
  const log = deps.log.child({ msgId: msg.msgId, ...(ctx.requestId ? { requestId: ctx.requestId } : {}) });
  const replier = ctx.replier ?? new Replier(target, messageKey(msg, robotCode), { ...deps, log });
  const markdown = (text: string, kind: Replied["kind"], extra: Partial<Replied> = {}) =>
    replier.markdown(text).then((d) => replied(kind, d, { reply: text, ...extra }));

  const caller = callerOf(msg.sender, config.dingtalk);
  const mayUse: MayUse = (endpoint) => mayUseEndpoint(endpoint, caller);
  const key = scopeKey(msg, config.dingtalk.groupScope);
  const early = withoutLlm(msg, config);
  switch (early?.kind) {
    case "ignored":
      return { action: "ignored", reason: "not_mentioned" };
    case "refused":
      return markdown(say.notAllowed(), "refused");
    case "help":
      return replied("help", await replier.help());
    case "command": {
      const command = early.command;
      if (command.name === "reminders") {
        const reminderCaller = { ...caller, ...(msg.sender.nick ? { nick: msg.sender.nick } : {}), conversation: msg.conversation, robotCode: target.robotCode };
        return markdown(await remindersCommand(deps.reminders, command.cancel, reminderCaller, config.agent.timezone), "command");
      }
      if (command.name === "forget") return markdown(await forgetCommand(command.confirm, msg, caller, target.robotCode, deps, log), "command");
      return markdown(await runCommand(command, { key, caller, msg }, deps, mayUse), "command");
    }
    case "unsupported":
      return markdown(early.reply, "unsupported");
    case "empty":
      return markdown(group ? say.emptyMention() : say.help(group), "help");
  }

  replier.lookAhead();
  const groupOf = group ? { id: msg.conversation.id, ...(msg.conversation.title ? { name: msg.conversation.title } : {}) } : undefined;
  const [conversation, verdict] = await Promise.all([
    ctx.conversation ?? deps.conversations.load(key),
    deps.usage ? checkLimits(deps.usage, config.limits, { caller, ...(groupOf ? { groupId: groupOf.id } : {}) }, deps.now(), config.agent.timezone) : { ok: true as const },
  ]);
  const earlier = conversation.turns.find((t) => t.role === "assistant" && t.msgId === msg.msgId);
  if (earlier) {
    const opened = await replier.answer(true);
    const d = "delivered" in opened ? opened.delivered : await opened.channel.finish(earlier.content);
    return replied("answer", d, { reused: true });
  }
  if (!verdict.ok) {
    log.info("limit reached", { limit: verdict.limit });
    return markdown(say.limitReached(verdict.limit, verdict.max, verdict.resetsAt, config.agent.timezone), "limited", { limit: verdict.limit });
  }

  const choice = chooseModel(config, conversation.model, pictureCodes(msg).length > 0, mayUse);
  if (!choice.ok) return choice.reason === "no_usable_model" ? markdown(say.noUsableModel(), "refused") : markdown(say.noVisionModel(), "unsupported");
  const input = await readUserInput(msg, { media: deps.media, limits: config.dingtalk.media, robotCode: target.robotCode, log });
  if (!input.ok) {
    log.info("media not usable", { reason: input.reason });
    return markdown(input.reply, "unsupported");
  }
  if (choice.switchedForVision) log.info("using the vision model for this turn", { modelName: choice.modelName });

  const opened = await replier.answer(false);
  if ("delivered" in opened) return replied("answer", opened.delivered, { reused: true });
  const channel = opened.channel;
  const images = input.input.images.length > 0 ? { images: input.input.images.length } : {};

  const meter = new TurnMeter(config.models);
  // The turn's usage, counted once it ends (every LLM call of it, answered or not) and written after the
  // reply with the reply's API-call counts (`written`); a table failure here costs the count, not the answer.
  const count = () =>
    deps.usage && meter.calls.length > 0
      ? deps.usage
          .record(meter.usage({ user: { id: caller.id, ...(msg.sender.nick ? { name: msg.sender.nick } : {}) }, ...(groupOf ? { group: groupOf } : {}) }))
          .catch((err: unknown) => log.warn("usage not counted", { error: err }))
      : Promise.resolve();
  const written = (counted: Promise<unknown>) => Promise.all([counted, deps.usage?.flush()]);
  let result: Answer;
  const llmStarted = deps.now();
  try {
    const turn = { requestId: ctx.requestId, messageKey: replier.messageKey, log };
    const model = { modelName: choice.modelName, needsVision: choice.needsVision, mayUse };
    result = await askWithContext(msg, conversation, input.input, model, { ...deps, llm: meter.wrap(deps.llm) }, turn, channel);
  } catch (err) {
    const kind = err instanceof LlmError ? err.kind : "other";
    log.warn("llm failed", { kind, error: err });
    const counted = count();
    // Rounds answered before the failure (tool calls, a fallback's partial stream) still cost tokens.
    const { modelName, ...tokens } = meter.spent();
    const spent = meter.calls.length > 0 ? { modelName, llm: { totalMs: deps.now() - llmStarted, ...tokens, cost: meter.cost() } } : {};
    const failed = await channel.fail(say.llmFailure(kind));
    await written(counted);
    return replied("llm_error", failed, { errorKind: kind, ...images, ...spent });
  }
  const counted = count();

  const userTurn: Turn = { role: "user", content: withQuote(msg, input.input.historyText), at: msg.createdAt, msgId: msg.msgId, sender: msg.sender.nick };
  const stored = callsToStore(result.transcript);
  const answerTurn: Turn = { role: "assistant", content: result.text, at: msg.createdAt, msgId: msg.msgId, ...(stored.length ? { tools: stored } : {}) };
  try {
    await deps.conversations.append(key, [userTurn, answerTurn], {
      usage: { promptTokens: result.usage.promptTokens, completionTokens: result.usage.completionTokens },
      basedOn: conversation,
    });
  } catch (err) {
    await channel.abandon();
    throw err;
  }
  const delivered = await channel.finish(result.text);
  await written(counted);
  return replied("answer", delivered, {
    modelName: result.final.modelName || undefined,
    llm: {
      firstTokenMs: result.final.firstTokenMs,
      totalMs: result.final.totalMs,
      promptTokens: result.usage.promptTokens,
      completionTokens: result.usage.completionTokens,
      cost: meter.cost(),
    },
    ...(result.calls.length ? { tools: result.calls.map(({ name, ms, ok, error, reused }) => ({ name, ms, ok, ...(error ? { error } : {}), ...(reused ? { reused } : {}) })) } : {}),
    ...images,
    reply: result.text,
  });
}

function withQuote(msg: InboundMessage, text: string): string {
  return msg.quoted?.text ? `> ${msg.quoted.text.replace(/\n/g, "\n> ")}\n\n${text}` : text;
}

function toChat(turn: Pick<Turn, "role" | "content" | "sender">, group: boolean, images: readonly string[] = []): ChatMessage {
  const text = group && turn.role === "user" && turn.sender ? `${turn.sender}: ${turn.content}` : turn.content;
  return { role: turn.role, content: toContent(text, images) };
}

/** A stored turn as chat messages: an answer that used tools is preceded by its calls and their results. */
function historyOf(turn: Turn, group: boolean): ChatMessage[] {
  const calls = turn.role === "assistant" && turn.tools ? replayCalls(turn.tools, turn.msgId ?? String(turn.at)) : [];
  return [...calls, toChat(turn, group)];
}

/** The turn's answer: text to deliver, the last LLM result, usage over every round, tool calls made. */
interface Answer {
  text: string;
  final: ChatResult;
  usage: ChatResult["usage"];
  calls: ToolCallRecord[];
  transcript: ChatMessage[];
}

/**
 * The LLM call (streaming into the channel when it wants text as it comes), as a tool loop when tools
 * are configured; on "context too long" it retries once with the current message alone.
 */
async function askWithContext(
  msg: InboundMessage,
  conversation: Conversation,
  input: UserInput,
  model: { modelName: string | undefined; needsVision: boolean; mayUse: MayUse },
  deps: AgentDeps,
  turn: { requestId: string | undefined; messageKey: string; log: Logger },
  channel: AnswerChannel,
): Promise<Answer> {
  const { requestId, log } = turn;
  const shared = msg.conversation.type === "group" && deps.config.dingtalk.groupScope === "conversation";
  const system: ChatMessage = { role: "system", content: say.systemPrompt(deps.config.agent.systemPrompt, msg, deps.now(), deps.config.agent.timezone) };
  const current = toChat({ role: "user", content: withQuote(msg, input.text), sender: msg.sender.nick }, shared, input.images);
  const history = conversation.turns.flatMap((t) => historyOf(t, shared));
  const request = { modelName: model.modelName, requestId, mayUse: model.mayUse, ...(model.needsVision ? { needsVision: true } : {}) };
  const tools = deps.tools && !deps.tools.empty ? await deps.tools.forTurn(log) : undefined;

  const context: Omit<ToolContext, "signal"> = {
    requestId,
    messageKey: turn.messageKey,
    msgId: msg.msgId,
    robotCode: msg.robotCode ?? deps.config.dingtalk.credentials?.robotCode ?? "",
    sender: { id: msg.sender.id, ...(msg.sender.staffId ? { staffId: msg.sender.staffId } : {}), ...(msg.sender.nick ? { nick: msg.sender.nick } : {}) },
    conversation: { id: msg.conversation.id, type: msg.conversation.type, ...(msg.conversation.title ? { title: msg.conversation.title } : {}) },
    log,
    now: deps.now,
  };
  const ask = (messages: ChatMessage[]) => converse(messages, request, tools, context, deps, channel);
  try {
    return await ask([system, ...history, current]);
  } catch (err) {
    if (!(err instanceof LlmError) || err.kind !== "context_length" || history.length === 0) throw err;
    log.info("context too long, retrying without history");
    return ask([system, current]);
  }
}

/** One model turn over `messages`: a plain chat, or the tool loop when tools are offered. */
async function converse(
  messages: ChatMessage[],
  request: Omit<ChatRequest, "messages" | "tools" | "onText" | "signal">,
  tools: ToolSet | undefined,
  context: Omit<ToolContext, "signal">,
  deps: AgentDeps,
  channel: Partial<Pick<AnswerChannel, "onText" | "status">>,
): Promise<Answer> {
  if (!tools || tools.size === 0) {
    const final = await deps.llm.chat({ messages, ...request, ...(channel.onText ? { onText: channel.onText } : {}) });
    return { text: final.text, final, usage: final.usage, calls: [], transcript: [] };
  }
  const looped = await runToolLoop({
    llm: deps.llm,
    request,
    messages,
    tools,
    context,
    maxIterations: deps.config.agent.maxToolIterations,
    budgetMs: deps.config.agent.turnBudgetMs,
    ...(channel.onText ? { onText: channel.onText } : {}),
    ...(channel.status ? { onStatus: (line: string) => channel.status!(line) } : {}),
    ...(deps.toolJournal ? { journal: deps.toolJournal(context.messageKey) } : {}),
  });
  if (looped.calls.length > 0) context.log.debug("tool calls", { calls: looped.calls, rounds: looped.rounds, stopped: looped.stopped });
  return { text: looped.text, final: looped.final, usage: looped.usage, calls: looped.calls, transcript: looped.transcript };
}

/**
 * A prompt answered outside any chat (a scheduled post): the system prompt for where the answer goes,
 * the tools, no history, the default model. `key` names the run (its tool journal: a retried run never
 * repeats a side effect). Its tokens count in the org's monthly usage; once org_monthly_tokens is
 * reached, the post says it was not generated instead (no LLM call).
 */
export async function answerPrompt(
  prompt: string,
  where: { conversation: { id: string; type: "direct" | "group"; title?: string }; name: string },
  deps: AgentDeps,
  run: { key: string; requestId?: string; log: Logger },
): Promise<string> {
  const system: ChatMessage = {
    role: "system",
    content: say.systemPrompt(deps.config.agent.systemPrompt, { conversation: where.conversation, sender: { nick: where.name } }, deps.now(), deps.config.agent.timezone),
  };
  const tools = deps.tools && !deps.tools.empty ? await deps.tools.forTurn(run.log) : undefined;
  const context: Omit<ToolContext, "signal"> = {
    ...(run.requestId ? { requestId: run.requestId } : {}),
    messageKey: run.key,
    msgId: run.key,
    robotCode: deps.config.dingtalk.credentials?.robotCode ?? "",
    sender: { id: `schedule:${where.name}`, nick: where.name },
    conversation: where.conversation,
    log: run.log,
    now: deps.now,
  };
  const request = { modelName: undefined, ...(run.requestId ? { requestId: run.requestId } : {}), mayUse: () => true };
  const verdict = deps.usage ? await checkOrgLimit(deps.usage, deps.config.limits, deps.now(), deps.config.agent.timezone) : { ok: true as const };
  // Its LLM calls count in the org's month (no person's), answered or not.
  const meter = new TurnMeter(deps.config.models);
  const audit = (end: Pick<PromptEnd, "outcome" | "limit" | "errorKind">, calls: PromptEnd["tools"] = []) => {
    const { modelName, ...tokens } = meter.spent();
    writePromptAudit(run.log, { ...end, schedule: where.name, conversation: where.conversation, model: modelName, tokens, cost: meter.cost(), tools: calls });
  };
  if (!verdict.ok) {
    audit({ outcome: "limited", limit: verdict.limit });
    return say.scheduledPromptLimited(where.name, verdict.max, verdict.resetsAt, deps.config.agent.timezone);
  }
  try {
    const answer = await converse([system, { role: "user", content: prompt }], request, tools, context, { ...deps, llm: meter.wrap(deps.llm) }, {});
    audit({ outcome: "answered" }, answer.calls);
    return answer.text;
  } catch (err) {
    audit({ outcome: "failed", errorKind: err instanceof LlmError ? err.kind : "other" });
    throw err;
  } finally {
    if (deps.usage && meter.calls.length > 0)
      await Promise.all([deps.usage.record(meter.usage({})).catch((err: unknown) => run.log.warn("usage not counted", { error: err })), deps.usage.flush()]);
  }
}

function forgetCommand(confirm: boolean, msg: InboundMessage, caller: Caller, robotCode: string, deps: AgentDeps, log: Logger): Promise<string> {
  if (!deps.forget) return Promise.resolve(say.forgetUnavailable());
  const own = ownScopeKeys(msg, deps.config.dingtalk.groupScope);
  return forget({ confirm, caller, robotCode, conversation: msg.conversation, own, log }, deps.forget);
}

interface CommandContext {
  key: string;
  caller: Caller;
  msg: InboundMessage;
}

async function runCommand(command: Exclude<Command, { name: "help" | "reminders" | "forget" }>, cmd: CommandContext, deps: AgentDeps, mayUse: MayUse): Promise<string> {
  const { config } = deps;
  const { key } = cmd;
  const names = [...new Set(config.models.map((m) => m.name))];
  switch (command.name) {
    case "new":
      await deps.conversations.reset(key);
      return say.reset();
    case "usage": {
      if (command.all) return orgUsage(cmd.caller, deps);
      const [conversation, quota, mine] = await Promise.all([
        deps.conversations.load(key),
        deps.quota?.status().catch((err: unknown) => {
          deps.log.warn("api usage unreadable", { error: err });
          return undefined;
        }),
        personalUsage(cmd, deps),
      ]);
      const api = quota && {
        calls: quota.month.calls,
        budget: quota.budget,
        ...(quota.pause ? { cardsPausedUntil: quota.pause.until } : {}),
      };
      const theirs = say.usage(conversation.usage, conversation.turns.length, api);
      return mine ? `${mine}\n\n${theirs}` : theirs;
    }
    case "model": {
      const usable = usableNames(config, mayUse);
      if (names.length > 0 && usable.length === 0) return say.noUsableModel();
      if (!command.arg) {
        const conversation = await deps.conversations.load(key);
        const current = isUsable(config, conversation.model, mayUse) ? conversation.model : defaultModel(config, mayUse);
        return say.currentModel(current, usable, config.models);
      }
      const wanted = names.find((n) => n.toLowerCase() === command.arg!.toLowerCase());
      if (!wanted) return say.unknownModel(command.arg, usable);
      if (!usable.includes(wanted)) return say.modelNotAllowed(wanted, usable);
      await deps.conversations.setModel(key, wanted === config.agent.primary ? undefined : wanted);
      return say.modelSwitched(wanted);
    }
    case "unknown":
      return say.unknownCommand(command.word);
  }
}

/** The sender's tokens and cost today and this month next to their limits (and their group's today). */
async function personalUsage({ caller, msg }: CommandContext, deps: AgentDeps): Promise<string | undefined> {
  const store = deps.usage;
  if (!store) return undefined;
  const { config } = deps;
  const inGroup = msg.conversation.type === "group";
  const [user, group, org] = await Promise.all([
    store.user(caller.id),
    inGroup ? store.group(msg.conversation.id) : undefined,
    config.limits.orgMonthlyTokens > 0 ? store.org() : undefined,
  ]);
  const { day } = store.today();
  const none = { tokens: 0, cost: 0, unpriced: 0 };
  return formatPersonalUsage({
    timeZone: config.agent.timezone,
    today: user.days[day] ?? none,
    month: user,
    ...(group ? { group: { today: group.days[day] ?? none } } : {}),
    ...(org ? { org } : {}),
    limits: config.limits,
    admin: caller.admin,
  });
}

/** `/usage all`: this month's report, for admins only. */
async function orgUsage(caller: Caller, deps: AgentDeps): Promise<string> {
  if (!caller.admin) return say.adminOnly("/usage all");
  if (!deps.usage) return say.noUsageStore();
  const report = await buildUsageReport({ usage: deps.usage, config: deps.config, ...(deps.apiUsage ? { apiUsage: deps.apiUsage } : {}) }, deps.usage.today().month);
  return formatUsageReport(report);
}
