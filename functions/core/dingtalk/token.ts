// Access tokens for the new OpenAPI (reference §3.1): fetched with the app's client id/secret,
// cached per app until 5 minutes before expiry, one shared in-flight refresh per app.
import * as z from "zod";
import { registerSecret } from "../log.js";
import { DingTalkApiError, type DingTalkHttp } from "./http.js";

export interface AppCredentials {
  clientId: string;
  clientSecret: string;
}

const TokenSchema = z.looseObject({
  accessToken: z.string().min(1),
  expireIn: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]),
});

export const REFRESH_MARGIN_MS = 5 * 60 * 1000;

interface Cached {
  token: string;
  /** When we stop using it (expiry minus the refresh margin), ms. */
  refreshAt: number;
}

export interface AccessTokenCacheOptions {
  apiBase: string;
  http: DingTalkHttp;
  now?: () => number;
  refreshMarginMs?: number;
}

export class AccessTokenCache {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly now: () => number;
  private readonly margin: number;

  constructor(private readonly opts: AccessTokenCacheOptions) {
    this.now = opts.now ?? Date.now;
    this.margin = opts.refreshMarginMs ?? REFRESH_MARGIN_MS;
  }

  /** A valid token for the app: cached, or from the one refresh in flight, or freshly fetched. */
  get(app: AppCredentials): Promise<string> {
    const hit = this.cache.get(app.clientId);
    if (hit && this.now() < hit.refreshAt) return Promise.resolve(hit.token);
    const pending = this.inflight.get(app.clientId);
    if (pending) return pending;
    const fresh = this.fetchToken(app).finally(() => this.inflight.delete(app.clientId));
    this.inflight.set(app.clientId, fresh);
    return fresh;
  }

  /**
   * Drops the cached token (after DingTalk said `InvalidAuthentication`). With `staleToken`, only
   * when that is still the cached one, so many callers failing at once cause one refresh, not many.
   */
  invalidate(clientId: string, staleToken?: string): void {
    const hit = this.cache.get(clientId);
    if (hit && (staleToken === undefined || hit.token === staleToken)) this.cache.delete(clientId);
  }

  private async fetchToken(app: AppCredentials): Promise<string> {
    let data: z.output<typeof TokenSchema>;
    try {
      data = await this.opts.http.request({
        api: "oauth2.accessToken",
        method: "POST",
        url: `${this.opts.apiBase}/v1.0/oauth2/accessToken`,
        body: { appKey: app.clientId, appSecret: app.clientSecret },
        schema: TokenSchema,
        priority: false,
      });
    } catch (err) {
      if (err instanceof DingTalkApiError && (err.code === "invalidClientIdOrSecret" || err.code === "40096" || err.code === "40089"))
        throw new DingTalkApiError({
          api: err.api,
          status: err.status,
          code: err.code,
          message: `DingTalk rejected client id "${app.clientId}" or its client secret; check channels.dingtalk.client_id and client_secret (DINGTALK_CLIENT_ID / DINGTALK_CLIENT_SECRET)`,
          requestId: err.requestId,
          retryable: false,
          throttled: false,
        });
      throw err;
    }
    registerSecret(data.accessToken);
    const lifetime = Math.max(0, data.expireIn * 1000);
    const margin = Math.min(this.margin, lifetime / 2);
    this.cache.set(app.clientId, { token: data.accessToken, refreshAt: this.now() + lifetime - margin });
    return data.accessToken;
  }
}
