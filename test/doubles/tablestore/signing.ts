// Request authentication as Tablestore documents it (API 2015-12-31, "HTTP 请求" / 请求签名:
// https://developer.aliyun.com/ask/218299 and https://help.aliyun.com/document_detail/27300.html for
// the error codes; the SDK side is tablestore lib/signer.js):
//   required headers  x-ots-date (UTC, %Y-%m-%dT%H:%M:%S.000Z), x-ots-apiversion (2015-12-31),
//                     x-ots-accesskeyid, x-ots-instancename, x-ots-contentmd5 (base64 MD5 of the body),
//                     x-ots-signature; x-ots-ststoken with temporary credentials
//   StringToSign      CanonicalURI + "\n" + HttpRequestMethod + "\n" + CanonicalQueryString + "\n"
//                     + CanonicalHeaders + "\n", CanonicalHeaders = every x-ots-* header but the
//                     signature, lowercased, sorted, `name:value`, joined by "\n"
//   x-ots-signature   base64(HMAC-SHA1(AccessKeySecret, StringToSign))
// Failures: 400 OTSParameterInvalid "Missing header: …", 403 OTSAuthFailed ("The AccessKeyID does
// not exist.", "Signature mismatch.", "Mismatch between system time and x-ots-date: …", "Mismatch
// between MD5 value of request body and x-ots-contentmd5 in header.", "The instance is not found.").
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { OtsError } from "./errors.js";

export const API_VERSION = "2015-12-31";
/** How far x-ots-date may be from the server's clock (the docs give the error, not the bound; 15 min as for other Alibaba APIs). */
const MAX_SKEW_MS = 15 * 60_000;
const REQUIRED = ["x-ots-date", "x-ots-apiversion", "x-ots-accesskeyid", "x-ots-instancename", "x-ots-contentmd5", "x-ots-signature"];

export interface AccessKey {
  secret: string;
  /** Temporary (STS) credentials: the token every request must carry. */
  securityToken?: string;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function stringToSign(path: string, method: string, headers: IncomingHttpHeaders): string {
  const canonical = Object.keys(headers)
    .map((n) => n.toLowerCase())
    .filter((n) => n.startsWith("x-ots-") && n !== "x-ots-signature")
    .sort()
    .map((n) => `${n}:${header(headers, n) ?? ""}`)
    .join("\n");
  return `${path}\n${method}\n\n${canonical}\n`;
}

export function sign(secret: string, text: string): string {
  return createHmac("sha1", secret).update(text, "utf8").digest("base64");
}

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** Throws the service's error for a request that is not properly authenticated; returns the access key id. */
export function authenticate(
  req: { path: string; method: string; headers: IncomingHttpHeaders; body: Buffer },
  expected: { instance: string; keys: Map<string, AccessKey>; now: number },
): string {
  for (const name of REQUIRED)
    if (!header(req.headers, name)) throw new OtsError(400, "OTSParameterInvalid", `Missing header: ${name}.`);
  if (header(req.headers, "x-ots-apiversion") !== API_VERSION)
    throw new OtsError(400, "OTSUnsupportOperation", `Unsupported API version: ${String(header(req.headers, "x-ots-apiversion"))}.`);
  if (header(req.headers, "x-ots-instancename")!.toLowerCase() !== expected.instance.toLowerCase())
    throw new OtsError(403, "OTSAuthFailed", "The instance is not found.");
  const date = header(req.headers, "x-ots-date")!;
  const at = Date.parse(date);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(date) || Number.isNaN(at))
    throw new OtsError(400, "OTSParameterInvalid", `Invalid date format: ${date}.`);
  if (Math.abs(at - expected.now) > MAX_SKEW_MS) throw new OtsError(403, "OTSAuthFailed", `Mismatch between system time and x-ots-date: ${date}.`);
  const md5 = createHash("md5").update(req.body).digest("base64");
  if (header(req.headers, "x-ots-contentmd5") !== md5)
    throw new OtsError(403, "OTSAuthFailed", "Mismatch between MD5 value of request body and x-ots-contentmd5 in header.");
  const id = header(req.headers, "x-ots-accesskeyid")!;
  const key = expected.keys.get(id);
  if (!key) throw new OtsError(403, "OTSAuthFailed", "The AccessKeyID does not exist.");
  // Temporary credentials: the message is not published; the code is.
  if (key.securityToken !== undefined && header(req.headers, "x-ots-ststoken") !== key.securityToken)
    throw new OtsError(403, "OTSAuthFailed", "The security token is invalid or has expired.");
  const expectedSignature = sign(key.secret, stringToSign(req.path, req.method, req.headers));
  if (!same(header(req.headers, "x-ots-signature")!, expectedSignature)) throw new OtsError(403, "OTSAuthFailed", "Signature mismatch.");
  return id;
}
