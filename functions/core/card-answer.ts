// Answers as streaming AI cards: AiCardService decides per answer (governor, what earlier attempts did
// with the message's card, as their claim record says) and opens a CardChannel that creates the card alongside the LLM call, streams the latest
// text (coalesced: at most one update per interval, the first as soon as there is text, skipped when
// the app's API rate is busy, the final one never), and finalizes it (or marks it failed). A card
// never carries more than `maxBytes`: a longer answer ends the card with what fits and a note, and the
// rest is handed back to be sent as markdown messages.
import { canDeliverCard, cardIdFor, createCard, streamCard, type CardApiClient, type CardTemplate } from "./dingtalk/cards.js";
import { DingTalkApiError, RATE_SKIPPED } from "./dingtalk/http.js";
import { renderMarkdown } from "./dingtalk/markdown.js";
import type { ReplyTarget } from "./dingtalk/outgoing.js";
import { splitText } from "./dingtalk/split.js";
import { utf8Length } from "./dingtalk/unicode.js";
import { describeError, type Logger } from "./log.js";
import type { CardDecision, CardGovernor } from "./quota.js";
import type { SendProgress } from "./store/idempotency.js";

/** Ends a card whose answer goes on in the messages after it. */
export const CARD_CONTINUED_NOTE = "（下文见下一条消息）";
/** Shown in the card when DingTalk refused its final text as too large; the whole answer follows as markdown. */
export const CARD_TOO_LONG_NOTE = "（回答较长，完整内容见下一条消息。）";

/**
 * Where a rendered answer is cut for a card of `maxBytes`: all of it when it fits, else the longest
 * head (on a paragraph, line or sentence boundary) that fits with the continuation note, and the rest.
 * Deterministic, so a retry computes the same rest.
 */
export function cardCut(rendered: string, maxBytes: number): { head: string; rest: string } {
  if (utf8Length(rendered) <= maxBytes) return { head: rendered, rest: "" };
  const room = maxBytes - utf8Length(`\n\n${CARD_CONTINUED_NOTE}`);
  const [first = ""] = splitText(rendered, { maxChars: room, maxBytes: room });
  return { head: first.trimEnd(), rest: rendered.slice(first.length).trim() };
}

/** The card's final content for a rendered answer, and what is left for the messages after it. */
export function finalCardContent(rendered: string, maxBytes: number): { content: string; rest: string } {
  const { head, rest } = cardCut(rendered, maxBytes);
  return { content: rest ? `${head}\n\n${CARD_CONTINUED_NOTE}` : head, rest };
}

export interface CardStreamerOptions {
  client: CardApiClient;
  template: CardTemplate;
  outTrackId: string;
  /** Minimum time between the starts of two streaming updates. */
  intervalMs: number;
  /** The most content (UTF-8 bytes) the card may carry. */
  maxBytes: number;
  now: () => number;
  log: Logger;
  /** Resolves true once the card exists, false when it could not be made (then nothing is streamed). */
  ready: Promise<boolean>;
  /** Told about every failed update, and awaited (the governor records a card pause on 403/429). */
  onError: (err: unknown) => Promise<unknown>;
}

/**
 * Streams text into one card: `push` gets the whole text so far (the LLM's onText). Between two updates
 * only the latest text matters: an update starts when none is in flight and `intervalMs` passed since
 * the last start (the first as soon as there is text); text that arrives meanwhile goes out on a timer,
 * not only on the next push. An update the rate gate skips is tried again after the interval; after a
 * failed update it stops, and `end` sends the final text (never skipped).
 */
export class CardStreamer {
  /** Intermediate updates that reached DingTalk. */
  updates = 0;
  /** Intermediate updates the app's rate gate skipped. */
  skipped = 0;
  private latest = "";
  /** Shown under the text until more text arrives (e.g. "正在搜索：…" while a tool runs). */
  private statusLine = "";
  private sent = "";
  private lastStart = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: CardStreamerOptions) {}

  push(textSoFar: string): void {
    if (textSoFar !== this.latest) this.statusLine = "";
    this.latest = textSoFar;
    this.schedule();
  }

  status(line: string): void {
    this.statusLine = line;
    this.schedule();
  }

  /** Waits for the update in flight, then sends `content` as the final text (finalized, or failed with `error`). Throws when it fails. */
  async end(content: string, error = false): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inflight;
    await streamCard(this.opts.client, this.opts.template, this.opts.outTrackId, {
      content,
      ...(error ? { error: true } : { finalize: true }),
      maxAttempts: 2,
    });
  }

  /** Sends nothing more (the attempt gave up on this answer) and waits for the update in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inflight;
  }

  /** What an intermediate update shows now: the head of the text that fits, then the status line. */
  private content(): string {
    const status = this.statusLine ? `*${this.statusLine}*` : "";
    const reserve = status ? utf8Length(status) + 2 : 0;
    const { head } = cardCut(renderMarkdown(this.latest), this.opts.maxBytes - reserve);
    return status ? `${head}${head ? "\n\n" : ""}${status}` : head;
  }

  private schedule(): void {
    if (this.stopped || this.inflight) return;
    const content = this.content();
    if (!content || content === this.sent) return;
    const wait = this.lastStart + this.opts.intervalMs - this.opts.now();
    if (wait > 0) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
      this.timer.unref?.();
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lastStart = this.opts.now();
    this.inflight = this.update(content).finally(() => {
      this.inflight = undefined;
      this.schedule();
    });
  }

  private async update(content: string): Promise<void> {
    if (!(await this.opts.ready)) {
      this.stopped = true;
      return;
    }
    try {
      await streamCard(this.opts.client, this.opts.template, this.opts.outTrackId, { content, maxAttempts: 1, priority: "update" });
      this.sent = content;
      this.updates++;
    } catch (err) {
      if (err instanceof DingTalkApiError && err.code === RATE_SKIPPED) {
        this.skipped++;
        return;
      }
      this.stopped = true;
      this.opts.log.warn("dingtalk: card update failed; the card waits for the final text", { error: describeError(err) });
      await this.opts.onError(err);
    }
  }
}

export interface AiCardServiceOptions {
  client: CardApiClient;
  template: CardTemplate;
  updateIntervalMs: number;
  /** The most content (UTF-8 bytes) a card carries (channels.dingtalk.card_max_bytes). */
  maxBytes: number;
  governor: Pick<CardGovernor, "decide" | "reportCardError">;
  now: () => number;
  log: Logger;
}

export interface CardOpenRequest {
  /** The idempotency key of the inbound message (`robotCode:msgId`). */
  messageKey: string;
  target: ReplyTarget;
  /** The answer is already known (a retry reusing a stored answer): never start a new card for it. */
  reuse: boolean;
  /** What earlier attempts did with this message's card (from its claim record). */
  earlier?: SendProgress["card"];
  log: Logger;
}

/** What finishing a card did: `rest` is the rendered answer text the card could not hold. */
export type CardFinish = { ok: true; outTrackId: string; updates: number; rest: string } | { ok: false };

/** An answer card being written: the text streams in, then `finish` finalizes it (or marks it failed). */
export interface CardChannel {
  onText(textSoFar: string): void;
  /** Shows what the bot is doing until more answer text arrives. */
  status(line: string): void;
  /** `ok: false` when the card could not take the answer: the caller delivers it another way. */
  finish(text: string, error: boolean): Promise<CardFinish>;
  /** This attempt will not finish the card (it failed): no update of it may land after a retry's. */
  abandon(): Promise<void>;
}

export type CardOpenResult =
  | { kind: "markdown"; reason: string }
  /** An earlier attempt already finalized this message's card: only what followed it may be missing. */
  | { kind: "finalized"; outTrackId: string }
  | { kind: "card"; channel: CardChannel };

/** What `open` reads first (the governor's decision), read ahead by `lookUp`. */
export interface CardLookup {
  decision: Promise<CardDecision>;
}

export class AiCardService {
  constructor(private readonly opts: AiCardServiceOptions) {}

  /** The rendered part of an answer that does not fit in a card (empty when it all fits). */
  rest(text: string): string {
    return finalCardContent(renderMarkdown(text) || text, this.opts.maxBytes).rest;
  }

  /**
   * Starts the table reads `open` needs (the governor's; no side effect), so a caller can run them
   * alongside its own (the conversation load) instead of before the LLM request. Never rejects.
   */
  lookUp(): CardLookup {
    return { decision: this.opts.governor.decide() };
  }

  async open(req: CardOpenRequest, lookup?: CardLookup): Promise<CardOpenResult> {
    if (!canDeliverCard(req.target)) return { kind: "markdown", reason: "no staffId for a 1:1 card" };
    const outTrackId = cardIdFor(req.messageKey);
    if (req.earlier === "finalized") return { kind: "finalized", outTrackId };
    // An earlier attempt may have delivered the card: always finish that card, whatever the governor says.
    if (req.earlier !== "opened") {
      // A stored answer being re-sent never starts a card: no need for the governor then.
      if (req.reuse) return { kind: "markdown", reason: "stored answer, no card" };
      const allowed = await (lookup?.decision ?? this.opts.governor.decide());
      if (!allowed.card) return { kind: "markdown", reason: allowed.reason };
    }
    return { kind: "card", channel: this.channel(req, outTrackId) };
  }

  private channel(req: CardOpenRequest, outTrackId: string): CardChannel {
    const { client, template, governor, maxBytes } = this.opts;
    const ready = (async (): Promise<boolean> => {
      try {
        const { existed } = await createCard(client, template, outTrackId, req.target, { maxAttempts: 2 });
        req.log.info("dingtalk: answer card delivered", { outTrackId, existed });
        return true;
      } catch (err) {
        req.log.warn("dingtalk: cannot create the answer card, answering with markdown", { error: describeError(err) });
        await governor.reportCardError(err);
        return false;
      }
    })();
    const streamer = new CardStreamer({
      client,
      template,
      outTrackId,
      intervalMs: this.opts.updateIntervalMs,
      maxBytes,
      now: this.opts.now,
      log: req.log,
      ready,
      onError: (err) => governor.reportCardError(err),
    });

    return {
      onText: (textSoFar) => streamer.push(textSoFar),
      status: (line) => streamer.status(line),
      abandon: () => streamer.stop(),
      finish: async (text, error) => {
        if (!(await ready)) return { ok: false };
        const rendered = renderMarkdown(text) || text;
        const { content, rest } = error ? { content: rendered, rest: "" } : finalCardContent(rendered, maxBytes);
        try {
          await streamer.end(content, error);
        } catch (err) {
          req.log.warn("dingtalk: cannot finish the answer card, sending markdown", { error: describeError(err) });
          await governor.reportCardError(err);
          if (err instanceof DingTalkApiError && err.code === "param.stream.content")
            await streamCard(client, template, outTrackId, { content: CARD_TOO_LONG_NOTE, finalize: true, maxAttempts: 1 }).catch(() => undefined);
          return { ok: false };
        }
        if (rest) req.log.info("dingtalk: answer longer than a card; the rest follows as messages", { outTrackId, restBytes: utf8Length(rest) });
        return { ok: true, outTrackId, updates: streamer.updates, rest };
      },
    };
  }
}
