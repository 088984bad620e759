// The DingTalk double's HTTP server: one node:http server answering both api.dingtalk.com and
// oapi.dingtalk.com paths through a Router, recording calls and applying fault switches.
// `startDingTalkDouble` is the in-process API; test/doubles/dingtalk/main.ts runs it as a standalone process.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CardPlatform, type CardInstance, type CardSettings } from "./cards.js";
import { describeFault, faultResponse, quotaResponse, rateResponse, type FaultSpec } from "./faults.js";
import { authRoutes } from "./routes/auth.js";
import { ContactDirectory, contactRoutes } from "./routes/contacts.js";
import { cardControlRoutes, controlRoutes } from "./routes/control.js";
import { fileRoutes } from "./routes/files.js";
import { RobotAudience, robotRoutes } from "./routes/robot.js";
import { webhookRoutes } from "./routes/webhook.js";
import { Router, type DoubleRequest, type DoubleResponse } from "./router.js";
import { DoubleState, type App, type Conversation, type RecordedCall, type SentMessage } from "./state.js";
import { installStreamGateway, type StreamGateway, type StreamGatewayOptions } from "./stream/index.js";

export type { FaultSpec, ThrottleCode } from "./faults.js";
export type { App, Conversation, RecordedCall, SentMessage } from "./state.js";
export type { CardInstance, CardSettings, CardStatus, CardUpdate } from "./cards.js";

const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** What a module (Stream gateway, cards, playground…) gets to extend the double. */
export interface DoubleContext {
  router: Router;
  state: DoubleState;
  server: Server;
}
export type DoubleModule = (ctx: DoubleContext) => void | Promise<void>;

export interface DingTalkDoubleOptions {
  port?: number;
  host?: string;
  /** The double's clock (tokens and session webhooks expire by it). */
  now?: () => number;
  /** Apps to register at start. */
  apps?: Array<{ clientId: string; clientSecret: string; robotCode?: string; tokenTtlSeconds?: number }>;
  /** Extra route sets / WebSocket handlers, installed after the built-in routes. */
  modules?: DoubleModule[];
  /** Stream gateway settings (redelivery, connection pick, ticket lifetime). */
  stream?: StreamGatewayOptions;
}

export interface DingTalkDouble {
  /** Base URL, e.g. http://127.0.0.1:51234 — use it as both apiBase and oapiBase. */
  url: string;
  port: number;
  /** Every non-control call, in order (live array). */
  calls: RecordedCall[];
  state: DoubleState;
  router: Router;
  server: Server;
  /** The Stream gateway: push frames, read ACKs, ping, disconnect and drop connections (see README). */
  stream: StreamGateway;
  /** Registers an app; robotCode defaults to the client id. */
  app(clientId: string, clientSecret: string, opts?: { robotCode?: string; tokenTtlSeconds?: number }): App;
  /** Mints a session webhook URL for a conversation (default lifetime 90 min, or `expiresAt`/`ttlMs`). */
  sessionWebhookFor(conversation: Conversation, opts?: { expiresAt?: number; ttlMs?: number }): { url: string; expiresAt: number };
  /** Registers downloadable bytes; returns the downloadCode to put in an inbound message. */
  addFile(content: Buffer | string, opts?: { fileName?: string; contentType?: string; robotCode?: string }): string;
  /** The company directory behind the contact APIs (users, departments, revocable permissions). */
  contacts: ContactDirectory;
  /**
   * Who the robot send APIs reach: `sendPermission` (qyapi_robot_sendmsg), `unknownStaff` (batchSend's
   * invalidStaffIdList), `unknownGroups` (groupMessages/send's invalid.openConversationId),
   * `flowControlled` (staff id → calls held back). Cleared by `reset`.
   */
  robot: RobotAudience;
  /** Registers an AI card template id (unknown ids answer `param.templateNotExist`). */
  cardTemplate(templateId: string): void;
  /** AI cards created so far, with their streaming updates. */
  cards(): CardInstance[];
  card(outTrackId: string): CardInstance | undefined;
  /** Card platform limits (e.g. the streaming content size). */
  cardSettings(settings: Partial<CardSettings>): void;
  /**
   * The org's monthly API quota: after `limit` more counted calls (token, webhook and file fetches are
   * exempt) every counted call answers 403 `Forbidden.AccessDenied.ApiCountLimitForOrg`; undefined lifts it.
   */
  setMonthlyQuota(limit: number | undefined): void;
  /**
   * Calls per second each app may make to each API (default 20, DingTalk's documented limit for a
   * standard org); beyond it 403 `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi` (legacy: errcode
   * 90018). undefined lifts it.
   */
  setRateLimit(qps: number | undefined): void;
  /** Queues a fault for the next `times` calls of a route. */
  fault(spec: FaultSpec): void;
  clearFaults(): void;
  /** Expires tokens now (all, or one app's), so their next use answers InvalidAuthentication. */
  expireTokens(clientId?: string): void;
  /** Moves the double's clock forward (due Stream redeliveries go out at once). */
  advance(ms: number): void;
  now(): number;
  /** Calls of one route. */
  callsTo(route: string): RecordedCall[];
  /** Messages delivered so far (webhook and OpenAPI), normalised. */
  sent(): SentMessage[];
  /** Forgets calls, sent messages, faults and the Stream gateway's records. */
  reset(): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error("body too large"));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function headerRecord(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

function write(res: ServerResponse, r: DoubleResponse): void {
  const isRaw = Buffer.isBuffer(r.body) || typeof r.body === "string";
  const payload = isRaw ? (r.body as Buffer | string) : r.body === undefined ? "" : JSON.stringify(r.body);
  res.writeHead(r.status, {
    "content-type": isRaw ? "text/plain; charset=utf-8" : "application/json;charset=utf-8",
    ...r.headers,
    "content-length": String(Buffer.byteLength(payload)),
  });
  res.end(payload);
}

async function handle(router: Router, state: DoubleState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://double");
  const method = (req.method ?? "GET").toUpperCase();
  let raw: Buffer;
  try {
    raw = await readBody(req);
  } catch {
    write(res, { status: 413, body: { code: "invalidParameter.body", message: "body too large" } });
    return;
  }
  let parsed: unknown;
  let jsonError = false;
  if (raw.length > 0) {
    try {
      parsed = JSON.parse(raw.toString("utf8"));
    } catch {
      jsonError = true;
    }
  }
  const found = router.match(method, url.pathname);
  const request: DoubleRequest = {
    method,
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    rawBody: raw,
    json: parsed,
    jsonError,
    params: found?.params ?? {},
  };
  if (found?.route.control) {
    write(res, await found.route.handle(request, state));
    return;
  }

  const call: RecordedCall = {
    route: found?.route.name ?? "unknown",
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: headerRecord(req),
    body: raw.length === 0 ? undefined : jsonError ? raw.toString("utf8") : parsed,
    status: 0,
    time: state.now(),
  };
  state.calls.push(call);

  const fault = state.takeFault(call.route, url.pathname);
  if (fault) {
    call.fault = describeFault(fault);
    if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    const forced = faultResponse(fault);
    if (forced === "drop") {
      req.socket.destroy();
      return;
    }
    if (forced) {
      call.status = forced.status;
      write(res, forced);
      return;
    }
  }
  const header = req.headers["x-acs-dingtalk-access-token"];
  if (state.overRate(call.route, state.appOfToken(Array.isArray(header) ? header[0] : header, url.searchParams.get("access_token")))) {
    const throttled = rateResponse(url.pathname);
    call.status = throttled.status;
    call.fault = "rate";
    write(res, throttled);
    return;
  }
  if (state.overQuota(call.route)) {
    const refused = quotaResponse();
    call.status = refused.status;
    call.fault = "monthlyQuota";
    write(res, refused);
    return;
  }
  const response = found
    ? await found.route.handle(request, state)
    : { status: 404, body: { code: "InvalidAction.NotFound", message: `no such API: ${method} ${url.pathname}`, requestid: "" } };
  call.status = response.status;
  write(res, response);
}

/** Starts the double on 127.0.0.1 (port 0 = any free port). */
export async function startDingTalkDouble(opts: DingTalkDoubleOptions = {}): Promise<DingTalkDouble> {
  const state = new DoubleState(opts.now);
  const contacts = new ContactDirectory();
  const robot = new RobotAudience();
  state.resetHooks.push(() => robot.clear());
  const router = new Router().add(...controlRoutes, ...authRoutes, ...webhookRoutes, ...robotRoutes(robot), ...fileRoutes, ...contactRoutes(contacts));
  const server = createServer((req, res) => {
    handle(router, state, req, res).catch((err: unknown) => {
      if (!res.headersSent) write(res, { status: 500, body: { code: "double.crash", message: String(err) } });
      else res.destroy();
    });
  });
  // Node's default, so clients keep their connections as they do with DingTalk's servers (at 1 s, the
  // `Keep-Alive: timeout=1` hint made fetch (undici) close every connection after one request).
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  const url = `http://${host}:${port}`;
  state.baseUrl = url;
  for (const a of opts.apps ?? []) state.addApp(a.clientId, a.clientSecret, a);
  const cards = new CardPlatform(state);
  router.add(...cards.routes(), ...cardControlRoutes(cards));
  const stream = installStreamGateway({ router, state, server }, opts.stream);
  for (const mod of opts.modules ?? []) await mod({ router, state, server });

  return {
    url,
    port,
    calls: state.calls,
    state,
    router,
    server,
    stream,
    contacts,
    robot,
    app: (clientId, clientSecret, o) => state.addApp(clientId, clientSecret, o),
    sessionWebhookFor: (conversation, o) => {
      const hook = state.createSession(conversation, o);
      return { url: hook.url, expiresAt: hook.expiresAt };
    },
    addFile: (content, o) => state.addFile(content, o).downloadCode,
    cardTemplate: (templateId) => {
      cards.templates.add(templateId);
    },
    cards: () => cards.list(),
    card: (outTrackId) => cards.instances.get(outTrackId),
    cardSettings: (settings) => Object.assign(cards.settings, settings),
    setMonthlyQuota: (limit) => {
      state.quota.limit = limit;
      state.quota.used = 0;
    },
    setRateLimit: (qps) => {
      state.rate.qps = qps;
    },
    fault: (spec) => state.addFault(spec),
    clearFaults: () => {
      state.faults.length = 0;
    },
    expireTokens: (clientId) => state.expireTokens(clientId),
    advance: (ms) => {
      state.advance(ms);
      stream.tick();
    },
    now: () => state.now(),
    callsTo: (route) => state.calls.filter((c) => c.route === route),
    sent: () => [...state.sentMessages],
    reset: () => {
      state.reset();
      stream.reset();
    },
    close: async () => {
      await stream.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
