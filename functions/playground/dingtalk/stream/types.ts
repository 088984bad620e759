// Records and settings of the Stream gateway double: tickets, connections, frames both ways, pushed
// messages with their deliveries, pings, redelivery settings and per-app statistics.
import type { DownstreamFrame, UpstreamFrame } from "./frames.js";

export interface Subscription {
  type: string;
  topic: string;
}

export interface RedeliverySettings {
  /** How long (by the double's clock) an un-ACKed push waits before it is pushed again. Default 60 000. */
  delayMs: number;
  /** Redeliveries after the first push. Default 3. */
  max: number;
  /** Redeliveries keep the first messageId (default) or get a fresh one. */
  sameMessageId: boolean;
}

export interface StreamGatewayOptions {
  redelivery?: Partial<RedeliverySettings>;
  /** How a push picks one of the app's open connections: "random" (as DingTalk does, default) or "round-robin". */
  pick?: "random" | "round-robin";
  random?: () => number;
  /** Ticket lifetime by the double's clock (default 90 000). */
  ticketTtlMs?: number;
  /** Default delay between a SYSTEM disconnect frame and closing the socket (default 10 000, real time). */
  disconnectCloseAfterMs?: number;
}

export interface TicketRecord {
  ticket: string;
  clientId: string;
  subscriptions: Subscription[];
  ua: string | undefined;
  localIp: string | undefined;
  issuedAt: number;
  expiresAt: number;
  usedAt?: number;
}

export interface StreamConnectionInfo {
  connectionId: string;
  clientId: string;
  subscriptions: Subscription[];
  ua: string | undefined;
  localIp: string | undefined;
  ticket: string;
  openedAt: number;
  /** "closing": a SYSTEM disconnect was sent, the socket closes soon and gets no more pushes. */
  state: "open" | "closing" | "closed";
  closedAt?: number;
  closeCode?: number;
}

export interface DownstreamRecord {
  connectionId: string;
  clientId: string;
  time: number;
  kind: "CALLBACK" | "EVENT" | "ping" | "disconnect" | "raw";
  messageId?: string;
  /** Pushes: 0 for the first delivery, n for the nth redelivery. */
  attempt?: number;
  frame?: DownstreamFrame;
  /** Raw frames: the text as sent. */
  text?: string;
}

export interface UpstreamRecord {
  connectionId: string;
  clientId: string;
  time: number;
  /** The frame's text (binary frames: base64). */
  raw: string;
  /** Set when the frame parsed as an ACK frame. */
  frame?: UpstreamFrame;
  /** Why the frame did not parse. */
  error?: string;
  /** The frame's `data`, parsed as JSON when it is JSON. */
  data?: unknown;
  /** The push or ping this answers: its first messageId (or the frame's own messageId if unknown). */
  answers?: string;
}

export interface Delivery {
  connectionId: string;
  messageId: string;
  time: number;
  attempt: number;
}

export interface PushedMessage {
  /** The id `push` returned. */
  messageId: string;
  /** Every id it went out under (more than one only with `sameMessageId: false`). */
  messageIds: string[];
  clientId: string;
  type: "CALLBACK" | "EVENT";
  topic: string;
  data: string;
  pushedAt: number;
  deliveries: Delivery[];
  /** An ACK with code 200 (and, for EVENT, a status other than LATER) arrived. */
  acked: boolean;
  ackedAt?: number;
  /** When the next redelivery is due (double's clock); undefined when ACKed, out of tries, or waiting. */
  nextAt?: number;
  /** No open connection subscribed to the topic: delivered as soon as one opens. */
  waiting: boolean;
  eventId: string;
}

export interface PingRecord {
  messageId: string;
  clientId: string;
  connectionId: string;
  data: string;
  sentAt: number;
  /** The client answered with code 200, the same messageId and the same data. */
  echoed: boolean;
  echoedAt?: number;
}

export interface AppStreamStats {
  open: number;
  closing: number;
  /** Connections ever opened. */
  opened: number;
  ticketsIssued: number;
  ticketsUsed: number;
}

export interface PushOptions {
  /** Default `/v1.0/im/bot/messages/get` for CALLBACK; required for EVENT (it is the event type). */
  topic?: string;
  type?: "CALLBACK" | "EVENT";
  messageId?: string;
}
