// The playground's wire format between its server side and the page: the state the page starts
// from, the events it long-polls, and the per-message trace. Types only, so the page can import them.

/** "dm:<staffId>" for a user's 1:1 chat with the bot, "group:<conversationId>" for a group. */
export type ChatId = string;

export interface PlaygroundUser {
  staffId: string;
  nick: string;
  /** Whether `allow_from` lets this user talk to the bot. */
  allowed: boolean;
}

export interface PlaygroundGroup {
  chat: ChatId;
  conversationId: string;
  title: string;
}

export interface PlaygroundState {
  bot: { name: string };
  users: PlaygroundUser[];
  groups: PlaygroundGroup[];
  models: {
    names: string[];
    primary: string | undefined;
    /** Lines telling what to put in the config when no model is configured. */
    help: string[] | undefined;
  };
  allowFrom: string[];
  groupScope: "conversation" | "sender";
  /** Whether answers stream into AI cards. */
  cards: boolean;
}

export type CardStatus = "processing" | "inputting" | "finished" | "failed";

export interface TraceDelivery {
  requestId: string | undefined;
  /** The gateway's HTTP status for the signed POST /callback (0: no answer). */
  status: number;
  /** Time until the gateway answered the callback, ms. */
  ackMs: number;
  signature: "ok" | "failed";
  signatureReason?: string;
  claim?: "accepted" | "duplicate";
  claimState?: string;
  /** Why the gateway refused the callback, when it did. */
  error?: string;
}

export interface TraceAttempt {
  modelName: string;
  ok: boolean;
  kind: string;
  ms: number;
  status?: number;
}

export interface Trace {
  msgId: string;
  chat: ChatId;
  user: string;
  preview: string;
  sentAt: number;
  /** pending → accepted → done; or rejected / duplicate / failed. */
  state: "pending" | "accepted" | "done" | "rejected" | "duplicate" | "failed";
  deliveries: TraceDelivery[];
  kind?: string;
  route?: string;
  model?: string;
  attempts: TraceAttempt[];
  /** Tool calls of the turn, in order. */
  tools?: Array<{ name: string; ok: boolean; ms: number; error?: string; reused?: boolean }>;
  tokens?: { prompt: number; completion: number };
  llm?: { firstTokenMs?: number; totalMs: number };
  sendMs?: number;
  queuedMs?: number;
  totalMs?: number;
  card?: { outTrackId: string };
  /** Warnings and errors the gateway logged for this message. */
  notes: string[];
}

export interface Button {
  title: string;
  url: string;
}

export type PlaygroundEventBody =
  | { type: "user"; chat: ChatId; msgId: string; sender: { staffId: string; nick: string }; text: string; imageUrl?: string }
  | {
      type: "bot";
      chat: ChatId;
      id: string;
      msgId?: string;
      route: "webhook" | "openapi";
      msgtype: string;
      title?: string;
      text?: string;
      buttons?: Button[];
    }
  | { type: "card"; chat: ChatId; id: string; msgId?: string; content: string; status: CardStatus; updates: number }
  | { type: "trace"; trace: Trace };

export type PlaygroundEvent = PlaygroundEventBody & { seq: number; at: number };

export interface EventsResponse {
  /** The playground run; when it changes (a restart), the page reloads. */
  epoch: string;
  events: PlaygroundEvent[];
  /** Pass as `after` on the next poll. */
  next: number;
}

export interface SendResult {
  msgId: string;
  status: number;
  requestId: string | undefined;
  ackMs: number;
}
