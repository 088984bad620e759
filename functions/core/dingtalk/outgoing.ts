// Outgoing message shapes and their two wire forms: the session-webhook body (reference §4.1)
// and the robot OpenAPI's msgKey + msgParam (reference §4.4).

export type OutgoingMessage =
  | { kind: "markdown"; title: string; text: string }
  | { kind: "text"; text: string }
  | { kind: "actionCard"; title: string; text: string; buttons: { title: string; url: string }[] };

/** Where a reply goes: built from the inbound message. */
export interface ReplyTarget {
  conversationType: "direct" | "group";
  conversationId: string;
  /** The 1:1 partner's staff id; the robot OpenAPI cannot reach a 1:1 chat without it. */
  staffId?: string;
  robotCode: string;
  sessionWebhook?: string;
  sessionWebhookExpiresAt?: number;
  /** Staff ids to @ in group replies (session webhook only: the OpenAPI has no @). */
  atStaffIds?: string[];
}

export interface SendResult {
  /** "card": the answer went into a streaming AI card (see core/card-answer.ts). */
  route: "webhook" | "openapi" | "card";
  /** DingTalk's id of the reply: the OpenAPI's processQueryKey, or a card's outTrackId. */
  processQueryKey?: string;
  /** Why the session webhook was not used, when it existed but the OpenAPI carried the message. */
  fallbackReason?: string;
}

/** msgParam must stay within this many UTF-8 bytes (groupMessages/send's documented limit). */
export const MAX_MSG_PARAM_BYTES = 15_000;

function withMentions(text: string, atStaffIds: readonly string[] | undefined): string {
  if (!atStaffIds?.length) return text;
  return `${text}\n\n${atStaffIds.map((id) => `@${id}`).join(" ")}`;
}

function checkButtons(message: Extract<OutgoingMessage, { kind: "actionCard" }>): void {
  if (message.buttons.length < 1 || message.buttons.length > 5)
    throw new RangeError(`actionCard needs 1 to 5 buttons, got ${message.buttons.length}`);
}

/** The session-webhook JSON body. */
export function webhookBody(message: OutgoingMessage, atStaffIds?: readonly string[]): Record<string, unknown> {
  const at = atStaffIds?.length ? { at: { atUserIds: [...atStaffIds], isAtAll: false } } : {};
  switch (message.kind) {
    case "text":
      return { msgtype: "text", text: { content: withMentions(message.text, atStaffIds) }, ...at };
    case "markdown":
      return { msgtype: "markdown", markdown: { title: message.title, text: withMentions(message.text, atStaffIds) }, ...at };
    case "actionCard": {
      checkButtons(message);
      const [only] = message.buttons;
      const card =
        message.buttons.length === 1 && only
          ? { title: message.title, text: message.text, singleTitle: only.title, singleURL: only.url }
          : {
              title: message.title,
              text: message.text,
              btnOrientation: "0",
              btns: message.buttons.map((b) => ({ title: b.title, actionURL: b.url })),
            };
      return { msgtype: "actionCard", actionCard: card };
    }
  }
}

/** The robot OpenAPI's `msgKey` and (decoded) `msgParam`. */
export function openApiMessage(message: OutgoingMessage): { msgKey: string; msgParam: Record<string, string> } {
  switch (message.kind) {
    case "text":
      return { msgKey: "sampleText", msgParam: { content: message.text } };
    case "markdown":
      return { msgKey: "sampleMarkdown", msgParam: { title: message.title, text: message.text } };
    case "actionCard": {
      checkButtons(message);
      const [only] = message.buttons;
      if (message.buttons.length === 1 && only)
        return {
          msgKey: "sampleActionCard",
          msgParam: { title: message.title, text: message.text, singleTitle: only.title, singleURL: only.url },
        };
      const param: Record<string, string> = { title: message.title, text: message.text };
      message.buttons.forEach((b, i) => {
        param[`actionTitle${i + 1}`] = b.title;
        param[`actionURL${i + 1}`] = b.url;
      });
      return { msgKey: `sampleActionCard${message.buttons.length}`, msgParam: param };
    }
  }
}
