// The RAM API double: a node:http server speaking RAM 2015-05-01 RPC with V3 (ACS3-HMAC-SHA256)
// signatures, so the real @alicloud/ram20150501 client runs unchanged against it
// (`endpoint: "127.0.0.1:PORT"`, `protocol: "http"`). Verifies every request like Alibaba Cloud's
// gateway does and serves roles, custom policies, versions and attachments from memory.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { parse as parseQuery } from "node:querystring";
import { runAction, type Params } from "./actions.js";
import { canonicalRequest, constantTimeEqual, parseAuthorization, sha256Hex, signature } from "./signing.js";
import { RamError, RamState } from "./state.js";

export const RAM_VERSION = "2015-05-01";
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_BODY = 1024 * 1024;

export interface RamDoubleOptions {
  accountId: string;
  /** access key id → secret */
  accessKeys: Record<string, string>;
  /** STS access key id → the security token it must come with */
  securityTokens?: Record<string, string>;
  now?: () => number;
  host?: string;
  port?: number;
}

export interface RamRequestRecord {
  action: string;
  params: Params;
  status: number;
  code?: string;
}

export interface RamDouble {
  /** http://127.0.0.1:PORT (give the SDK `endpoint: "127.0.0.1:PORT"`, `protocol: "http"`) */
  url: string;
  state: RamState;
  requests: readonly RamRequestRecord[];
  close(): Promise<void>;
}

function single(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

function flat(q: ReturnType<typeof parseQuery>): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(q)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(",") : v;
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new RamError(400, "InvalidParameter", "request body too large"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function authenticate(req: IncomingMessage, url: URL, query: Params, body: Buffer, opts: RamDoubleOptions, now: number): void {
  const auth = single(req, "authorization");
  if (!auth) throw new RamError(400, "MissingAuthorization", "Authorization header is required (ACS3-HMAC-SHA256).");
  const parsed = parseAuthorization(auth);
  if (!parsed) throw new RamError(400, "IncompleteSignature", "The Authorization header is malformed.");
  const secret = opts.accessKeys[parsed.keyId];
  if (secret === undefined) throw new RamError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
  if (parsed.keyId.startsWith("STS.")) {
    const expected = opts.securityTokens?.[parsed.keyId];
    const token = single(req, "x-acs-security-token");
    if (!expected || !token || !constantTimeEqual(expected, token))
      throw new RamError(400, "InvalidSecurityToken.Malformed", "The security token you provided is invalid.");
  }
  for (const h of ["host", "x-acs-date", "x-acs-action", "x-acs-version", "x-acs-content-sha256"])
    if (!parsed.signedHeaders.includes(h)) throw new RamError(400, "IncompleteSignature", `The header "${h}" must be signed.`);
  const date = Date.parse(single(req, "x-acs-date") ?? "");
  if (Number.isNaN(date) || Math.abs(now - date) > MAX_SKEW_MS)
    throw new RamError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
  const payloadHash = single(req, "x-acs-content-sha256") ?? "";
  if (payloadHash !== sha256Hex(body)) throw new RamError(400, "InvalidParameter", "x-acs-content-sha256 does not match the body.");
  const headers: Record<string, string> = {};
  for (const h of parsed.signedHeaders) headers[h] = single(req, h) ?? "";
  const canonical = canonicalRequest({
    method: req.method ?? "GET",
    pathname: url.pathname,
    query,
    headers,
    signedHeaders: parsed.signedHeaders,
    payloadHash,
  });
  if (!constantTimeEqual(signature(secret, canonical), parsed.signature))
    throw new RamError(400, "SignatureDoesNotMatch", "Specified signature does not match our calculation.");
}

export async function startRamDouble(opts: RamDoubleOptions): Promise<RamDouble> {
  const now = opts.now ?? Date.now;
  const state = new RamState(opts.accountId, now);
  const requests: RamRequestRecord[] = [];

  const server = createServer((req, res) => {
    const requestId = state.newRequestId();
    let action = single(req, "x-acs-action") ?? "";
    let params: Params = {};
    const reply = (status: number, body: Record<string, unknown>, code?: string) => {
      requests.push({ action, params, status, ...(code ? { code } : {}) });
      const text = JSON.stringify({ RequestId: requestId, ...body });
      res.writeHead(status, { "content-type": "application/json;charset=utf-8", "content-length": Buffer.byteLength(text) });
      res.end(text);
    };
    (async () => {
      const url = new URL(req.url ?? "/", "http://ram-double.invalid");
      const query = flat(parseQuery(url.search.slice(1)));
      const body = await readBody(req);
      if (query.Signature !== undefined)
        throw new RamError(400, "InvalidParameter", "the RAM double speaks only V3 (ACS3-HMAC-SHA256) signatures");
      authenticate(req, url, query, body, opts, now());
      if (single(req, "x-acs-version") !== RAM_VERSION)
        throw new RamError(400, "InvalidVersion", `Specified parameter Version is not valid (this is RAM ${RAM_VERSION}).`);
      const form = (single(req, "content-type") ?? "").startsWith("application/x-www-form-urlencoded")
        ? flat(parseQuery(body.toString("utf8")))
        : {};
      params = { ...query, ...form };
      action = action || params.Action || "";
      reply(200, runAction(state, action, params));
    })().catch((err: unknown) => {
      const e = err instanceof RamError ? err : new RamError(500, "InternalError", "The request processing has failed due to some unknown error.");
      if (!(err instanceof RamError)) console.error("ram-double: internal error", err);
      reply(e.status, { HostId: "ram.aliyuncs.com", Code: e.code, Message: e.message }, e.code);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${address.address}:${address.port}`,
    state,
    requests,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
