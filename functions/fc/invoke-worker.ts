// Dispatch for FC: an async invocation of the worker through FC's 2016-08-15 API (POST
// /services/{s}/functions/{f}/invocations, X-Fc-Invocation-Type: Async), signed as @alicloud/fc2 signs
// it (`FC id:base64(HMAC-SHA256)` over method, content-md5, content-type, date, the sorted x-fc-*
// headers and the path) with the role credentials FC hands this instance, never a long-lived key.
// One keep-alive connection pool per process, reused across invocations; nothing loads beyond node:http(s).
import { createHash, createHmac } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import * as z from "zod";
import type { Dispatch } from "../core/job.js";
import { redact, registerSecret } from "../core/log.js";
import type { FcContext } from "./context.js";

export interface WorkerAddress {
  serviceName: string;
  functionName: string;
  /** ALIBABA_CLOUD_FC_ENDPOINT: another FC API endpoint (tests); default FC's internal endpoint. */
  endpoint: string | undefined;
}

export class DispatchConfigError extends Error {
  constructor(missing: string) {
    super(`cannot invoke the worker: ${missing} is not available in the FC context or environment`);
    this.name = "DispatchConfigError";
  }
}

const API_VERSION = "2016-08-15";
const TIMEOUT_MS = 5_000;
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
/** FC's error body (https://help.aliyun.com/document_detail/52877.html: ErrorCode, ErrorMessage). */
const FcError = z.looseObject({ ErrorCode: z.string().optional(), ErrorMessage: z.string().optional() });

/** `FC <id>:<signature>`: what @alicloud/fc2's Client.getSignature computes for a request without a query. */
export function fcAuthorization(id: string, secret: string, method: string, path: string, headers: Record<string, string>): string {
  const fcHeaders = Object.keys(headers)
    .filter((k) => k.startsWith("x-fc-"))
    .sort()
    .map((k) => `${k}:${headers[k]}\n`)
    .join("");
  const text = `${method}\n${headers["content-md5"] ?? ""}\n${headers["content-type"] ?? ""}\n${headers.date ?? ""}\n${fcHeaders}${path}`;
  return `FC ${id}:${createHmac("sha256", secret).update(text, "utf8").digest("base64")}`;
}

function baseUrl(ctx: FcContext, endpoint: string | undefined): URL {
  if (!ctx.accountId) throw new DispatchConfigError("the account id");
  if (!ctx.region) throw new DispatchConfigError("the region");
  return new URL(endpoint ?? `https://${ctx.accountId}.${ctx.region}-internal.fc.aliyuncs.com`);
}

function send(url: URL, headers: Record<string, string>, body: Buffer): Promise<{ status: number; requestId: string; text: string }> {
  const secure = url.protocol === "https:";
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(url, { method: "POST", headers, agent: secure ? agents.https : agents.http }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.once("end", () => resolve({ status: res.statusCode ?? 0, requestId: String(res.headers["x-fc-request-id"] ?? ""), text: Buffer.concat(chunks).toString("utf8") }));
      res.once("error", reject);
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.once("error", reject);
    req.end(body);
  });
}

export function fcDispatch(ctx: FcContext, worker: WorkerAddress): Dispatch {
  return async (job) => {
    const base = baseUrl(ctx, worker.endpoint);
    if (!ctx.credentials) throw new DispatchConfigError("role credentials (set a service role)");
    const { accessKeyId, accessKeySecret, securityToken } = ctx.credentials;
    registerSecret(accessKeySecret);
    registerSecret(securityToken);
    const path = `/${API_VERSION}/services/${worker.serviceName}/functions/${worker.functionName}/invocations`;
    const body = Buffer.from(JSON.stringify(job), "utf8");
    const headers: Record<string, string> = {
      accept: "application/json",
      date: new Date().toUTCString(),
      host: base.hostname,
      "content-type": "application/octet-stream",
      "content-length": String(body.length),
      "content-md5": Buffer.from(createHash("md5").update(body).digest("hex"), "utf8").toString("base64"),
      "x-fc-account-id": ctx.accountId!,
      "x-fc-invocation-type": "Async",
      ...(securityToken ? { "x-fc-security-token": securityToken } : {}),
    };
    headers.authorization = fcAuthorization(accessKeyId, accessKeySecret, "POST", path, headers);
    const res = await send(new URL(`${base.origin}${base.pathname.replace(/\/$/, "")}${path}`), headers, body);
    if (res.status >= 200 && res.status < 300) return;
    let detail = res.text.slice(0, 300);
    try {
      const e = FcError.safeParse(JSON.parse(res.text));
      if (e.success) detail = [e.data.ErrorCode, e.data.ErrorMessage].filter(Boolean).join(": ") || detail;
    } catch {
      // not JSON: the raw text (shortened) says what happened
    }
    throw new Error(redact(`FC invoke of ${worker.serviceName}/${worker.functionName} failed with ${res.status} (request id ${res.requestId}): ${detail}`));
  };
}
