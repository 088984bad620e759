// Inbound robot messages (reference §1): zod schemas for the callback body (HTTP mode and the
// `data` of Stream CALLBACK frames) and their normalisation into one InboundMessage shape.
import * as z from "zod/mini";
import "../zod-messages.js";

export type AttachmentType = "picture" | "audio" | "video" | "file";
export interface Attachment {
  type: AttachmentType;
  downloadCode: string;
  fileName?: string;
  durationMs?: number;
  videoType?: string;
}

export type InboundKind = "text" | "richText" | "picture" | "audio" | "video" | "file" | "unsupported";

export interface InboundMessage {
  msgId: string;
  robotCode: string | undefined;
  /** ms since epoch. */
  createdAt: number;
  kind: InboundKind;
  /** As received. */
  msgtype: string;
  /** The user's words: @-mention of the bot stripped and trimmed; richText parts joined; audio → recognition. */
  text: string;
  attachments: Attachment[];
  /** The quoted message's text when the user replied to a message. */
  quoted?: { text: string };
  sender: { id: string; staffId?: string; unionId?: string; nick: string; corpId?: string; isAdmin: boolean };
  conversation: { type: "direct" | "group"; id: string; title?: string };
  /** isInAtList in groups (DingTalk only delivers group messages that @ the bot); always true in 1:1. */
  mentioned: boolean;
  reply: { sessionWebhook?: string; sessionWebhookExpiresAt?: number };
  /** Set when DingTalk delivered a notice instead of the content (e.g. the receive quota is used up). */
  errorMessage?: string;
  /** Thread id when the message was posted in a topic/thread. */
  threadId?: string;
}

export type ParseResult = { ok: true; message: InboundMessage } | { ok: false; reason: string };

export interface ParseOptions {
  /** The bot's display names; a leading "@<name>" is stripped even when other users are mentioned too. */
  botNames?: readonly string[];
  /** Clock used when `createAt` is absent. */
  now?: () => number;
}

/** Optional in DingTalk's sense: absent, null or (for strings) empty all mean "not there". */
const optString = z.pipe(
  z.nullish(z.string()),
  z.transform((v: string | null | undefined) => (v ? v : undefined)),
);
const optBool = z.pipe(
  z.nullish(z.boolean()),
  z.transform((v: boolean | null | undefined) => v ?? undefined),
);
/** Ids become table keys (≤ 2,048 bytes in all): each is capped well below. */
export const MAX_ID_BYTES = 512;
const fitsKey = (v: string) => Buffer.byteLength(v, "utf8") <= MAX_ID_BYTES;
const id = z.string().check(z.minLength(1), z.refine(fitsKey));
const optId = optString.check(z.refine((v) => v === undefined || fitsKey(v)));
/** The latest possible JavaScript date, in ms: anything beyond is not a message time. */
const MAX_TIME_MS = 8.64e15;
const msNumber = z
  .union([z.number().check(z.nonnegative()), z.pipe(z.string().check(z.trim(), z.regex(/^\d{1,16}$/)), z.transform(Number))])
  .check(z.refine((v) => v <= MAX_TIME_MS));
const optMs = z.pipe(
  z.nullish(msNumber),
  z.transform((v: number | null | undefined) => v ?? undefined),
);

/** Some senders double-encode `content`; accept a JSON string holding the object. */
const jsonObject = <T extends z.ZodMiniType>(schema: T) =>
  z.pipe(
    z.transform((v: unknown) => {
      if (typeof v !== "string") return v;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    }),
    schema,
  );

const nonEmpty = z.string().check(z.minLength(1));

const RepliedMsgSchema = z.looseObject({
  msgType: optString,
  msgId: optString,
  senderId: optString,
  createdAt: optMs,
  content: z.optional(z.unknown()),
});

const TextSchema = z.looseObject({
  content: z.string(),
  isReplyMsg: optBool,
  repliedMsg: z.nullish(RepliedMsgSchema),
});

const RichTextItemSchema = z.looseObject({
  type: optString,
  text: optString,
  downloadCode: optString,
  pictureDownloadCode: optString,
  atName: optString,
});

const RichTextContentSchema = jsonObject(z.looseObject({ richText: z.array(RichTextItemSchema) }));
const PictureContentSchema = jsonObject(
  z.looseObject({ downloadCode: optString, pictureDownloadCode: optString }).check(
    z.refine((c) => c.downloadCode ?? c.pictureDownloadCode, { error: "needs a downloadCode" }),
  ),
);
const AudioContentSchema = jsonObject(
  z.looseObject({ downloadCode: nonEmpty, duration: optMs, recognition: optString }),
);
const VideoContentSchema = jsonObject(
  z.looseObject({ downloadCode: nonEmpty, duration: optMs, videoType: optString }),
);
const FileContentSchema = jsonObject(z.looseObject({ downloadCode: nonEmpty, fileName: optString }));

const QuotedRichTextSchema = z.array(z.looseObject({ text: z.optional(z.string()) }));

const AtUserSchema = z.looseObject({ dingtalkId: optString, staffId: optString, unionId: optString });

export const CallbackSchema = z.looseObject({
  msgId: id,
  msgtype: nonEmpty,
  createAt: optMs,
  conversationType: z.union([z.literal("1"), z.literal("2"), z.literal(1), z.literal(2)]),
  conversationId: id,
  conversationTitle: optString,
  senderId: optId,
  senderNick: optString,
  senderStaffId: optId,
  senderUnionId: optString,
  senderCorpId: optString,
  senderPlatform: optString,
  isAdmin: optBool,
  chatbotCorpId: optString,
  chatbotUserId: optString,
  robotCode: optId,
  isInAtList: optBool,
  atUsers: z.nullish(z.array(AtUserSchema)),
  sessionWebhook: optString,
  sessionWebhookExpiredTime: optMs,
  openThreadId: optString,
  text: z.optional(z.unknown()),
  content: z.optional(z.unknown()),
  errorMessage: z.optional(z.unknown()),
});
export type CallbackBody = z.output<typeof CallbackSchema>;

function describeIssues(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid callback body";
  const path = issue.path.map(String).join(".");
  return path ? `invalid field ${path}` : "invalid callback body";
}

/** Extracts readable text from a quoted message's `content` (text, markdown or richText shaped). */
function quotedText(content: unknown): string {
  if (typeof content === "string") return content.trim();
  if (typeof content !== "object" || content === null) return "";
  const c = content as Record<string, unknown>;
  if (typeof c.text === "string") return c.text.trim();
  if (typeof c.content === "string") return c.content.trim();
  if (Array.isArray(c.richText)) {
    const items = QuotedRichTextSchema.safeParse(c.richText);
    return items.success ? items.data.map((i) => i.text ?? "").filter(Boolean).join("\n").trim() : "";
  }
  return "";
}

function errorText(value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value).slice(0, 200);
  } catch {
    return "unreadable errorMessage";
  }
}

/**
 * Removes the bot's leading @-mention. DingTalk usually removes the bot's name itself and leaves a
 * leading space; some clients keep "@Bot". A leading "@token" is taken to be the bot when it matches
 * one of `botNames`, or when nobody but the bot was mentioned.
 */
export function stripMention(text: string, opts: { onlyBotMentioned: boolean; botNames?: readonly string[] }): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith("@")) return trimmed;
  for (const name of opts.botNames ?? []) {
    const at = `@${name}`;
    if (name && trimmed.startsWith(at) && (trimmed.length === at.length || /\s/.test(trimmed[at.length]!)))
      return trimmed.slice(at.length).trim();
  }
  if (!opts.onlyBotMentioned) return trimmed;
  return trimmed.replace(/^@\S*/, "").trim();
}

interface Content {
  kind: InboundKind;
  text: string;
  attachments: Attachment[];
  quoted?: { text: string };
}

type ContentResult = { ok: true; content: Content } | { ok: false; reason: string };

function parseContent(body: CallbackBody, stripLeading: (text: string) => string, leadingAtSkippable: boolean): ContentResult {
  const bad = (what: string): ContentResult => ({ ok: false, reason: `invalid ${what} content` });
  switch (body.msgtype) {
    case "text": {
      const t = TextSchema.safeParse(body.text);
      if (!t.success) return bad("text");
      const quoted = t.data.repliedMsg ? quotedText(t.data.repliedMsg.content) : "";
      return {
        ok: true,
        content: { kind: "text", text: stripLeading(t.data.content), attachments: [], ...(quoted ? { quoted: { text: quoted } } : {}) },
      };
    }
    case "richText": {
      const c = RichTextContentSchema.safeParse(body.content);
      if (!c.success) return bad("richText");
      const lines: string[] = [];
      const attachments: Attachment[] = [];
      let seenText = false;
      for (const item of c.data.richText) {
        const type = item.type ?? "text";
        if (type === "picture") {
          const code = item.downloadCode ?? item.pictureDownloadCode;
          if (code) attachments.push({ type: "picture", downloadCode: code });
        } else if (type === "at") {
          if (item.atName && (seenText || !leadingAtSkippable)) lines.push(`@${item.atName}`);
        } else if (item.text !== undefined) {
          lines.push(item.text);
          if (item.text.trim()) seenText = true;
        }
      }
      const text = stripLeading(lines.join("\n").replace(/\n{3,}/g, "\n\n"));
      return { ok: true, content: { kind: "richText", text, attachments } };
    }
    case "picture": {
      const c = PictureContentSchema.safeParse(body.content);
      if (!c.success) return bad("picture");
      const code = (c.data.downloadCode ?? c.data.pictureDownloadCode)!;
      return { ok: true, content: { kind: "picture", text: "", attachments: [{ type: "picture", downloadCode: code }] } };
    }
    case "audio": {
      const c = AudioContentSchema.safeParse(body.content);
      if (!c.success) return bad("audio");
      const a: Attachment = { type: "audio", downloadCode: c.data.downloadCode };
      if (c.data.duration !== undefined) a.durationMs = c.data.duration;
      return { ok: true, content: { kind: "audio", text: (c.data.recognition ?? "").trim(), attachments: [a] } };
    }
    case "video": {
      const c = VideoContentSchema.safeParse(body.content);
      if (!c.success) return bad("video");
      const a: Attachment = { type: "video", downloadCode: c.data.downloadCode };
      if (c.data.duration !== undefined) a.durationMs = c.data.duration;
      if (c.data.videoType) a.videoType = c.data.videoType;
      return { ok: true, content: { kind: "video", text: "", attachments: [a] } };
    }
    case "file": {
      const c = FileContentSchema.safeParse(body.content);
      if (!c.success) return bad("file");
      const a: Attachment = { type: "file", downloadCode: c.data.downloadCode };
      if (c.data.fileName) a.fileName = c.data.fileName;
      return { ok: true, content: { kind: "file", text: "", attachments: [a] } };
    }
    default: {
      const t = TextSchema.safeParse(body.text);
      return { ok: true, content: { kind: "unsupported", text: t.success ? stripLeading(t.data.content) : "", attachments: [] } };
    }
  }
}

/** Validates and normalises a callback body. Failure reasons name the field, never its value. */
export function parseCallback(json: unknown, opts: ParseOptions = {}): ParseResult {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return { ok: false, reason: "body is not a JSON object" };
  const parsed = CallbackSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error) };
  const body = parsed.data;
  const senderId = body.senderId ?? body.senderStaffId;
  if (!senderId) return { ok: false, reason: "missing field senderId" };

  const isGroup = String(body.conversationType) === "2";
  const others = (body.atUsers ?? []).filter((u) => !body.chatbotUserId || u.dingtalkId !== body.chatbotUserId);
  const onlyBotMentioned = others.length === 0;
  const stripLeading = (text: string): string =>
    isGroup ? stripMention(text, { onlyBotMentioned, ...(opts.botNames ? { botNames: opts.botNames } : {}) }) : text.trim();

  const errorMessage = errorText(body.errorMessage);
  let content: Content;
  const hasContent = body.text !== undefined && body.text !== null ? true : body.content !== undefined && body.content !== null;
  if (errorMessage && !hasContent) {
    const known = ["text", "richText", "picture", "audio", "video", "file"].includes(body.msgtype);
    content = { kind: known ? (body.msgtype as InboundKind) : "unsupported", text: "", attachments: [] };
  } else {
    const result = parseContent(body, stripLeading, onlyBotMentioned);
    if (!result.ok) return result;
    content = result.content;
  }

  const message: InboundMessage = {
    msgId: body.msgId,
    robotCode: body.robotCode,
    createdAt: body.createAt ?? (opts.now ?? Date.now)(),
    kind: content.kind,
    msgtype: body.msgtype,
    text: content.text,
    attachments: content.attachments,
    sender: {
      id: senderId,
      nick: body.senderNick ?? "",
      isAdmin: body.isAdmin ?? false,
      ...(body.senderStaffId ? { staffId: body.senderStaffId } : {}),
      ...(body.senderUnionId ? { unionId: body.senderUnionId } : {}),
      ...(body.senderCorpId ? { corpId: body.senderCorpId } : {}),
    },
    conversation: {
      type: isGroup ? "group" : "direct",
      id: body.conversationId,
      ...(body.conversationTitle ? { title: body.conversationTitle } : {}),
    },
    mentioned: isGroup ? (body.isInAtList ?? true) : true,
    reply: {
      ...(body.sessionWebhook ? { sessionWebhook: body.sessionWebhook } : {}),
      ...(body.sessionWebhookExpiredTime !== undefined ? { sessionWebhookExpiresAt: body.sessionWebhookExpiredTime } : {}),
    },
  };
  if (content.quoted) message.quoted = content.quoted;
  if (errorMessage) message.errorMessage = errorMessage;
  if (body.openThreadId) message.threadId = body.openThreadId;
  return { ok: true, message };
}
