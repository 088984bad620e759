// Inbound media bytes (reference §4.5): asks DingTalk's download API for the temporary URL of a
// `downloadCode`, then fetches only that URL under a size cap and a deadline, refusing private,
// loopback and link-local addresses (checked at connect time, and again on every redirect).
// The one exception: when the configured DingTalk API base is itself loopback (local tests and
// doubles), private addresses are allowed — see `allowPrivateFor`.
import { lookup as dnsLookup } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";

export type DownloadFailure = "bad_url" | "blocked" | "too_large" | "timeout" | "http" | "network" | "redirects";

export class DownloadError extends Error {
  constructor(
    readonly reason: DownloadFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "DownloadError";
  }
}

export interface Downloaded {
  bytes: Buffer;
  /** The Content-Type header, without parameters, lower-cased. */
  contentType: string | undefined;
  /** The last path segment of the final URL, decoded (DingTalk names files `*.file` at times). */
  fileName: string | undefined;
}

export type ResolveHost = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export interface DownloadPolicy {
  maxBytes: number;
  /** For the whole download, redirects and body included. */
  timeoutMs: number;
  /** Allow private/loopback targets. Only for a loopback DingTalk API base (tests): use `allowPrivateFor`. */
  allowPrivate: boolean;
  /** Default 3. */
  maxRedirects?: number;
  /** Name resolution (default: the OS resolver, all addresses). */
  resolve?: ResolveHost;
  /** Which addresses count as private (default `isPrivateAddress`; tests narrow it to reach a local server). */
  isPrivate?: (address: string) => boolean;
}

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  PRIVATE.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const)
  PRIVATE.addSubnet(net, prefix, "ipv6");

/** True for loopback, private (RFC 1918, ULA), link-local, CGNAT, multicast and reserved addresses. */
export function isPrivateAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, "").toLowerCase();
  const family = isIP(ip);
  if (family === 4) return PRIVATE.check(ip, "ipv4");
  if (family !== 6) return true;
  const mapped = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(ip)?.[1];
  if (mapped) return PRIVATE.check(mapped, "ipv4");
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ip);
  if (hexMapped) {
    const n = (parseInt(hexMapped[1]!, 16) << 16) | parseInt(hexMapped[2]!, 16);
    return PRIVATE.check([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join("."), "ipv4");
  }
  return PRIVATE.check(ip, "ipv6");
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host.endsWith(".localhost") || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The allowlist exception, in one place: private targets are allowed only when the DingTalk API base
 * itself is a loopback address (the doubles in tests and local runs). Production bases never are.
 */
export function allowPrivateFor(apiBase: string): boolean {
  try {
    return isLoopbackHost(new URL(apiBase).hostname);
  } catch {
    return false;
  }
}

const defaultResolve: ResolveHost = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

type Blocked = (address: string) => boolean;

function blockedBy(policy: DownloadPolicy): Blocked {
  if (policy.allowPrivate) return () => false;
  return policy.isPrivate ?? isPrivateAddress;
}

/** A `lookup` for node:http that refuses hostnames resolving to any blocked address. */
function guardedLookup(resolve: ResolveHost, blocked: Blocked): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const refused = addresses.find((a) => blocked(a.address));
        if (refused) {
          callback(new DownloadError("blocked", `refusing ${hostname}: it resolves to a private address`), "", 4);
          return;
        }
        if (addresses.length === 0) {
          callback(new DownloadError("network", `${hostname} did not resolve`), "", 4);
          return;
        }
        const wanted = options.family === 6 || options.family === 4 ? addresses.filter((a) => a.family === options.family) : addresses;
        const list = wanted.length > 0 ? wanted : addresses;
        if (options.all) (callback as unknown as (e: null, a: typeof list) => void)(null, list);
        else callback(null, list[0]!.address, list[0]!.family);
      },
      (err: unknown) => callback(err as NodeJS.ErrnoException, "", 4),
    );
  };
}

/** Scheme, credentials and literal-IP checks (hostnames are checked when they resolve, at connect time). */
function checkUrl(raw: string, blocked: Blocked): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DownloadError("bad_url", "the download URL is not a valid URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new DownloadError("bad_url", `refusing a ${url.protocol} URL`);
  if (url.username || url.password) throw new DownloadError("bad_url", "refusing a URL with credentials");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (isIP(host) !== 0 && blocked(host)) throw new DownloadError("blocked", `refusing ${host}: a private or loopback address`);
  return url;
}

function fileNameOf(url: URL): string | undefined {
  const last = url.pathname.split("/").pop();
  if (!last) return undefined;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** GET one URL under the policy; follows at most `maxRedirects` redirects, each re-checked. */
export async function download(rawUrl: string, policy: DownloadPolicy): Promise<Downloaded> {
  const deadline = AbortSignal.timeout(policy.timeoutMs);
  const blocked = blockedBy(policy);
  const lookup = guardedLookup(policy.resolve ?? defaultResolve, blocked);
  let url = checkUrl(rawUrl, blocked);
  for (let hop = 0; ; hop++) {
    const res = await get(url, lookup, deadline, policy.timeoutMs);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.destroy();
      if (hop >= (policy.maxRedirects ?? 3)) throw new DownloadError("redirects", "too many redirects");
      url = checkUrl(new URL(res.headers.location, url).toString(), blocked);
      continue;
    }
    if (status < 200 || status >= 300) {
      res.destroy();
      throw new DownloadError("http", `the file server answered HTTP ${status}`, status);
    }
    const declared = Number(res.headers["content-length"]);
    if (Number.isFinite(declared) && declared > policy.maxBytes) {
      res.destroy();
      throw new DownloadError("too_large", `the file is ${declared} bytes, limit ${policy.maxBytes}`);
    }
    const bytes = await readCapped(res, policy.maxBytes, deadline, policy.timeoutMs);
    const type = res.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
    return { bytes, contentType: type || undefined, fileName: fileNameOf(url) };
  }
}

function timeoutError(ms: number): DownloadError {
  return new DownloadError("timeout", `the download took longer than ${ms} ms`);
}

function get(url: URL, lookup: LookupFunction, deadline: AbortSignal, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (deadline.aborted) {
      reject(timeoutError(timeoutMs));
      return;
    }
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(url, { method: "GET", lookup, signal: deadline, headers: { accept: "*/*" } }, resolve);
    req.on("error", (err) => {
      if (err instanceof DownloadError) reject(err);
      else if (deadline.aborted) reject(timeoutError(timeoutMs));
      else reject(new DownloadError("network", `cannot fetch the file (${(err as NodeJS.ErrnoException).code ?? err.message})`));
    });
    req.end();
  });
}

function readCapped(res: IncomingMessage, maxBytes: number, deadline: AbortSignal, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failure: DownloadError | undefined;
    const cutOff = () =>
      reject(failure ?? (deadline.aborted ? timeoutError(timeoutMs) : new DownloadError("network", "the download was cut off")));
    res.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        failure ??= new DownloadError("too_large", `the file is larger than ${maxBytes} bytes`);
        res.destroy();
        cutOff();
        return;
      }
      chunks.push(chunk);
    });
    res.on("end", () => (failure ? cutOff() : resolve(Buffer.concat(chunks))));
    res.on("error", cutOff);
    res.on("aborted", cutOff);
    res.on("close", () => {
      if (!res.complete) cutOff();
    });
  });
}

/** DingTalk's download API plus the guarded fetch: a `downloadCode` in, the bytes out. */
export class MediaDownloader {
  constructor(
    private readonly client: { downloadUrl(downloadCode: string, robotCode: string): Promise<string> },
    private readonly policy: Omit<DownloadPolicy, "maxBytes">,
  ) {}

  async fetch(downloadCode: string, robotCode: string, maxBytes: number): Promise<Downloaded> {
    const url = await this.client.downloadUrl(downloadCode, robotCode);
    return download(url, { ...this.policy, maxBytes });
  }
}
