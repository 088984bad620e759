// The one owner of everything a job sends back to its chat: markdown replies (rendered and split), the
// `/help` ActionCard, and the channel an LLM answer streams into (an AI card when the card service
// allows it, else markdown). It records every delivered part on the job's ledger, so a retried job
// never sends a part twice, and marks the reply sent once the user has all of it.
import { createHash } from "node:crypto";
import type { AiCardService, CardChannel, CardLookup } from "./card-answer.js";
import type { OutgoingMessage, ReplyTarget, SendResult } from "./dingtalk/outgoing.js";
import { renderReply, replyParts, type ReplyPart } from "./dingtalk/split.js";
import { describeError, type Logger } from "./log.js";
import * as say from "./replies.js";
import type { SendProgress } from "./store/idempotency.js";

export interface Delivered {
  route: SendResult["route"];
  /** Messages sent (markdown parts; a card counts as one). */
  parts: number;
  sendMs: number;
  /** Set when the answer went into an AI card. */
  card?: { outTrackId: string; updates: number };
}

/** Where an answer goes while the LLM writes it. */
export interface AnswerChannel {
  /** Pass to the LLM as `onText` (streaming); absent when the channel only needs the final text. */
  onText?: (textSoFar: string) => void;
  /** Shows what the bot is doing meanwhile (e.g. "正在搜索：…"): in the card, or once as a short markdown line. */
  status(line: string): Promise<void>;
  /** Delivers the final answer; resolves once the user has all of it. */
  finish(text: string): Promise<Delivered>;
  /** Delivers a failure note instead (a card is marked failed). */
  fail(text: string): Promise<Delivered>;
  /** This attempt gives up on the answer (it failed; a retry delivers it): a card stops streaming. */
  abandon(): Promise<void>;
}

/** What earlier attempts of this job delivered, and where this attempt records its own progress. */
export interface ReplyLedger {
  /** Digests of the parts earlier attempts delivered. */
  readonly delivered: readonly string[];
  /** What earlier attempts did with the message's AI card. */
  readonly card?: SendProgress["card"];
  /** Records the digests of every part delivered so far (before the next part is sent); `cardFinalized`: the card was just finalized. */
  recordParts(digests: string[], opts?: { cardFinalized?: boolean }): Promise<void>;
  /** Records that the whole reply went out (the worker completes the message in that same write). */
  markSent(result: SendResult, digests: string[]): Promise<void>;
}

export interface ReplierDeps {
  send: (target: ReplyTarget, message: OutgoingMessage) => Promise<SendResult>;
  now: () => number;
  log: Logger;
  /** Streaming AI cards; absent when card mode is off. */
  cards?: Pick<AiCardService, "open" | "rest" | "lookUp">;
}

const digest = (message: OutgoingMessage) => createHash("sha256").update(JSON.stringify(message)).digest("base64url").slice(0, 22);

export class Replier {
  /** Digests delivered so far, earlier attempts' included. */
  private readonly delivered: string[] = [];
  /** Earlier attempts' parts not met again yet (a part is skipped when its exact message was delivered). */
  private readonly earlier = new Map<string, number>();
  private recorded: number;
  private statusSent = false;
  private lookup: CardLookup | undefined;

  constructor(
    readonly target: ReplyTarget,
    readonly messageKey: string,
    private readonly deps: ReplierDeps,
    private readonly ledger?: ReplyLedger,
  ) {
    for (const d of ledger?.delivered ?? []) this.earlier.set(d, (this.earlier.get(d) ?? 0) + 1);
    this.delivered.push(...(ledger?.delivered ?? []));
    this.recorded = this.delivered.length;
  }

  /** Renders `text` for DingTalk, sends every part in order and marks the reply sent. */
  async markdown(text: string): Promise<Delivered> {
    const started = this.deps.now();
    const { last, parts } = await this.sendParts(text || say.emptyAnswer());
    await this.markSent(last);
    return { route: last.route, parts, sendMs: this.deps.now() - started };
  }

  /**
   * `/help`: in 1:1 chats an ActionCard whose buttons send the commands (in groups a button's message
   * would not @ the bot, so groups get markdown). If the card cannot be sent, the markdown help is.
   */
  async help(): Promise<Delivered> {
    const group = this.target.conversationType === "group";
    if (!group) {
      const started = this.deps.now();
      try {
        const sent = await this.sendOnce({ kind: "actionCard", ...say.helpCard() });
        await this.markSent(sent);
        return { route: sent.route, parts: 1, sendMs: this.deps.now() - started };
      } catch (err) {
        this.deps.log.warn("help card not delivered, sending markdown help", { error: describeError(err) });
      }
    }
    return this.markdown(say.help(group));
  }

  /**
   * Starts reading what `answer` needs to choose the channel (the card service's table reads), so the
   * caller's own reads run alongside them instead of before the LLM request (or takes reads the caller
   * started for this message itself). Optional.
   */
  lookAhead(started?: CardLookup): void {
    this.lookup ??= started ?? this.deps.cards?.lookUp();
  }

  /**
   * The channel for an LLM answer (`reuse`: the answer is a stored one being re-sent after a crash), or
   * what an earlier attempt already delivered when it finalized this message's card (for a new answer:
   * a stored one still gets the messages that follow its card).
   */
  async answer(reuse: boolean): Promise<{ channel: AnswerChannel } | { delivered: Delivered }> {
    const cards = this.deps.cards;
    if (cards) {
      // An attempt answering with a card sends no message before the card is finalized: an unfinalized
      // card with messages delivered means the earlier attempt answered in markdown instead.
      const earlier = this.ledger?.card === "opened" && this.ledger.delivered.length > 0 ? undefined : this.ledger?.card;
      const opened = await cards.open({ messageKey: this.messageKey, target: this.target, reuse, log: this.deps.log, ...(earlier ? { earlier } : {}) }, this.lookup);
      if (opened.kind === "card") return { channel: this.cardChannel(opened.channel) };
      if (opened.kind === "finalized") {
        const card = { outTrackId: opened.outTrackId, updates: 0 };
        const done = (rest: string) => this.afterCard(card, rest, this.deps.now(), false);
        if (reuse) return { channel: { status: () => Promise.resolve(), finish: (text) => done(cards.rest(text)), fail: () => done(""), abandon: () => Promise.resolve() } };
        this.deps.log.warn("answer card finalized by an earlier attempt but no stored answer; not answering again");
        return { delivered: await done("") };
      }
      this.deps.log.debug("answer as markdown", { reason: opened.reason });
    }
    const markdown = (text: string) => this.markdown(text);
    return {
      channel: {
        status: async (line) => {
          if (this.statusSent) return;
          this.statusSent = true;
          await this.sendOnce({ kind: "markdown", title: line, text: line });
          // Recorded at once: tools and the LLM run before the next part, and a crash meanwhile must
          // not make the retry show the line again.
          await this.record();
        },
        finish: markdown,
        fail: markdown,
        abandon: () => Promise.resolve(),
      },
    };
  }

  private cardChannel(card: CardChannel): AnswerChannel {
    const started = this.deps.now();
    const deliver = async (text: string, error: boolean): Promise<Delivered> => {
      const done = await card.finish(text, error);
      if (!done.ok) return this.markdown(text);
      return this.afterCard({ outTrackId: done.outTrackId, updates: done.updates }, done.rest, started, true);
    };
    return {
      onText: (textSoFar) => card.onText(textSoFar),
      status: (line) => Promise.resolve(card.status(line)),
      finish: (text) => deliver(text, false),
      fail: (text) => deliver(text, true),
      abandon: () => card.abandon(),
    };
  }

  /**
   * A finalized card, then the rendered `rest` it could not hold as markdown messages; the reply is then
   * sent. `finalizedNow`: this attempt finalized the card, so it is recorded before any message follows
   * it (a card with nothing after it is recorded by the completion).
   */
  private async afterCard(card: { outTrackId: string; updates: number }, rest: string, started: number, finalizedNow: boolean): Promise<Delivered> {
    if (rest && finalizedNow && this.ledger) {
      await this.ledger.recordParts([...this.delivered], { cardFinalized: true });
      this.recorded = this.delivered.length;
    }
    const parts = rest ? await this.sendAll(replyParts(rest)) : 0;
    await this.markSent({ route: "card", processQueryKey: card.outTrackId });
    return { route: "card", parts: 1 + parts, sendMs: this.deps.now() - started, card };
  }

  /** Sends `text` rendered and split, in order; every part goes through `sendOnce`. */
  private async sendParts(text: string): Promise<{ last: SendResult; parts: number }> {
    const rendered = renderReply(text);
    const parts = rendered.length > 0 ? rendered : renderReply(say.emptyAnswer());
    let last: SendResult | undefined;
    for (const part of parts) last = await this.sendOnce({ kind: "markdown", title: part.title, text: part.text });
    if (!last) throw new Error("nothing to send");
    return { last, parts: parts.length };
  }

  private async sendAll(parts: ReplyPart[]): Promise<number> {
    for (const part of parts) await this.sendOnce({ kind: "markdown", title: part.title, text: part.text });
    return parts.length;
  }

  /**
   * Sends one message unless an earlier attempt delivered exactly this message; records the parts
   * delivered so far on the ledger first, so a crash after this send never repeats them.
   */
  private async sendOnce(message: OutgoingMessage): Promise<SendResult> {
    const d = digest(message);
    const seen = this.earlier.get(d) ?? 0;
    if (seen > 0) {
      this.earlier.set(d, seen - 1);
      this.deps.log.info("part already delivered by an earlier attempt, not resent");
      return { route: this.target.sessionWebhook ? "webhook" : "openapi" };
    }
    await this.record();
    const result = await this.deps.send(this.target, message);
    this.delivered.push(d);
    return result;
  }

  /** Records every part delivered so far that the ledger does not have yet. */
  private async record(): Promise<void> {
    if (!this.ledger || this.delivered.length <= this.recorded) return;
    await this.ledger.recordParts([...this.delivered]);
    this.recorded = this.delivered.length;
  }

  private async markSent(result: SendResult): Promise<void> {
    await this.ledger?.markSent(result, [...this.delivered]);
    this.recorded = this.delivered.length;
  }
}
