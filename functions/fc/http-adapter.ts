// Maps FC's two HTTP shapes onto the core's CallbackRequest/CallbackResponse: FC 2.0 HTTP functions
// `(req, resp, context)` (body from `req.body` or the request stream) and FC 3.0 events
// (`{headers, body, isBase64Encoded, requestContext}` in, `{statusCode, headers, body}` out).
import type { Readable } from "node:stream";
import { MAX_BODY_BYTES, type CallbackRequest, type CallbackResponse } from "../core/http-callback.js";
import * as z from "zod/mini";
import "../core/zod-messages.js";

export interface Fc2Request extends Readable {
  method?: string;
  headers?: Record<string, string | string[] | undefined>;
  body?: unknown;
}

export interface Fc2Response {
  setStatusCode(code: number): void;
  setHeader(name: string, value: string): void;
  send(body: string | Buffer): void;
}

export function isFc2Response(value: unknown): value is Fc2Response {
  return typeof (value as Partial<Fc2Response> | null)?.setStatusCode === "function";
}

function readLimited(stream: Readable, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on("data", (chunk: Buffer | string) => {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size <= limit) chunks.push(buf);
    });
    stream.once("end", () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    stream.once("error", reject);
  });
}

export async function fromFc2(req: Fc2Request, requestId: string | undefined): Promise<CallbackRequest> {
  let body: Buffer | undefined;
  if (Buffer.isBuffer(req.body)) body = req.body;
  else if (typeof req.body === "string") body = Buffer.from(req.body);
  else body = await readLimited(req, MAX_BODY_BYTES);
  return { method: req.method ?? "GET", headers: req.headers ?? {}, body, requestId };
}

export function toFc2(out: CallbackResponse, resp: Fc2Response): void {
  resp.setStatusCode(out.status);
  for (const [k, v] of Object.entries(out.headers)) resp.setHeader(k, v);
  resp.send(out.body);
}

const optText = z.optional(z.string());
const Fc3Event = z.looseObject({
  httpMethod: optText,
  headers: z.optional(z.record(z.string(), z.union([z.string(), z.array(z.string())]))),
  body: optText,
  isBase64Encoded: z.optional(z.boolean()),
  requestContext: z.optional(z.looseObject({ requestId: optText, http: z.optional(z.looseObject({ method: optText })) })),
});

export interface Fc3Result {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

/** Undefined when the event is not an FC 3.0 HTTP event at all. */
export function fromFc3(event: unknown, requestId: string | undefined): CallbackRequest | undefined {
  let value = event;
  if (Buffer.isBuffer(value)) value = value.toString("utf8");
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  const parsed = Fc3Event.safeParse(value);
  if (!parsed.success) return undefined;
  const e = parsed.data;
  const raw = e.body ?? "";
  const body = e.isBase64Encoded ? Buffer.from(raw, "base64") : Buffer.from(raw, "utf8");
  return {
    method: e.requestContext?.http?.method ?? e.httpMethod ?? "GET",
    headers: e.headers ?? {},
    body: body.length > MAX_BODY_BYTES ? undefined : body,
    requestId: e.requestContext?.requestId ?? requestId,
  };
}

export function toFc3(out: CallbackResponse): Fc3Result {
  return { statusCode: out.status, headers: out.headers, body: out.body, isBase64Encoded: false };
}
