// DingTalk outbound client: replies through the session webhook while it is valid, else the robot
// OpenAPI with a cached access token (refreshed once on InvalidAuthentication); media download URLs.
import * as z from "zod";
import type { DingTalkConfig } from "../config.js";
import { silentLogger, type Logger } from "../log.js";
import { DingTalkApiError, DingTalkHttp, apiError, type FetchLike, type JsonRequest } from "./http.js";
import type { Sleep } from "../retry.js";
import { MAX_MSG_PARAM_BYTES, openApiMessage, webhookBody, type OutgoingMessage, type ReplyTarget, type SendResult } from "./outgoing.js";
import type { CallPriority, RateGate } from "./rate-gate.js";
import { AccessTokenCache } from "./token.js";

export type { OutgoingMessage, ReplyTarget, SendResult } from "./outgoing.js";

/** A webhook whose expiry is closer than this is not used (the send itself takes time). */
export const WEBHOOK_SAFETY_MARGIN_MS = 30_000;

export interface DingTalkClientOptions {
  credentials: DingTalkConfig;
  apiBase: string;
  oapiBase: string;
  fetch?: FetchLike;
  now?: () => number;
  sleep?: Sleep;
  random?: () => number;
  log?: Logger;
  /** Per HTTP attempt, default 10 s. */
  timeoutMs?: number;
  /** Attempts per call on 5xx/network/throttling, default 4. */
  maxAttempts?: number;
  /** Share one token cache between clients of the same process. */
  tokens?: AccessTokenCache;
  /** Called once per HTTP attempt (token, send, download, card…) with the API name; see HttpOptions.onCall. */
  onApiCall?: (api: string) => Promise<void> | void;
  /** The app's API rate (channels.dingtalk.api_qps), shared by every client of the app in this process or table. */
  gate?: RateGate;
}

const WebhookAnswer = z.looseObject({ errcode: z.union([z.number(), z.string()]).optional(), errmsg: z.string().optional() });
const BatchSendAnswer = z.looseObject({
  processQueryKey: z.string().optional(),
  invalidStaffIdList: z.array(z.string()).nullish(),
  flowControlledStaffIdList: z.array(z.string()).nullish(),
});
const GroupSendAnswer = z.looseObject({ processQueryKey: z.string().optional() });
const DownloadAnswer = z.looseObject({ downloadUrl: z.string().url() });

export interface OpenApiRequest<S extends z.ZodType> {
  /** Name for logs, errors and call counting, e.g. "card.streaming". */
  api: string;
  path: string;
  body: unknown;
  schema: S;
  method?: "POST" | "PUT";
  check?: JsonRequest<S>["check"];
  maxAttempts?: number;
  /** "update": an intermediate call the app's rate gate may skip (see rate-gate.ts). */
  priority?: CallPriority;
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

export class DingTalkClient {
  private readonly http: DingTalkHttp;
  private readonly tokens: AccessTokenCache;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly apiBase: string;
  private readonly oapiOrigin: string | undefined;
  private readonly oapiBase: string;

  constructor(private readonly opts: DingTalkClientOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? silentLogger;
    this.apiBase = opts.apiBase.replace(/\/+$/, "");
    this.oapiOrigin = originOf(opts.oapiBase);
    this.oapiBase = opts.oapiBase.replace(/\/+$/, "");
    this.http = new DingTalkHttp({
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
      ...(opts.random ? { random: opts.random } : {}),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}),
      ...(opts.onApiCall ? { onCall: opts.onApiCall } : {}),
      ...(opts.gate ? { gate: opts.gate } : {}),
      log: this.log,
    });
    this.tokens = opts.tokens ?? new AccessTokenCache({ apiBase: this.apiBase, http: this.http, now: this.now });
  }

  /** Waits for the API-call counts this client started so far (see DingTalkHttp.countsSettled). */
  countsSettled(): Promise<void> {
    return this.http.countsSettled();
  }

  /** The app's current access token (for APIs this client does not wrap yet). */
  accessToken(): Promise<string> {
    return this.tokens.get(this.opts.credentials);
  }

  /** Sends one message; see ReplyTarget for how the route is chosen. */
  async send(target: ReplyTarget, message: OutgoingMessage): Promise<SendResult> {
    const webhook = this.webhookState(target);
    let fallbackReason = webhook.reason;
    if (webhook.url) {
      try {
        await this.http.request({
          api: "robot.sendBySession",
          method: "POST",
          url: webhook.url,
          body: webhookBody(message, target.conversationType === "group" ? target.atStaffIds : undefined),
          schema: WebhookAnswer,
          // A session webhook is the conversation's own URL, not an app API call (no app token).
          priority: false,
        });
        return { route: "webhook" };
      } catch (err) {
        if (!(err instanceof DingTalkApiError) || !(err.code === "300001" || err.retryable)) throw err;
        fallbackReason = err.code === "300001" ? "session webhook gone (300001)" : `session webhook failed (${err.code})`;
        this.log.warn("dingtalk: session webhook unusable, using the robot OpenAPI", { code: err.code });
      }
    }
    const sent = await this.sendOpenApi(target, message, fallbackReason);
    return fallbackReason ? { ...sent, fallbackReason } : sent;
  }

  /** A temporary URL for an inbound picture/audio/video/file (`downloadCode` from the message). */
  async downloadUrl(downloadCode: string, robotCode: string): Promise<string> {
    const answer = await this.callOpenApi({
      api: "robot.messageFiles.download",
      path: "/v1.0/robot/messageFiles/download",
      body: { downloadCode, robotCode },
      schema: DownloadAnswer,
    });
    return answer.downloadUrl;
  }

  /**
   * POSTs (or PUTs) to a new-API path with the access token header, retrying per the HTTP policy
   * (`maxAttempts` overrides it) and once more with a fresh token when DingTalk answers InvalidAuthentication.
   */
  async callOpenApi<S extends z.ZodType>(req: OpenApiRequest<S>): Promise<z.output<S>> {
    return this.withToken(req.api, (token) =>
      this.http.request({
        api: req.api,
        method: req.method ?? "POST",
        url: `${this.apiBase}${req.path}`,
        headers: { "x-acs-dingtalk-access-token": token },
        body: req.body,
        schema: req.schema,
        ...(req.check ? { check: req.check } : {}),
        ...(req.maxAttempts ? { maxAttempts: req.maxAttempts } : {}),
        ...(req.priority ? { priority: req.priority } : {}),
      }),
    );
  }

  /**
   * POSTs JSON to a legacy oapi path (`/topapi/...`) with the access token in the query, as those APIs
   * take it; errors name the API, never the URL (it holds the token).
   */
  async callOapi<S extends z.ZodType>(req: Omit<OpenApiRequest<S>, "method" | "check">): Promise<z.output<S>> {
    return this.withToken(req.api, (token) =>
      this.http.request({
        api: req.api,
        method: "POST",
        url: `${this.oapiBase}${req.path}?access_token=${encodeURIComponent(token)}`,
        body: req.body,
        schema: req.schema,
        ...(req.maxAttempts ? { maxAttempts: req.maxAttempts } : {}),
      }),
    );
  }

  /** Runs `call` with the current token, and once more with a fresh one when DingTalk rejects it. */
  private async withToken<T>(api: string, call: (token: string) => Promise<T>): Promise<T> {
    const token = await this.accessToken();
    try {
      return await call(token);
    } catch (err) {
      if (!(err instanceof DingTalkApiError) || !err.isAuthError) throw err;
      this.log.info("dingtalk: access token rejected, refreshing once", { api, code: err.code });
      this.tokens.invalidate(this.opts.credentials.clientId, token);
      return call(await this.accessToken());
    }
  }

  private webhookState(target: ReplyTarget): { url?: string; reason?: string } {
    const url = target.sessionWebhook;
    if (!url) return {};
    const origin = originOf(url);
    if (!origin || origin !== this.oapiOrigin) {
      this.log.warn("dingtalk: session webhook is not on the configured oapi host; not using it", { host: origin ?? "invalid" });
      return { reason: "session webhook not on the oapi host" };
    }
    const expiresAt = target.sessionWebhookExpiresAt;
    if (expiresAt !== undefined && expiresAt - WEBHOOK_SAFETY_MARGIN_MS <= this.now())
      return { reason: "session webhook expired" };
    return { url };
  }

  private async sendOpenApi(target: ReplyTarget, message: OutgoingMessage, webhookProblem: string | undefined): Promise<SendResult> {
    const { msgKey, msgParam } = openApiMessage(message);
    const param = JSON.stringify(msgParam);
    const bytes = Buffer.byteLength(param, "utf8");
    if (bytes > MAX_MSG_PARAM_BYTES)
      throw apiError("robot.send", 0, "msgParam.tooLong", `message is ${bytes} bytes, limit ${MAX_MSG_PARAM_BYTES}; split it (renderReply)`);

    if (target.conversationType === "group") {
      const answer = await this.callOpenApi({
        api: "robot.groupMessages.send",
        path: "/v1.0/robot/groupMessages/send",
        body: { robotCode: target.robotCode, openConversationId: target.conversationId, msgKey, msgParam: param },
        schema: GroupSendAnswer,
      });
      return answer.processQueryKey ? { route: "openapi", processQueryKey: answer.processQueryKey } : { route: "openapi" };
    }

    const staffId = target.staffId;
    if (!staffId)
      throw new DingTalkApiError({
        api: "robot.oToMessages.batchSend",
        status: 0,
        code: "noRoute",
        message: `cannot reach this 1:1 chat: the sender has no staffId (an external user, or the bot is not published to them), so only the session webhook can reply, and ${webhookProblem ?? "there is no session webhook"}`,
        requestId: undefined,
        retryable: false,
        throttled: false,
      });
    const answer = await this.callOpenApi({
      api: "robot.oToMessages.batchSend",
      path: "/v1.0/robot/oToMessages/batchSend",
      body: { robotCode: target.robotCode, userIds: [staffId], msgKey, msgParam: param },
      schema: BatchSendAnswer,
      check: (a) => {
        if (a.invalidStaffIdList?.includes(staffId))
          return apiError("robot.oToMessages.batchSend", 200, "invalidStaffId", "DingTalk does not know this staffId or the bot may not message them");
        if (a.flowControlledStaffIdList?.includes(staffId))
          return apiError("robot.oToMessages.batchSend", 200, "flowControlled", "too many messages to this user right now");
        return undefined;
      },
    });
    return answer.processQueryKey ? { route: "openapi", processQueryKey: answer.processQueryKey } : { route: "openapi" };
  }
}
