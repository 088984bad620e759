// Wire frames of DingTalk Stream mode (reference §2.3–2.5): builders for the frames the gateway
// pushes (CALLBACK, EVENT, SYSTEM ping/disconnect) and the zod schema of the frames clients send back.
import { randomBytes } from "node:crypto";
import * as z from "zod";

export const TOPIC_ROBOT = "/v1.0/im/bot/messages/get";

export interface DownstreamFrame {
  specVersion: "1.0";
  type: "SYSTEM" | "EVENT" | "CALLBACK";
  headers: Record<string, string>;
  /** A JSON string. */
  data: string;
}

/** An upstream frame (ACK, ping echo) as the protocol defines it; unknown fields are kept. */
export const UpstreamFrame = z.looseObject({
  code: z.number().int(),
  headers: z.looseObject({
    messageId: z.string().min(1),
    contentType: z.string().optional(),
  }),
  message: z.string().optional(),
  data: z.string().optional(),
});
export type UpstreamFrame = z.output<typeof UpstreamFrame>;

let counter = 0;

/** A message id shaped like DingTalk's (`212b9d7c_165f_19bfa1a500a_1461def`). */
export function newMessageId(now: number): string {
  counter = (counter + 1) % 0xfffffff;
  return `${randomBytes(4).toString("hex")}_${randomBytes(2).toString("hex")}_${now.toString(16)}_${counter.toString(16)}`;
}

export interface FrameContext {
  messageId: string;
  time: number;
  appId: string;
  connectionId: string;
}

function baseHeaders(topic: string, c: FrameContext): Record<string, string> {
  return {
    topic,
    messageId: c.messageId,
    contentType: "application/json",
    time: String(c.time),
    appId: c.appId,
    connectionId: c.connectionId,
  };
}

export function callbackFrame(topic: string, data: string, c: FrameContext): DownstreamFrame {
  return { specVersion: "1.0", type: "CALLBACK", headers: baseHeaders(topic, c), data };
}

/** An EVENT frame; `eventType` doubles as the topic, as DingTalk sends it. */
export function eventFrame(eventType: string, data: string, c: FrameContext & { eventId: string; corpId: string }): DownstreamFrame {
  return {
    specVersion: "1.0",
    type: "EVENT",
    headers: {
      ...baseHeaders(eventType, c),
      eventType,
      eventId: c.eventId,
      eventBornTime: String(c.time),
      eventCorpId: c.corpId,
      eventUnifiedAppId: c.appId,
    },
    data,
  };
}

export function pingFrame(opaque: string, c: FrameContext): DownstreamFrame {
  return { specVersion: "1.0", type: "SYSTEM", headers: baseHeaders("ping", c), data: JSON.stringify({ opaque }) };
}

export function disconnectFrame(reason: string, c: FrameContext): DownstreamFrame {
  return { specVersion: "1.0", type: "SYSTEM", headers: baseHeaders("disconnect", c), data: JSON.stringify({ reason }) };
}

/** Parses a text frame from a client: the frame, or why it is not one. */
export function parseUpstream(text: string): { ok: true; frame: UpstreamFrame } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: "not JSON" };
  }
  const parsed = UpstreamFrame.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `${issue?.path.join(".") || "frame"}: ${issue?.message ?? "invalid"}` };
  }
  return { ok: true, frame: parsed.data };
}

/** The frame's `data` parsed as JSON, or undefined. */
export function dataJson(data: string | undefined): unknown {
  if (data === undefined) return undefined;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}
