// FC 2016-08-15 request signing, recomputed on the server side: string to sign, HMAC-SHA256 and
// the content-md5 form the SDK sends (base64 of the lowercase hex MD5 string).
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export const API_VERSION = "2016-08-15";

/** base64 of the lowercase hex MD5 of `body`: what @alicloud/fc2 puts in content-md5. */
export function contentMd5(body: Uint8Array): string {
  return Buffer.from(createHash("md5").update(body).digest("hex"), "utf8").toString("base64");
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? v.join(",") : (v ?? "");
}

/**
 * METHOD \n content-md5 \n content-type \n date \n + sorted `x-fc-*:value\n` + `/2016-08-15` + decoded
 * path, and for `/proxy/` paths "\n" + the sorted `k=v` lines of the query (one per value).
 */
export function stringToSign(
  method: string,
  decodedApiPath: string,
  headers: IncomingHttpHeaders,
  proxyQuery: URLSearchParams | null,
): string {
  const fcHeaders = Object.keys(headers)
    .filter((k) => k.startsWith("x-fc-"))
    .sort()
    .map((k) => `${k}:${headerValue(headers, k)}\n`)
    .join("");
  let out =
    `${method}\n${headerValue(headers, "content-md5")}\n${headerValue(headers, "content-type")}\n` +
    `${headerValue(headers, "date")}\n${fcHeaders}/${API_VERSION}${decodedApiPath}`;
  if (proxyQuery) {
    const lines = [...proxyQuery].map(([k, v]) => `${k}=${v}`).sort();
    out += "\n" + lines.join("\n");
  }
  return out;
}

export function sign(secret: string, text: string): string {
  return createHmac("sha256", secret).update(text, "utf8").digest("base64");
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, "utf8");
  const bb = Buffer.from(b, "utf8");
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
