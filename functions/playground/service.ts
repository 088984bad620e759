// The playground's behaviour behind its HTTP routes: sends a simulated user's message through the
// real path (session webhook minted on the DingTalk double, signed POST /callback), and turns the
// double's deliveries and card updates into page events tied back to the message they answer.
import { randomUUID } from "node:crypto";
import type { AppConfig } from "../core/config.js";
import { cardIdFor } from "../core/dingtalk/cards.js";
import type { CardInstance, DingTalkDouble, SentMessage } from "./dingtalk/index.js";
import { callbackBody, dmChat, dmConversationId, groupChat, newMsgId, playgroundGroups, playgroundUsers, type Content } from "./chats.js";
import type { PlaygroundApp } from "./config.js";
import type { EventHub } from "./events.js";
import { postCallback } from "./post-callback.js";
import type { PlaygroundState, SendResult } from "./protocol.js";
import type { TraceCollector } from "./trace.js";

export type DoubleView = Pick<DingTalkDouble, "sessionWebhookFor" | "addFile" | "state" | "now">;

export interface SendInput {
  chat: string;
  user: string;
  text: string;
  image?: { bytes: Buffer; contentType: string; fileName?: string };
  /** Mint the session webhook already expired, so the reply has to go through the robot OpenAPI. */
  expiredWebhook?: boolean;
  /** Sign with a wrong secret (the gateway must answer 401). */
  badSignature?: boolean;
}

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

export interface PlaygroundServiceOptions {
  app: PlaygroundApp;
  double: DoubleView;
  /** The playground gateway's config (models, access rules, cards). */
  config: AppConfig;
  modelHelp: string[] | undefined;
  hub: EventHub;
  traces: TraceCollector;
  fetch?: typeof fetch;
}

interface StoredFile {
  bytes: Buffer;
  contentType: string;
}

const WEBHOOK_TTL_MS = 90 * 60 * 1000;
const MAX_FILES = 100;
const MAX_BODIES = 1000;

export class PlaygroundService {
  /** The gateway's base URL (known once it listens). */
  gatewayUrl = "";
  private readonly files = new Map<string, StoredFile>();
  private readonly bodies = new Map<string, Record<string, unknown>>();
  private readonly msgOfSession = new Map<string, string>();
  private readonly msgOfCard = new Map<string, string>();
  private botMessages = 0;

  constructor(private readonly opts: PlaygroundServiceOptions) {
    opts.double.state.events.on("sent", (message, via) => this.onSent(message, via.session));
    opts.double.state.events.on("card", (card) => this.onCard(card));
  }

  state(): PlaygroundState {
    const { config } = this.opts;
    return {
      bot: { name: "AI助手" },
      users: playgroundUsers(config.dingtalk.allowFrom),
      groups: playgroundGroups(),
      models: { names: [...new Set(config.models.map((m) => m.name))], primary: config.agent.primary, help: this.opts.modelHelp },
      allowFrom: config.dingtalk.allowFrom,
      groupScope: config.dingtalk.groupScope,
      cards: config.dingtalk.cards.mode === "answer",
    };
  }

  file(id: string): StoredFile | undefined {
    return this.files.get(id);
  }

  async send(input: SendInput): Promise<SendResult> {
    const user = playgroundUsers(this.opts.config.dingtalk.allowFrom).find((u) => u.staffId === input.user);
    if (!user) throw new InputError(`user: unknown user "${input.user}"`);
    const group = playgroundGroups().find((g) => g.chat === input.chat);
    if (!group && input.chat !== dmChat(user.staffId)) throw new InputError(`chat: must be "${dmChat(user.staffId)}" or a group chat id`);
    const text = input.text.trim();
    if (!text && !input.image) throw new InputError("text: empty message (type something or attach a picture)");

    const { app, double } = this.opts;
    let content: Content = { kind: "text", text };
    let imageUrl: string | undefined;
    if (input.image) {
      const downloadCode = double.addFile(input.image.bytes, { contentType: input.image.contentType, fileName: input.image.fileName, robotCode: app.robotCode });
      imageUrl = this.keepFile(input.image);
      content = text ? { kind: "richText", text, downloadCode } : { kind: "picture", downloadCode };
    }

    const msgId = newMsgId();
    const conversation = group
      ? { type: "group" as const, conversationId: group.conversationId, title: group.title }
      : { type: "direct" as const };
    const hook = double.sessionWebhookFor(
      {
        conversationId: group ? group.conversationId : dmConversationId(user.staffId),
        conversationType: group ? "group" : "direct",
        ...(group ? {} : { staffId: user.staffId }),
        robotCode: app.robotCode,
      },
      input.expiredWebhook ? { expiresAt: double.now() - 60_000 } : { ttlMs: WEBHOOK_TTL_MS },
    );
    const session = new URL(hook.url).searchParams.get("session");
    if (session) this.remember(this.msgOfSession, session, msgId, MAX_BODIES);
    this.remember(this.msgOfCard, cardIdFor(`${app.robotCode}:${msgId}`), msgId, MAX_BODIES);
    const body = callbackBody(msgId, {
      robotCode: app.robotCode,
      user,
      conversation,
      content,
      sessionWebhook: hook.url,
      sessionWebhookExpiredTime: hook.expiresAt,
      now: Date.now(),
    });
    this.remember(this.bodies, msgId, body, MAX_BODIES);

    const chat = group ? group.chat : dmChat(user.staffId);
    const sender = { staffId: user.staffId, nick: user.nick };
    this.opts.hub.publish({ type: "user", chat, msgId, sender, text: group ? `@AI助手 ${text}`.trim() : text, ...(imageUrl ? { imageUrl } : {}) });
    this.opts.traces.start({ msgId, chat, user: user.nick, preview: text.slice(0, 80) || "[图片]", sentAt: Date.now() });
    return this.deliver(msgId, body, input.badSignature ?? false);
  }

  /** Posts a message again under the same msgId (a DingTalk redelivery). */
  async redeliver(msgId: string): Promise<SendResult> {
    const body = this.bodies.get(msgId);
    if (!body) throw new InputError(`msgId: no message "${msgId}" was sent from this playground`);
    return this.deliver(msgId, body, false);
  }

  private async deliver(msgId: string, body: Record<string, unknown>, badSignature: boolean): Promise<SendResult> {
    const secret = badSignature ? `not-${this.opts.app.clientSecret}` : this.opts.app.clientSecret;
    const posted = await postCallback({ url: this.gatewayUrl, secret, body, ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}) });
    this.opts.traces.delivery(msgId, posted);
    return { msgId, status: posted.status, requestId: posted.requestId, ackMs: posted.ackMs };
  }

  private keepFile(file: StoredFile): string {
    const id = randomUUID();
    this.remember(this.files, id, { bytes: file.bytes, contentType: file.contentType }, MAX_FILES);
    return `/playground/files/${id}`;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
    map.set(key, value);
    if (map.size > max) map.delete(map.keys().next().value!);
  }

  private onSent(message: SentMessage, session: string | undefined): void {
    if (message.robotCode !== undefined && message.robotCode !== this.opts.app.robotCode) return;
    const chat = message.conversationType === "group" ? groupChat(message.conversationId ?? "") : dmChat(message.userId ?? "");
    const msgId = session ? this.msgOfSession.get(session) : undefined;
    this.opts.hub.publish({
      type: "bot",
      chat,
      id: `bot${++this.botMessages}`,
      ...(msgId ? { msgId } : {}),
      route: message.route,
      msgtype: message.msgtype,
      ...(message.title !== undefined ? { title: message.title } : {}),
      ...(message.text !== undefined ? { text: message.text } : {}),
      ...(message.buttons ? { buttons: message.buttons } : {}),
    });
  }

  private onCard(card: CardInstance): void {
    const chat = card.spaceType === "IM_GROUP" ? groupChat(card.spaceId) : dmChat(card.spaceId);
    const msgId = this.msgOfCard.get(card.outTrackId);
    this.opts.hub.publish(
      {
        type: "card",
        chat,
        id: card.outTrackId,
        ...(msgId ? { msgId } : {}),
        content: card.params[this.opts.config.dingtalk.cards.contentKey] ?? "",
        status: card.status,
        updates: card.updates.filter((u) => !u.duplicate).length,
      },
      `card:${card.outTrackId}`,
    );
  }
}
