// Answers as streaming AI cards: AiCardService decides per answer (governor, earlier attempts' card
// records) and opens an AnswerChannel that creates the card alongside the LLM call, streams the text
// at most once per interval, finalizes it (or marks it failed) and falls back to markdown on failure.
import {
  canDeliverCard,
  cardIdFor,
  createCard,
  streamCard,
  type CardApiClient,
  type CardTemplate,
} from "./dingtalk/cards.js";
import { DingTalkApiError } from "./dingtalk/http.js";
import { renderMarkdown } from "./dingtalk/markdown.js";
import type { ReplyTarget } from "./dingtalk/outgoing.js";
import { describeError, type Logger } from "./log.js";
import type { CardGovernor } from "./quota.js";
import type { CardRecordStore } from "./store/cards.js";

/** Shown in the card when the full answer is too large for it and follows as markdown. */
export const CARD_TOO_LONG_NOTE = "（回答较长，完整内容见下一条消息。）";

export interface CardStreamerOptions {
  client: CardApiClient;
  template: CardTemplate;
  outTrackId: string;
  /** Minimum time between two streaming updates. */
  intervalMs: number;
  now: () => number;
  log: Logger;
  /** Resolves true once the card exists, false when it could not be made (then nothing is streamed). */
  ready: Promise<boolean>;
  /** Told about every failed update, and awaited (the governor records a card pause on 403/429). */
  onError: (err: unknown) => Promise<unknown>;
}

/**
 * Streams text into one card: `push` is called with the whole text so far (the LLM's onText); an
 * update goes out only when none is in flight and `intervalMs` passed since the last one started;
 * text pushed meanwhile waits for the next push or for `end`. After a failed update it stops.
 */
export class CardStreamer {
  /** Intermediate updates that reached DingTalk. */
  updates = 0;
  private latest = "";
  /** Shown under the text until more text arrives (e.g. "正在搜索：…" while a tool runs). */
  private statusLine = "";
  private sent = "";
  private lastStart = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: CardStreamerOptions) {}

  push(textSoFar: string): void {
    if (textSoFar !== this.latest) this.statusLine = "";
    this.latest = textSoFar;
    this.pump();
  }

  status(line: string): void {
    this.statusLine = line;
    this.pump();
  }

  /** Waits for the update in flight, then sends the final text (finalized, or failed with `error`). Throws when it fails. */
  async end(content: string, error = false): Promise<void> {
    this.stopped = true;
    await this.inflight;
    await streamCard(this.opts.client, this.opts.template, this.opts.outTrackId, {
      content,
      ...(error ? { error: true } : { finalize: true }),
      maxAttempts: 2,
    });
  }

  private pump(): void {
    if (this.stopped || this.inflight) return;
    const text = renderMarkdown(this.latest);
    const content = this.statusLine ? `${text}${text ? "\n\n" : ""}*${this.statusLine}*` : text;
    if (!content || content === this.sent) return;
    const now = this.opts.now();
    if (now - this.lastStart < this.opts.intervalMs) return;
    this.lastStart = now;
    this.inflight = this.opts.ready
      .then(async (ok) => {
        if (!ok) {
          this.stopped = true;
          return;
        }
        await streamCard(this.opts.client, this.opts.template, this.opts.outTrackId, { content, maxAttempts: 1 });
        this.sent = content;
        this.updates++;
      })
      .catch(async (err: unknown) => {
        this.stopped = true;
        this.opts.log.warn("dingtalk: card update failed; the card waits for the final text", { error: describeError(err) });
        await this.opts.onError(err);
      })
      .finally(() => {
        this.inflight = undefined;
      });
  }
}

export interface AiCardServiceOptions {
  client: CardApiClient;
  template: CardTemplate;
  updateIntervalMs: number;
  governor: Pick<CardGovernor, "decide" | "reportCardError">;
  records: Pick<CardRecordStore, "get" | "markCreated" | "markFinalized">;
  now: () => number;
  log: Logger;
}

export interface CardOpenRequest {
  /** The idempotency key of the inbound message (`robotCode:msgId`). */
  messageKey: string;
  target: ReplyTarget;
  /** The answer is already known (a retry reusing a stored answer): never start a new card for it. */
  reuse: boolean;
  log: Logger;
}

/** An answer card being written: the text streams in, then `finish` finalizes it (or marks it failed). */
export interface CardChannel {
  onText(textSoFar: string): void;
  /** Shows what the bot is doing until more answer text arrives. */
  status(line: string): void;
  /** `ok: false` when the card could not take the answer: the caller delivers it another way. */
  finish(text: string, error: boolean): Promise<{ ok: true; outTrackId: string; updates: number } | { ok: false }>;
}

export type CardOpenResult =
  | { kind: "markdown"; reason: string }
  /** An earlier attempt already finalized this message's card: the answer reached the user. */
  | { kind: "finalized"; outTrackId: string }
  | { kind: "card"; channel: CardChannel };

export class AiCardService {
  constructor(private readonly opts: AiCardServiceOptions) {}

  async open(req: CardOpenRequest): Promise<CardOpenResult> {
    if (!canDeliverCard(req.target)) return { kind: "markdown", reason: "no staffId for a 1:1 card" };
    const decision = req.reuse ? undefined : this.opts.governor.decide();
    let record;
    try {
      record = await this.opts.records.get(req.messageKey);
    } catch (err) {
      req.log.warn("card record unreadable, answering with markdown", { error: describeError(err) });
      return { kind: "markdown", reason: "card record unreadable" };
    }
    if (record?.state === "finalized") return { kind: "finalized", outTrackId: record.outTrackId };
    // A card record means an earlier attempt may have delivered a card: always finish that card.
    if (!record) {
      const allowed = await decision;
      if (!allowed) return { kind: "markdown", reason: "stored answer, no card" };
      if (!allowed.card) return { kind: "markdown", reason: allowed.reason };
    }
    const outTrackId = record?.outTrackId ?? cardIdFor(req.messageKey);
    return { kind: "card", channel: this.channel(req, outTrackId) };
  }

  private channel(req: CardOpenRequest, outTrackId: string): CardChannel {
    const { client, template, records, governor } = this.opts;
    const ready = (async (): Promise<boolean> => {
      try {
        await records.markCreated(req.messageKey, outTrackId);
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
      now: this.opts.now,
      log: req.log,
      ready,
      onError: (err) => governor.reportCardError(err),
    });

    return {
      onText: (textSoFar) => streamer.push(textSoFar),
      status: (line) => streamer.status(line),
      finish: async (text, error) => {
        if (!(await ready)) return { ok: false };
        try {
          await streamer.end(renderMarkdown(text) || text, error);
        } catch (err) {
          req.log.warn("dingtalk: cannot finish the answer card, sending markdown", { error: describeError(err) });
          await governor.reportCardError(err);
          if (err instanceof DingTalkApiError && err.code === "param.stream.content")
            await streamCard(client, template, outTrackId, { content: CARD_TOO_LONG_NOTE, finalize: true, maxAttempts: 1 }).catch(() => undefined);
          return { ok: false };
        }
        try {
          await records.markFinalized(req.messageKey, outTrackId);
        } catch (err) {
          req.log.warn("card record not updated (the idempotency record still is)", { error: describeError(err) });
        }
        return { ok: true, outTrackId, updates: streamer.updates };
      },
    };
  }
}
