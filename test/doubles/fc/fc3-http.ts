// FC 3.0's HTTP trigger on a built-in runtime, as the double runs it when started with
// `httpTrigger: "fc3"`: the request becomes an event (a Buffer of JSON) for an event handler
// `(event, context[, callback])`, and the handler's result `{statusCode, headers?, isBase64Encoded?, body}`
// becomes the HTTP response.
// Source: "Use an HTTP trigger to invoke a function" (FC 3.0 user guide, request and response structs),
// https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/user-guide/http-trigger-invoking-function,
// summarised in /work/shared/reference/fc-serverless-table.md §2; field types as in honojs/hono
// src/adapter/alibaba-cloud-fc3/types.ts.
// Not modelled: a result that is not the response struct is answered 502 here (the double is strict).
import { z } from "zod";
import type { EventOutcome, HttpRequestData, HttpResponseData } from "./runtime/fc-runtime.js";

/** Bodies FC passes as text; anything else arrives base64-encoded with `isBase64Encoded: true`. */
const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

export interface Fc3Trigger {
  accountId: string;
  region: string;
  /** `<domainPrefix>.<region>.fcapp.run` */
  domainPrefix: string;
  requestId: string;
  now: number;
}

/** Multi-valued headers and query parameters are joined with commas, as the doc shows ("value1,value2"). */
function joined(values: Record<string, string | string[]>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v]));
}

export function fc3Event(req: HttpRequestData, t: Fc3Trigger): Buffer {
  const rawPath = req.path.split("?")[0] ?? "/";
  const text = TEXT_TYPES.test(req.headers["content-type"] ?? "");
  const event = {
    version: "v1",
    rawPath,
    body: text ? req.body.toString("utf8") : req.body.toString("base64"),
    isBase64Encoded: !text,
    headers: joined(req.headers),
    queryParameters: joined(req.queries),
    requestContext: {
      accountId: t.accountId,
      domainName: `${t.domainPrefix}.${t.region}.fcapp.run`,
      domainPrefix: t.domainPrefix,
      http: {
        method: req.method,
        path: decodeURIComponent(rawPath),
        protocol: "HTTP/1.1",
        sourceIp: req.clientIP,
        userAgent: req.headers["user-agent"] ?? "",
      },
      requestId: t.requestId,
      time: new Date(t.now).toISOString().replace(/\.\d{3}Z$/, "Z"),
      timeEpoch: String(t.now),
    },
  };
  return Buffer.from(JSON.stringify(event));
}

const ResponseStruct = z.object({
  statusCode: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.string()).optional(),
  isBase64Encoded: z.boolean().optional(),
  body: z.string().optional(),
});

/** The HTTP response for an event handler's outcome; undefined when the result is not the response struct. */
export function fc3Response(outcome: Extract<EventOutcome, { ok: true }>): HttpResponseData | undefined {
  let json: unknown;
  try {
    json = JSON.parse(outcome.body.toString("utf8"));
  } catch {
    return undefined;
  }
  const r = ResponseStruct.safeParse(json);
  if (!r.success) return undefined;
  const body = r.data.body ?? "";
  return {
    status: r.data.statusCode,
    headers: r.data.headers ?? {},
    body: r.data.isBase64Encoded ? Buffer.from(body, "base64") : Buffer.from(body, "utf8"),
  };
}
