// The DingTalk double's state: registered apps and their tokens, session webhooks, downloadable
// files, queued faults, and the record of every call and every delivered message.
import { randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { CardInstance } from "./cards.js";
import type { FaultSpec } from "./faults.js";

export interface App {
  clientId: string;
  clientSecret: string;
  robotCode: string;
  tokenTtlSeconds: number;
}

export interface Token {
  token: string;
  clientId: string;
  expiresAt: number;
}

export interface Conversation {
  conversationId: string;
  conversationType: "direct" | "group";
  /** The 1:1 partner (direct chats). */
  staffId?: string;
  robotCode?: string;
}

export interface SessionWebhook extends Conversation {
  session: string;
  url: string;
  expiresAt: number;
}

export interface StoredFile {
  id: string;
  downloadCode: string;
  robotCode: string | undefined;
  bytes: Buffer;
  contentType: string;
  fileName: string | undefined;
}

export interface RecordedCall {
  /** Route name, e.g. "robot.groupMessages.send"; "unknown" for paths the double does not serve. */
  route: string;
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Parsed JSON body, the raw text when not JSON, undefined when empty. */
  body: unknown;
  status: number;
  /** The double's clock, ms. */
  time: number;
  /** Set when a fault produced the answer. */
  fault?: string;
}

export interface SentMessage {
  route: "webhook" | "openapi";
  robotCode: string | undefined;
  conversationType: "direct" | "group";
  /** Known for group sends and webhooks; for 1:1 OpenAPI sends when a session webhook told the double the chat. */
  conversationId: string | undefined;
  /** 1:1 OpenAPI sends: the recipient staff id (one record per recipient). */
  userId?: string;
  /** Normalised: "text" | "markdown" | "actionCard" | "link" | "feedCard" | "image" | "audio" | "file" | "video". */
  msgtype: string;
  /** OpenAPI sends: the msgKey as sent. */
  msgKey?: string;
  title?: string;
  text?: string;
  buttons?: { title: string; url: string }[];
  atUserIds?: string[];
  processQueryKey?: string;
  time: number;
}

/** Routes DingTalk does not count against the monthly API quota (reference §3.3: token/auth/contacts exempt). */
export const QUOTA_EXEMPT_ROUTES: ReadonlySet<string> = new Set([
  "oauth2.accessToken",
  "gettoken",
  "files.get",
  "robot.sendBySession",
  "gateway.connections.open",
  "gateway.connect",
  "contact.users.search",
  "topapi.v2.user.get",
  "topapi.v2.department.get",
  "unknown",
]);

/** What the double tells listeners (e.g. the playground) as it happens. */
export interface DoubleEvents {
  /** A message was delivered; `session` is the session webhook it went through, if any. */
  sent: [message: SentMessage, via: { session?: string }];
  /** An AI card was created or an update was applied to it (`card` is the live instance). */
  card: [card: CardInstance];
}

export class DoubleState {
  readonly apps = new Map<string, App>();
  readonly tokens = new Map<string, Token>();
  readonly sessions = new Map<string, SessionWebhook>();
  readonly files = new Map<string, StoredFile>();
  readonly faults: Array<FaultSpec & { remaining: number }> = [];
  readonly calls: RecordedCall[] = [];
  readonly sentMessages: SentMessage[] = [];
  /** Set once the server listens. */
  baseUrl = "";
  /** The monthly API quota: once `used` reaches `limit`, counted routes answer 403 ApiCountLimitForOrg. */
  readonly quota: { limit: number | undefined; used: number } = { limit: undefined, used: 0 };
  /**
   * Calls per second each app may make to each API; a call beyond it in the same second is throttled.
   * DingTalk: "标准版钉钉组织调用钉钉接口，每秒调用次数不能超过20次" (调用频次与限流,
   * open.dingtalk.com/document/development/how-to-process-api-throttling-on-the-dingtalk-server).
   * undefined: unlimited.
   */
  readonly rate: { qps: number | undefined } = { qps: 20 };
  private readonly rateWindows = new Map<string, { second: number; calls: number }>();
  /** Modules' own records to forget on `reset` (e.g. AI cards). */
  readonly resetHooks: Array<() => void> = [];
  /** Deliveries and card changes, as they happen. */
  readonly events = new EventEmitter<DoubleEvents>();
  private offsetMs = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  now(): number {
    return this.clock() + this.offsetMs;
  }

  /** Moves the double's clock forward (tokens and session webhooks expire by it). */
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  addApp(clientId: string, clientSecret: string, opts: { robotCode?: string; tokenTtlSeconds?: number } = {}): App {
    const app: App = { clientId, clientSecret, robotCode: opts.robotCode ?? clientId, tokenTtlSeconds: opts.tokenTtlSeconds ?? 7200 };
    this.apps.set(clientId, app);
    return app;
  }

  appByRobotCode(robotCode: string): App | undefined {
    for (const app of this.apps.values()) if (app.robotCode === robotCode) return app;
    return undefined;
  }

  /** The app's valid token, extended, or a new one (DingTalk returns the same token while valid). */
  issueToken(app: App): Token {
    const now = this.now();
    for (const t of this.tokens.values()) {
      if (t.clientId === app.clientId && t.expiresAt > now) {
        t.expiresAt = now + app.tokenTtlSeconds * 1000;
        return t;
      }
    }
    const token: Token = { token: randomBytes(16).toString("hex"), clientId: app.clientId, expiresAt: now + app.tokenTtlSeconds * 1000 };
    this.tokens.set(token.token, token);
    return token;
  }

  validToken(value: string): Token | undefined {
    const t = this.tokens.get(value);
    return t && t.expiresAt > this.now() ? t : undefined;
  }

  /** Expires every token (of one app, or all) now, so their next use answers InvalidAuthentication. */
  expireTokens(clientId?: string): void {
    for (const [key, t] of this.tokens) if (!clientId || t.clientId === clientId) this.tokens.delete(key);
  }

  createSession(conv: Conversation, opts: { expiresAt?: number; ttlMs?: number } = {}): SessionWebhook {
    const session = randomBytes(16).toString("hex");
    const hook: SessionWebhook = {
      ...conv,
      session,
      url: `${this.baseUrl}/robot/sendBySession?session=${session}`,
      expiresAt: opts.expiresAt ?? this.now() + (opts.ttlMs ?? 90 * 60 * 1000),
    };
    this.sessions.set(session, hook);
    return hook;
  }

  /** A direct conversation the double knows for this staff id (from session webhooks), if any. */
  directConversation(staffId: string, robotCode: string): string | undefined {
    for (const s of this.sessions.values())
      if (s.conversationType === "direct" && s.staffId === staffId && (!s.robotCode || s.robotCode === robotCode)) return s.conversationId;
    return undefined;
  }

  addFile(content: Buffer | string, opts: { fileName?: string; contentType?: string; robotCode?: string } = {}): StoredFile {
    const file: StoredFile = {
      id: randomUUID(),
      downloadCode: `dc${randomBytes(12).toString("base64url")}`,
      robotCode: opts.robotCode,
      bytes: typeof content === "string" ? Buffer.from(content, "utf8") : content,
      contentType: opts.contentType ?? "application/octet-stream",
      fileName: opts.fileName,
    };
    this.files.set(file.downloadCode, file);
    return file;
  }

  /** Records a delivered message and tells `events` listeners. */
  recordSent(message: SentMessage, via: { session?: string } = {}): void {
    this.sentMessages.push(message);
    this.events.emit("sent", message, via);
  }

  addFault(spec: FaultSpec): void {
    this.faults.push({ ...spec, remaining: spec.times ?? 1 });
  }

  /** Takes one use of the first fault matching this route, if any. */
  takeFault(routeName: string, path: string): FaultSpec | undefined {
    const i = this.faults.findIndex((f) => f.remaining > 0 && (f.route === "*" || f.route === routeName || f.route === path));
    if (i < 0) return undefined;
    const fault = this.faults[i]!;
    fault.remaining--;
    if (fault.remaining <= 0) this.faults.splice(i, 1);
    return fault;
  }

  /** Counts a call against the quota; true when the quota was already used up (the call is refused). */
  overQuota(route: string): boolean {
    if (QUOTA_EXEMPT_ROUTES.has(route)) return false;
    if (this.quota.limit !== undefined && this.quota.used >= this.quota.limit) return true;
    this.quota.used++;
    return false;
  }

  /** Counts an app's call to an API in the current second; true when that second's calls are used up. */
  overRate(route: string, clientId: string | undefined): boolean {
    if (!clientId || this.rate.qps === undefined) return false;
    const key = `${clientId} ${route}`;
    const second = Math.floor(this.now() / 1000);
    const w = this.rateWindows.get(key);
    if (!w || w.second !== second) {
      this.rateWindows.set(key, { second, calls: 1 });
      return false;
    }
    if (w.calls >= this.rate.qps) return true;
    w.calls++;
    return false;
  }

  /** The app a request's access token (header or legacy `access_token` query) belongs to, if valid. */
  appOfToken(headerToken: string | undefined, queryToken: string | null): string | undefined {
    const t = this.tokens.get(headerToken ?? queryToken ?? "");
    return t && t.expiresAt > this.now() ? t.clientId : undefined;
  }

  /** Forgets calls, sent messages, faults, the quota and modules' records; apps, tokens, sessions and files stay. */
  reset(): void {
    this.rateWindows.clear();
    this.quota.limit = undefined;
    this.quota.used = 0;
    for (const hook of this.resetHooks) hook();
    this.calls.length = 0;
    this.sentMessages.length = 0;
    this.faults.length = 0;
  }
}

export function requestId(): string {
  return randomUUID().toUpperCase();
}
