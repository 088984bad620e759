// Alibaba Cloud's ACS3-HMAC-SHA256 request signature (V3), recomputed on the server side exactly as
// @alicloud/openapi-core builds it: canonical request over method, path, sorted query, the signed
// headers (host, content-type, x-acs-*) and the body's SHA-256, then HMAC-SHA256 with the secret.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const ALGORITHM = "ACS3-HMAC-SHA256";

/** openapi-core's percent-encoding for query values (RFC 3986: also !'()*). */
export function acsEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/!/g, "%21")
    .replace(/'/g, "%27")
    .replace(/\(/g, "%28")
    .replace(/\)/g, "%29")
    .replace(/\*/g, "%2A");
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export interface CanonicalInput {
  method: string;
  /** the raw path as sent, e.g. "/" */
  pathname: string;
  query: Record<string, string>;
  /** lowercase header name → value */
  headers: Record<string, string>;
  signedHeaders: string[];
  payloadHash: string;
}

export function canonicalRequest(c: CanonicalInput): string {
  const uri = c.pathname.replace(/\+/g, "%20").replace(/\*/g, "%2A").replace(/%7E/g, "~");
  const query = Object.keys(c.query)
    .sort()
    .map((k) => `${k}=${acsEncode(c.query[k] ?? "")}`)
    .join("&");
  const headers = c.signedHeaders.map((h) => `${h}:${(c.headers[h] ?? "").trim()}\n`).join("");
  return `${c.method}\n${uri}\n${query}\n${headers}\n${c.signedHeaders.join(";")}\n${c.payloadHash}`;
}

export function signature(secret: string, canonical: string): string {
  const stringToSign = `${ALGORITHM}\n${sha256Hex(canonical)}`;
  return createHmac("sha256", secret).update(stringToSign).digest("hex");
}

/** Parses `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`. */
export function parseAuthorization(value: string): { keyId: string; signedHeaders: string[]; signature: string } | undefined {
  const m = /^ACS3-HMAC-SHA256 Credential=([^,\s]+),SignedHeaders=([^,\s]*),Signature=([0-9a-f]+)$/.exec(value);
  if (!m) return undefined;
  return { keyId: m[1]!, signedHeaders: m[2]!.split(";").filter(Boolean), signature: m[3]! };
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
