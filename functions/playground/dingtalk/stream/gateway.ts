// The Stream gateway engine of the DingTalk double: single-use tickets, WebSocket connections per app,
// pushed messages redelivered until ACKed, SYSTEM ping/disconnect, and a record of every frame both ways.
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { describeFault, faultResponse } from "../faults.js";
import type { DoubleState, RecordedCall } from "../state.js";
import {
  TOPIC_ROBOT,
  callbackFrame,
  dataJson,
  disconnectFrame,
  eventFrame,
  newMessageId,
  parseUpstream,
  pingFrame,
  type DownstreamFrame,
  type FrameContext,
  type UpstreamFrame,
} from "./frames.js";
import type {
  AppStreamStats,
  DownstreamRecord,
  PingRecord,
  PushOptions,
  PushedMessage,
  RedeliverySettings,
  StreamConnectionInfo,
  StreamGatewayOptions,
  Subscription,
  TicketRecord,
  UpstreamRecord,
} from "./types.js";

const DEFAULT_REDELIVERY: RedeliverySettings = { delayMs: 60_000, max: 3, sameMessageId: true };
/** Pending redeliveries are re-checked at least this often, so a clock moved over HTTP takes effect. */
const CLOCK_POLL_MS = 1_000;

interface Connection {
  info: StreamConnectionInfo;
  ws: WebSocket;
  closeTimer?: NodeJS.Timeout;
}

function headerRecord(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

function refuse(socket: Duplex, status: number, body: unknown): void {
  const payload = JSON.stringify(body ?? {});
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
      `Content-Type: application/json;charset=utf-8\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`,
  );
}

function rawText(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

export class StreamGateway {
  readonly frames: DownstreamRecord[] = [];
  readonly acks: UpstreamRecord[] = [];
  readonly pings: PingRecord[] = [];
  private readonly pushed: PushedMessage[] = [];
  private readonly byId = new Map<string, PushedMessage>();
  private readonly pingById = new Map<string, PingRecord>();
  private readonly tickets = new Map<string, TicketRecord>();
  private readonly conns: Connection[] = [];
  private readonly roundRobin = new Map<string, number>();
  private readonly events = new EventEmitter().setMaxListeners(0);
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  private settings: RedeliverySettings;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly state: DoubleState,
    private readonly opts: StreamGatewayOptions = {},
  ) {
    this.settings = { ...DEFAULT_REDELIVERY, ...opts.redelivery };
  }

  /** The WebSocket endpoint the open API hands out, e.g. ws://127.0.0.1:PORT/connect. */
  get endpoint(): string {
    return `${this.state.baseUrl.replace(/^http/, "ws")}/connect`;
  }

  get redelivery(): RedeliverySettings {
    return { ...this.settings };
  }

  /** Changes redelivery for pushes delivered from now on; returns the settings in force. */
  setRedelivery(change: Partial<RedeliverySettings>): RedeliverySettings {
    const next = { ...this.settings, ...change };
    if (!Number.isFinite(next.delayMs) || next.delayMs < 0) throw new Error("redelivery.delayMs must be ≥ 0");
    if (!Number.isInteger(next.max) || next.max < 0) throw new Error("redelivery.max must be an integer ≥ 0");
    this.settings = next;
    return this.redelivery;
  }

  /** Issues a single-use ticket (the open API, after it checked the app's credentials). */
  issueTicket(clientId: string, subscriptions: Subscription[], meta: { ua?: string; localIp?: string } = {}): TicketRecord {
    const now = this.state.now();
    const t: TicketRecord = {
      ticket: randomUUID(),
      clientId,
      subscriptions: subscriptions.map((s) => ({ type: s.type, topic: s.topic })),
      ua: meta.ua,
      localIp: meta.localIp,
      issuedAt: now,
      expiresAt: now + (this.opts.ticketTtlMs ?? 90_000),
    };
    this.tickets.set(t.ticket, t);
    return t;
  }

  /** Handles an HTTP upgrade for `/connect`; returns false for other paths (left to other modules). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? "/", "http://double");
    if (url.pathname !== "/connect") return false;
    this.upgrade(url, req, socket, head).catch(() => socket.destroy());
    return true;
  }

  private async upgrade(url: URL, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const call: RecordedCall = {
      route: "gateway.connect",
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: headerRecord(req),
      body: undefined,
      status: 0,
      time: this.state.now(),
    };
    this.state.calls.push(call);
    const reject = (status: number, body: unknown) => {
      call.status = status;
      refuse(socket, status, body);
    };
    const fault = this.state.takeFault(call.route, url.pathname);
    if (fault) {
      call.fault = describeFault(fault);
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      const forced = faultResponse(fault);
      if (forced === "drop") {
        socket.destroy();
        return;
      }
      if (forced) return reject(forced.status, forced.body);
    }
    if (this.closed) return reject(503, { code: "ServiceUnavailable", message: "gateway closed" });
    const id = url.searchParams.get("ticket");
    const ticket = id ? this.tickets.get(id) : undefined;
    if (!ticket) return reject(401, { code: "invalidTicket", message: "ticket不存在" });
    if (ticket.usedAt !== undefined) return reject(403, { code: "ticketUsed", message: "ticket已被使用" });
    if (this.state.now() > ticket.expiresAt) return reject(403, { code: "ticketExpired", message: "ticket已过期" });
    ticket.usedAt = this.state.now();
    call.status = 101;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, ticket));
  }

  private attach(ws: WebSocket, ticket: TicketRecord): void {
    const conn: Connection = {
      ws,
      info: {
        connectionId: randomUUID(),
        clientId: ticket.clientId,
        subscriptions: ticket.subscriptions,
        ua: ticket.ua,
        localIp: ticket.localIp,
        ticket: ticket.ticket,
        openedAt: this.state.now(),
        state: "open",
      },
    };
    this.conns.push(conn);
    ws.on("message", (data, isBinary) => this.onUpstream(conn, data, isBinary));
    ws.on("error", () => ws.terminate());
    ws.on("close", (code) => {
      clearTimeout(conn.closeTimer);
      if (conn.info.state !== "closed") {
        conn.info.state = "closed";
        conn.info.closedAt = this.state.now();
      }
      conn.info.closeCode = code;
      this.events.emit("change");
    });
    for (const m of this.pushed) if (m.waiting && m.clientId === ticket.clientId) this.deliver(m);
    this.schedule();
    this.events.emit("change");
  }

  private onUpstream(conn: Connection, data: RawData, isBinary: boolean): void {
    const bytes = rawText(data);
    const record: UpstreamRecord = {
      connectionId: conn.info.connectionId,
      clientId: conn.info.clientId,
      time: this.state.now(),
      raw: isBinary ? bytes.toString("base64") : bytes.toString("utf8"),
    };
    const parsed = isBinary ? ({ ok: false, error: "binary frame" } as const) : parseUpstream(record.raw);
    if (!parsed.ok) record.error = parsed.error;
    else {
      const frame = parsed.frame;
      record.frame = frame;
      record.data = dataJson(frame.data);
      const id = frame.headers.messageId;
      const message = this.byId.get(id);
      const ping = this.pingById.get(id);
      record.answers = message?.messageId ?? ping?.messageId ?? id;
      if (message && !message.acked && this.accepts(message, frame, record.data)) {
        message.acked = true;
        message.ackedAt = record.time;
        message.nextAt = undefined;
      }
      if (ping && !ping.echoed && frame.code === 200 && sameData(frame.data, ping.data)) {
        ping.echoed = true;
        ping.echoedAt = record.time;
      }
    }
    this.acks.push(record);
    this.schedule();
    this.events.emit("change");
  }

  private accepts(message: PushedMessage, frame: UpstreamFrame, data: unknown): boolean {
    if (frame.code !== 200) return false;
    if (message.type !== "EVENT") return true;
    const status = typeof data === "object" && data !== null ? (data as { status?: unknown }).status : undefined;
    return status !== "LATER";
  }

  /** Pushes a robot message (or any CALLBACK/EVENT) to one open connection of the app; returns its messageId.
   *  With no suitable connection open it waits and goes out when one opens. `body` strings are sent as is. */
  push(clientId: string, body: unknown, opts: PushOptions = {}): string {
    if (this.closed) throw new Error("stream double: closed");
    if (!this.state.apps.has(clientId)) throw new Error(`stream double: unknown app ${clientId}`);
    const type = opts.type ?? "CALLBACK";
    const topic = opts.topic ?? (type === "CALLBACK" ? TOPIC_ROBOT : undefined);
    if (!topic) throw new Error("stream double: an EVENT push needs a topic (the event type)");
    const now = this.state.now();
    const messageId = opts.messageId ?? newMessageId(now);
    if (this.byId.has(messageId)) throw new Error(`stream double: messageId ${messageId} was already pushed`);
    const message: PushedMessage = {
      messageId,
      messageIds: [messageId],
      clientId,
      type,
      topic,
      data: typeof body === "string" ? body : JSON.stringify(body),
      pushedAt: now,
      deliveries: [],
      acked: false,
      waiting: false,
      eventId: randomUUID().replace(/-/g, ""),
    };
    this.pushed.push(message);
    this.byId.set(messageId, message);
    this.deliver(message);
    this.schedule();
    return messageId;
  }

  private deliver(m: PushedMessage): void {
    const conn = this.pick(m);
    if (!conn) {
      m.waiting = true;
      m.nextAt = undefined;
      return;
    }
    const now = this.state.now();
    const attempt = m.deliveries.length;
    let messageId = m.messageId;
    if (attempt > 0 && !this.settings.sameMessageId) {
      messageId = newMessageId(now);
      m.messageIds.push(messageId);
      this.byId.set(messageId, m);
    }
    const ctx: FrameContext = { messageId, time: now, appId: m.clientId, connectionId: conn.info.connectionId };
    const frame = m.type === "EVENT" ? eventFrame(m.topic, m.data, { ...ctx, eventId: m.eventId, corpId: "dingcorp001" }) : callbackFrame(m.topic, m.data, ctx);
    this.send(conn, frame, { kind: m.type, messageId, attempt });
    m.deliveries.push({ connectionId: conn.info.connectionId, messageId, time: now, attempt });
    m.waiting = false;
    m.nextAt = attempt < this.settings.max ? now + this.settings.delayMs : undefined;
    this.events.emit("change");
  }

  private pick(m: PushedMessage): Connection | undefined {
    const candidates = this.openConnections(m.clientId).filter((c) =>
      c.info.subscriptions.some((s) => s.type === m.type && (s.topic === m.topic || (m.type === "EVENT" && s.topic === "*"))),
    );
    if (candidates.length === 0) return undefined;
    if (this.opts.pick === "round-robin") {
      const n = this.roundRobin.get(m.clientId) ?? 0;
      this.roundRobin.set(m.clientId, n + 1);
      return candidates[n % candidates.length];
    }
    const r = (this.opts.random ?? Math.random)();
    return candidates[Math.min(candidates.length - 1, Math.floor(r * candidates.length))];
  }

  private openConnections(clientId?: string): Connection[] {
    return this.conns.filter((c) => c.info.state === "open" && (clientId === undefined || c.info.clientId === clientId));
  }

  private send(conn: Connection, frame: DownstreamFrame | string, meta: Omit<DownstreamRecord, "connectionId" | "clientId" | "time">): void {
    conn.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame), () => undefined);
    this.frames.push({
      connectionId: conn.info.connectionId,
      clientId: conn.info.clientId,
      time: this.state.now(),
      ...meta,
      ...(typeof frame === "string" ? { text: frame } : { frame }),
    });
  }

  /** Redelivers every un-ACKed push whose delay has passed by the double's clock. */
  tick(): void {
    const now = this.state.now();
    for (const m of this.pushed) if (m.nextAt !== undefined && m.nextAt <= now) this.deliver(m);
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    let next = Infinity;
    for (const m of this.pushed) if (m.nextAt !== undefined && m.nextAt < next) next = m.nextAt;
    if (next === Infinity) return;
    this.timer = setTimeout(() => this.tick(), Math.min(Math.max(0, next - this.state.now()), CLOCK_POLL_MS));
    this.timer.unref();
  }

  /** Sends a SYSTEM ping (data `{"opaque":…}`) on every open connection of the app; the records turn
   *  `echoed` when the client answers. */
  ping(clientId: string): PingRecord[] {
    const sent = this.openConnections(clientId).map((conn) => {
      const ctx = this.systemContext(conn);
      const frame = pingFrame(randomUUID(), ctx);
      this.send(conn, frame, { kind: "ping", messageId: ctx.messageId });
      const record: PingRecord = { messageId: ctx.messageId, clientId, connectionId: conn.info.connectionId, data: frame.data, sentAt: ctx.time, echoed: false };
      this.pings.push(record);
      this.pingById.set(record.messageId, record);
      return record;
    });
    this.events.emit("change");
    return sent;
  }

  /** Sends a SYSTEM disconnect on every open connection of the app, then closes each after `closeAfterMs`.
   *  Returns the connection ids. */
  disconnect(clientId: string, opts: { closeAfterMs?: number; reason?: string } = {}): string[] {
    const delay = opts.closeAfterMs ?? this.opts.disconnectCloseAfterMs ?? 10_000;
    const ids = this.openConnections(clientId).map((conn) => {
      const ctx = this.systemContext(conn);
      this.send(conn, disconnectFrame(opts.reason ?? "connection is expired", ctx), { kind: "disconnect", messageId: ctx.messageId });
      conn.info.state = "closing";
      conn.closeTimer = setTimeout(() => conn.ws.close(1000, "connection is expired"), delay);
      return conn.info.connectionId;
    });
    this.events.emit("change");
    return ids;
  }

  /** Cuts every connection of the app (all apps without an id) without a close handshake; returns how many. */
  dropConnections(clientId?: string): number {
    const victims = this.conns.filter((c) => c.info.state !== "closed" && (clientId === undefined || c.info.clientId === clientId));
    for (const conn of victims) {
      clearTimeout(conn.closeTimer);
      conn.info.state = "closed";
      conn.info.closedAt = this.state.now();
      conn.ws.terminate();
    }
    if (victims.length > 0) this.events.emit("change");
    return victims.length;
  }

  /** Sends a text frame as is on every open connection of the app (for malformed-frame tests). */
  sendRaw(clientId: string, text: string): string[] {
    const ids = this.openConnections(clientId).map((conn) => {
      this.send(conn, text, { kind: "raw" });
      return conn.info.connectionId;
    });
    this.events.emit("change");
    return ids;
  }

  private systemContext(conn: Connection): FrameContext {
    const time = this.state.now();
    return { messageId: newMessageId(time), time, appId: conn.info.clientId, connectionId: conn.info.connectionId };
  }

  /** Per app: open/closing connections, connections ever opened, tickets issued and used. */
  connections(): Record<string, AppStreamStats> {
    const out: Record<string, AppStreamStats> = {};
    const of = (id: string) => (out[id] ??= { open: 0, closing: 0, opened: 0, ticketsIssued: 0, ticketsUsed: 0 });
    for (const t of this.tickets.values()) {
      const s = of(t.clientId);
      s.ticketsIssued++;
      if (t.usedAt !== undefined) s.ticketsUsed++;
    }
    for (const c of this.conns) {
      const s = of(c.info.clientId);
      s.opened++;
      if (c.info.state === "open") s.open++;
      if (c.info.state === "closing") s.closing++;
    }
    return out;
  }

  /** Every connection (of one app), oldest first. */
  connectionList(clientId?: string): StreamConnectionInfo[] {
    return this.conns.filter((c) => clientId === undefined || c.info.clientId === clientId).map((c) => ({ ...c.info }));
  }

  /** Pushed messages, oldest first, with deliveries and ACK state. */
  messages(): PushedMessage[] {
    return [...this.pushed];
  }

  /** A pushed message by any of its messageIds. */
  message(messageId: string): PushedMessage | undefined {
    return this.byId.get(messageId);
  }

  /** Resolves with the first upstream frame answering this push or ping (any of its ids; check `frame.code`). */
  waitForAck(messageId: string, timeoutMs = 5_000): Promise<UpstreamRecord> {
    return this.waitFor(
      () => {
        const root = this.byId.get(messageId)?.messageId ?? this.pingById.get(messageId)?.messageId ?? messageId;
        return this.acks.find((r) => r.answers === root);
      },
      timeoutMs,
      `no answer to ${messageId}`,
    );
  }

  /** Resolves with the app's newest open connection — with `nth`, once its nth connection (1-based,
   *  counting every one ever opened) or a later one is open. */
  waitForConnection(clientId: string, timeoutMs = 5_000, opts: { nth?: number } = {}): Promise<StreamConnectionInfo> {
    return this.waitFor(
      () => {
        const all = this.conns.filter((c) => c.info.clientId === clientId);
        const fresh = all.slice(Math.max(0, (opts.nth ?? 1) - 1)).filter((c) => c.info.state === "open");
        const newest = fresh[fresh.length - 1];
        return newest ? { ...newest.info } : undefined;
      },
      timeoutMs,
      `no open connection for ${clientId}${opts.nth ? ` (#${opts.nth})` : ""}`,
    );
  }

  /** Resolves with `check()`'s first defined value, re-checked whenever a frame goes either way or a
   *  connection opens or closes; rejects after `timeoutMs`. */
  waitUntil<T>(check: () => T | undefined, timeoutMs = 5_000, what = "condition not met"): Promise<T> {
    return this.waitFor(check, timeoutMs, what);
  }

  private waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const hit = check();
    if (hit !== undefined) return Promise.resolve(hit);
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.events.off("change", onChange);
        this.events.off("closed", onClosed);
      };
      const onChange = () => {
        const value = check();
        if (value === undefined) return;
        done();
        resolve(value);
      };
      const onClosed = () => {
        done();
        reject(new Error(`stream double closed: ${what}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`stream double: ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.events.on("change", onChange);
      this.events.on("closed", onClosed);
    });
  }

  /** Forgets frames, ACKs, pings and pushed messages (pending redeliveries stop); connections stay. */
  reset(): void {
    this.frames.length = 0;
    this.acks.length = 0;
    this.pings.length = 0;
    this.pushed.length = 0;
    this.byId.clear();
    this.pingById.clear();
    this.schedule();
  }

  /** Stops redeliveries, cuts every connection, and fails pending waits. */
  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    for (const c of this.conns) {
      clearTimeout(c.closeTimer);
      if (c.info.state !== "closed") c.ws.terminate();
    }
    this.events.emit("closed");
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

function sameData(echo: string | undefined, sent: string): boolean {
  if (echo === sent) return true;
  const a = dataJson(echo);
  return a !== undefined && JSON.stringify(a) === JSON.stringify(dataJson(sent));
}
