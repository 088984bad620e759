// Timestamps of HTTP exchanges at the in-process doubles, taken from Node's own diagnostics channels
// (no change to the doubles): when a request arrived, when the first response byte was written (the
// LLM's first token, for a streamed answer) and when the response finished.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { epochMs } from "../protocol.js";

export interface Exchange {
  /** Local port of the server that answered. */
  port: number;
  method: string;
  path: string;
  /** Path and query. */
  url: string;
  start: number;
  firstByte: number | undefined;
  /** Every write of the response body (an SSE stream: one per event). */
  writes: number[];
  finish: number | undefined;
}

interface ServerMessage {
  request: IncomingMessage;
  response: ServerResponse;
  socket: Socket;
}

export class HttpTimeline {
  readonly exchanges: Exchange[] = [];
  private readonly ports = new Set<number>();
  private readonly open = new WeakMap<ServerResponse, Exchange>();
  private readonly waiters = new Set<(ex: Exchange) => void>();

  private readonly onStart = (raw: unknown) => {
    const { request, response, socket } = raw as ServerMessage;
    const port = socket.localPort;
    if (port === undefined || !this.ports.has(port)) return;
    const ex: Exchange = {
      port,
      method: request.method ?? "GET",
      path: (request.url ?? "/").split("?")[0]!,
      url: request.url ?? "/",
      start: epochMs(),
      firstByte: undefined,
      writes: [],
      finish: undefined,
    };
    this.exchanges.push(ex);
    this.open.set(response, ex);
    for (const w of this.waiters) w(ex);
    const write = response.write.bind(response) as (...a: unknown[]) => boolean;
    const end = response.end.bind(response) as (...a: unknown[]) => ServerResponse;
    response.write = ((...args: unknown[]) => {
      ex.firstByte ??= epochMs();
      ex.writes.push(epochMs());
      return write(...args);
    }) as ServerResponse["write"];
    response.end = ((...args: unknown[]) => {
      ex.firstByte ??= epochMs();
      return end(...args);
    }) as ServerResponse["end"];
  };

  private readonly onFinish = (raw: unknown) => {
    const ex = this.open.get((raw as ServerMessage).response);
    if (ex) ex.finish = epochMs();
  };

  constructor() {
    subscribe("http.server.request.start", this.onStart);
    subscribe("http.server.response.finish", this.onFinish);
  }

  watch(port: number): void {
    this.ports.add(port);
  }

  /** Exchanges on `port` whose path matches, started within [from, to]. */
  select(port: number, path: RegExp, from = 0, to = Infinity): Exchange[] {
    return this.exchanges.filter((e) => e.port === port && path.test(e.path) && e.start >= from && e.start <= to);
  }

  /** The first exchange from now on for which `test` holds (checked when each request arrives). */
  next(test: (ex: Exchange) => boolean, timeoutMs: number): Promise<Exchange> {
    return new Promise((resolve, reject) => {
      const waiter = (ex: Exchange) => {
        if (!test(ex)) return;
        this.waiters.delete(waiter);
        clearTimeout(timer);
        resolve(ex);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching HTTP request within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Resolves once `check()` holds, re-checked whenever a request arrives. */
  until(check: () => boolean, timeoutMs: number): Promise<void> {
    if (check()) return Promise.resolve();
    return this.next(() => check(), timeoutMs).then(() => undefined);
  }

  clear(): void {
    this.exchanges.length = 0;
  }

  close(): void {
    unsubscribe("http.server.request.start", this.onStart);
    unsubscribe("http.server.response.finish", this.onFinish);
  }
}
