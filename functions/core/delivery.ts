// Getting a reply to the user: markdown parts (rendered and split), the `/help` ActionCard with its
// markdown fallback, and the AnswerChannel an LLM answer streams into (an AI card when the card
// service allows it, else markdown). Every path calls `onSent` once the whole reply was delivered.
import type { AiCardService } from "./card-answer.js";
import type { OutgoingMessage, ReplyTarget, SendResult } from "./dingtalk/outgoing.js";
import { renderReply } from "./dingtalk/split.js";
import { describeError, type Logger } from "./log.js";
import * as say from "./replies.js";

export interface Delivered {
  route: SendResult["route"];
  /** Messages sent (markdown parts; 1 for a card). */
  parts: number;
  sendMs: number;
  /** Set when the answer went into an AI card. */
  card?: { outTrackId: string; updates: number };
}

/** Where an answer goes while the LLM writes it. */
export interface AnswerChannel {
  /** Pass to the LLM as `onText` (streaming); absent when the channel only needs the final text. */
  onText?: (textSoFar: string) => void;
  /** Delivers the final answer; resolves once the user has all of it. */
  finish(text: string): Promise<Delivered>;
  /** Delivers a failure note instead (a card is marked failed). */
  fail(text: string): Promise<Delivered>;
}

export interface DeliveryDeps {
  send: (target: ReplyTarget, message: OutgoingMessage) => Promise<SendResult>;
  now: () => number;
  log: Logger;
  /** Streaming AI cards; absent when card mode is off. */
  cards?: Pick<AiCardService, "open">;
}

export type OnSent = ((result: SendResult) => Promise<void>) | undefined;

/** Renders `text` for DingTalk, sends every part in order, then reports the last send to `onSent`. */
export async function sendMarkdown(target: ReplyTarget, text: string, deps: DeliveryDeps, onSent: OnSent): Promise<Delivered> {
  const started = deps.now();
  const rendered = renderReply(text);
  const parts = rendered.length > 0 ? rendered : renderReply(say.emptyAnswer());
  let last: SendResult | undefined;
  for (const part of parts) last = await deps.send(target, { kind: "markdown", title: part.title, text: part.text });
  if (!last) throw new Error("nothing to send");
  await onSent?.(last);
  return { route: last.route, parts: parts.length, sendMs: deps.now() - started };
}

/**
 * `/help`: in 1:1 chats an ActionCard whose buttons send the commands (in groups a button's message
 * would not @ the bot, so groups get markdown). If the card cannot be sent, the markdown help is.
 */
export async function sendHelp(target: ReplyTarget, deps: DeliveryDeps, onSent: OnSent): Promise<Delivered> {
  const group = target.conversationType === "group";
  if (!group) {
    const started = deps.now();
    try {
      const sent = await deps.send(target, { kind: "actionCard", ...say.helpCard() });
      await onSent?.(sent);
      return { route: sent.route, parts: 1, sendMs: deps.now() - started };
    } catch (err) {
      deps.log.warn("help card not delivered, sending markdown help", { error: describeError(err) });
    }
  }
  return sendMarkdown(target, say.help(group), deps, onSent);
}

export interface AnswerRequest {
  target: ReplyTarget;
  messageKey: string;
  /** The answer is a stored one being re-sent after a crash. */
  reuse: boolean;
  onSent: OnSent;
  log: Logger;
}

/** The channel for an LLM answer, or the delivery an earlier attempt already completed. */
export async function openAnswer(req: AnswerRequest, deps: DeliveryDeps): Promise<{ delivered: Delivered } | { channel: AnswerChannel }> {
  const markdown = (text: string) => sendMarkdown(req.target, text, { ...deps, log: req.log }, req.onSent);
  if (deps.cards) {
    const opened = await deps.cards.open({ ...req, markdown });
    if (opened.kind === "delivered") return { delivered: opened.delivered };
    if (opened.kind === "card") return { channel: opened.channel };
    req.log.debug("answer as markdown", { reason: opened.reason });
  }
  return { channel: { finish: markdown, fail: markdown } };
}
