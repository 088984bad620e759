// Stream mode through the official `dingtalk-stream` SDK, wrapped where the SDK falls short: the
// gateway URL follows DINGTALK_API_BASE, connect failures are reported instead of swallowed, frames
// are schema-checked (a bad frame cannot crash the process), a robot CALLBACK is ACKed only when the
// core says so (once its message is claimed), reconnects back off exponentially with jitter
// through one single loop, and the keepalive survives a stalled event loop (the SDK's cuts the
// connection when one pong is read late, and the frames in flight wait for DingTalk's redelivery).
import { DWClient, TOPIC_ROBOT, type DWClientDownStream } from "dingtalk-stream";
import type WebSocket from "ws";
import * as z from "zod";
import type { DingTalkConfig } from "../config.js";
import { describeError, type Logger } from "../log.js";
import { backoffDelay } from "../retry.js";

const OpenAnswer = z.object({ endpoint: z.string().regex(/^wss?:\/\//), ticket: z.string().min(1) });
const ErrorAnswer = z.looseObject({ code: z.string().optional(), message: z.string().optional() });
const Frame = z.looseObject({
  specVersion: z.string().optional(),
  type: z.string(),
  headers: z.looseObject({ topic: z.string().optional(), messageId: z.string().optional() }),
  data: z.string().optional().default(""),
});

export interface StreamOptions {
  credentials: DingTalkConfig;
  apiBase: string;
  log: Logger;
  /**
   * Called for every robot message frame; the frame is ACKed when it resolves true. Not ACKed (false or
   * an error, which is logged): DingTalk redelivers it.
   */
  onMessage: (frame: { messageId: string; data: string }) => Promise<boolean>;
  fetch?: typeof fetch;
  random?: () => number;
  /** Reconnect delay cap (default 60 s). */
  maxBackoffMs?: number;
  /** Delay before reconnecting after a healthy connection closed (default 500 ms, plus jitter). */
  reconnectDelayMs?: number;
  /** Keepalive ping interval (default 8 s, the SDK's); a connection silent for two intervals is cut. */
  heartbeatMs?: number;
}

export type StreamState = "connecting" | "connected" | "stopped";

export class StreamOpenError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "StreamOpenError";
  }
}

/** Private members of the SDK's client that the wrapper has to reach. */
interface SdkInternals {
  socket?: WebSocket;
  dw_url?: string;
}

class GatewayClient extends DWClient {
  constructor(private readonly opts: StreamOptions) {
    super({
      clientId: opts.credentials.clientId,
      clientSecret: opts.credentials.clientSecret,
      keepAlive: false,
      ua: "dingclaw/0.1",
      subscriptions: [
        { type: "EVENT", topic: "*" },
        { type: "CALLBACK", topic: TOPIC_ROBOT },
      ],
    } as ConstructorParameters<typeof DWClient>[0]);
    this.config.autoReconnect = false;
  }

  private get internals(): SdkInternals {
    return this as unknown as SdkInternals;
  }

  get socketHandle(): WebSocket | undefined {
    return this.internals.socket;
  }

  override async getEndpoint(): Promise<this> {
    const url = `${this.opts.apiBase}/v1.0/gateway/connections/open`;
    const res = await (this.opts.fetch ?? fetch)(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({
        clientId: this.config.clientId,
        clientSecret: this.config.clientSecret,
        ua: this.config.ua,
        subscriptions: this.config.subscriptions,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    const json: unknown = await res.json().catch(() => undefined);
    const ok = res.ok ? OpenAnswer.safeParse(json) : undefined;
    if (!ok?.success) {
      const err = ErrorAnswer.safeParse(json);
      const code = err.success ? err.data.code : undefined;
      const hint = code === "invalidClientIdOrSecret" ? " (check channels.dingtalk.client_id / client_secret)" : "";
      throw new StreamOpenError(
        res.status,
        code,
        `gateway refused connection for ${this.config.clientId}: HTTP ${res.status}${code ? ` ${code}` : ""}${hint}`,
      );
    }
    this.internals.dw_url = `${ok.data.endpoint}?ticket=${encodeURIComponent(ok.data.ticket)}`;
    return this;
  }

  override onDownStream(data: string): void {
    let json: unknown;
    try {
      json = JSON.parse(String(data));
    } catch {
      this.opts.log.warn("dingtalk: ignored a stream frame that is not JSON");
      return;
    }
    const parsed = Frame.safeParse(json);
    if (!parsed.success) {
      this.opts.log.warn("dingtalk: ignored a malformed stream frame");
      return;
    }
    const frame = parsed.data as unknown as DWClientDownStream;
    switch (parsed.data.type) {
      case "SYSTEM":
        this.onSystem(frame);
        if (parsed.data.headers.topic === "disconnect") this.internals.socket?.close();
        return;
      case "EVENT":
        this.onEvent(frame);
        return;
      case "CALLBACK":
        this.onRobotCallback(parsed.data.headers.topic, parsed.data.headers.messageId, parsed.data.data);
        return;
    }
  }

  private onRobotCallback(topic: string | undefined, messageId: string | undefined, data: string): void {
    if (!messageId) {
      this.opts.log.warn("dingtalk: ignored a callback frame without messageId");
      return;
    }
    if (topic !== TOPIC_ROBOT) {
      this.opts.log.debug("dingtalk: ignored callback topic", { topic, messageId });
      this.ack(messageId);
      return;
    }
    this.opts
      .onMessage({ messageId, data })
      .then((ack) => ack && this.ack(messageId))
      .catch((err: unknown) =>
        this.opts.log.error("dingtalk: stream message handling failed; not acknowledged", { messageId, error: describeError(err) }),
      );
  }

  private ack(messageId: string): void {
    const socket = this.internals.socket;
    if (!socket || socket.readyState !== socket.OPEN) {
      // ws drops a send on a closed socket without an error: DingTalk redelivers the frame (a duplicate then).
      this.opts.log.info("dingtalk: ACK not sent, the connection closed", { messageId });
      return;
    }
    this.socketCallBackResponse(messageId, null);
  }

  /** Opens one connection; resolves when it has closed again. Rejects if it never opened. */
  async session(onOpen: () => void): Promise<void> {
    await this.getEndpoint();
    await this._connect();
    const socket = this.internals.socket;
    if (!socket) return;
    const stopKeepalive = this.keepalive(socket);
    onOpen();
    if (socket.readyState !== socket.CLOSED) await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    stopKeepalive();
  }

  /**
   * Pings every heartbeatMs and cuts the connection once nothing (no pong, no frame) has come for two
   * intervals. The check runs after the socket's pending input is read (setImmediate follows the poll
   * phase), so after the event loop was stalled a pong already received counts instead of looking
   * missing.
   */
  private keepalive(socket: WebSocket): () => void {
    const interval = this.opts.heartbeatMs ?? 8_000;
    let heard = Date.now();
    const hear = () => (heard = Date.now());
    socket.on("pong", hear);
    socket.on("message", hear);
    let check: NodeJS.Immediate | undefined;
    const timer = setInterval(() => {
      check ??= setImmediate(() => {
        check = undefined;
        if (socket.readyState !== socket.OPEN) return;
        const silentMs = Date.now() - heard;
        if (silentMs > 2 * interval) {
          this.opts.log.warn("dingtalk: no answer to keepalive pings, closing the connection", { silentMs });
          socket.terminate();
          return;
        }
        socket.ping();
      });
    }, interval);
    return () => {
      clearInterval(timer);
      if (check) clearImmediate(check);
    };
  }
}

export class StreamConnection {
  private readonly client: GatewayClient;
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  state: StreamState = "connecting";
  /** Resolves the first time a connection opens. */
  readonly ready: Promise<void>;
  private markReady!: () => void;

  constructor(private readonly opts: StreamOptions) {
    this.client = new GatewayClient(opts);
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = "stopped";
    this.client.disconnect();
    this.wake?.();
    await this.loop;
  }

  /** For tests: the socket currently open, if any. */
  get socket(): WebSocket | undefined {
    return this.client.socketHandle;
  }

  /** After a healthy connection closed (`failures` 0): about reconnectDelayMs; after failures: 1 s doubling up to the cap. */
  private backoff(failures: number): number {
    const random = this.opts.random ?? Math.random;
    if (failures === 0) return (this.opts.reconnectDelayMs ?? 500) * (0.5 + random());
    return backoffDelay(failures, { baseMs: 1000, maxMs: this.opts.maxBackoffMs ?? 60_000 }, random);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const log = this.opts.log;
    let failures = 0;
    while (!this.stopped) {
      this.state = "connecting";
      try {
        await this.client.session(() => {
          failures = 0;
          this.state = "connected";
          log.info("dingtalk: Connected to DingTalk");
          log.info("dingtalk: Listening for messages");
          this.markReady();
        });
        if (!this.stopped) log.warn("dingtalk: stream connection closed, reconnecting");
      } catch (err) {
        failures++;
        const retryInMs = Math.round(this.backoff(failures));
        log.error("dingtalk: cannot connect to DingTalk Stream", { attempt: failures, retryInMs, error: describeError(err) });
        if (!this.stopped) await this.sleep(retryInMs);
        continue;
      }
      if (!this.stopped) await this.sleep(this.backoff(0));
    }
  }
}
