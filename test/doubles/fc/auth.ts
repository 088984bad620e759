// Request authentication as FC checks it: Authorization `FC id:signature`, Date within 15 minutes,
// the account id header, STS security tokens, the recomputed signature and the body's content-md5.
import type { IncomingHttpHeaders } from "node:http";
import { fcErrors } from "./errors.js";
import { constantTimeEqual, contentMd5, sign, stringToSign } from "./signing.js";

export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface Credentials {
  accountId: string;
  /** access key id → secret */
  accessKeys: ReadonlyMap<string, string>;
  /** STS access key id → security token */
  securityTokens: ReadonlyMap<string, string>;
  now: () => number;
}

export interface SignedRequest {
  method: string;
  /** decoded path after `/2016-08-15` */
  apiPath: string;
  headers: IncomingHttpHeaders;
  /** set only for `/proxy/` paths, whose query is signed */
  proxyQuery: URLSearchParams | null;
  body: Buffer;
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

/** Returns the access key id on success; throws FcApiError otherwise. */
export function authenticate(req: SignedRequest, creds: Credentials): string {
  const authorization = single(req.headers, "authorization");
  if (!authorization) throw fcErrors.missingHeader("Authorization");
  const date = single(req.headers, "date");
  if (!date) throw fcErrors.missingHeader("Date");

  const match = /^FC ([^:\s]+):(\S+)$/.exec(authorization);
  if (!match) throw fcErrors.invalidArgument("the Authorization header must look like 'FC <accessKeyID>:<signature>'");
  const keyId = match[1]!;
  const signature = match[2]!;

  const account = single(req.headers, "x-fc-account-id");
  if (!account) throw fcErrors.missingHeader("X-Fc-Account-Id");
  if (account !== creds.accountId) throw fcErrors.accessDenied(`account '${account}' does not match this endpoint`);

  const at = Date.parse(date);
  if (Number.isNaN(at)) throw fcErrors.invalidArgument(`the Date header '${date}' is not an HTTP date`);
  if (Math.abs(creds.now() - at) > MAX_CLOCK_SKEW_MS) throw fcErrors.requestTimeTooSkewed(date);

  const secret = creds.accessKeys.get(keyId);
  if (secret === undefined) throw fcErrors.invalidAccessKeyId(keyId);
  if (keyId.startsWith("STS")) {
    const expected = creds.securityTokens.get(keyId);
    const token = single(req.headers, "x-fc-security-token");
    if (expected === undefined || token === undefined || !constantTimeEqual(token, expected)) {
      throw fcErrors.invalidSecurityToken();
    }
  }

  const expected = sign(secret, stringToSign(req.method, req.apiPath, req.headers, req.proxyQuery));
  if (!constantTimeEqual(signature, expected)) throw fcErrors.signatureNotMatch();

  const md5 = single(req.headers, "content-md5");
  if (md5 !== undefined) {
    const actual = contentMd5(req.body);
    if (md5 !== actual) {
      throw fcErrors.invalidArgument(`Content-MD5 '${md5}' does not match the MD5 of the request body '${actual}'`);
    }
  }
  return keyId;
}
