// The playground's HTTP routes on the gateway's server: the page and its files, the state, the
// long-polled events, sending and redelivering messages, and uploaded pictures. Bodies and queries are
// checked with zod; API calls must be JSON from the page's own origin (no cross-site sends).
import * as z from "zod";
import { json, type GatewayRequest, type GatewayResponse, type Route } from "../core/gateway/http-server.js";
import type { Assets } from "./assets.js";
import type { EventHub } from "./events.js";
import type { EventsResponse } from "./protocol.js";
import { InputError, type PlaygroundService } from "./service.js";

export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
const MAX_WAIT_MS = 25_000;

const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: http: https:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"] as const;

const SendBody = z.strictObject({
  chat: z.string().min(1).max(300),
  user: z.string().min(1).max(300),
  text: z.string().max(20_000, { error: "at most 20,000 characters" }).default(""),
  image: z
    .strictObject({
      base64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, { error: "must be base64" }),
      contentType: z.enum(IMAGE_TYPES, { error: `must be one of ${IMAGE_TYPES.join(", ")}` }),
      fileName: z.string().max(200).optional(),
    })
    .optional(),
  expiredWebhook: z.boolean().default(false),
  badSignature: z.boolean().default(false),
});
const RedeliverBody = z.strictObject({ msgId: z.string().min(1).max(200) });
const EventsQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  wait: z.coerce.number().int().min(0).max(MAX_WAIT_MS).default(20_000),
});

const problem = (status: number, error: string) => json(status, { error }, SECURITY_HEADERS);

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
}

function header(req: GatewayRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A JSON body from the page itself: JSON content type, and no foreign Origin. */
function readJson(req: GatewayRequest): { ok: true; value: unknown } | { ok: false; response: GatewayResponse } {
  if (!req.body) return { ok: false, response: problem(413, "body too large (pictures: at most 5 MB)") };
  if (!/^application\/json\b/i.test(header(req, "content-type") ?? ""))
    return { ok: false, response: problem(415, "content-type must be application/json") };
  const origin = header(req, "origin");
  const host = header(req, "host");
  if (origin && host && origin !== `http://${host}`) return { ok: false, response: problem(403, "cross-origin requests are refused") };
  try {
    return { ok: true, value: JSON.parse(req.body.toString("utf8")) };
  } catch {
    return { ok: false, response: problem(400, "body is not valid JSON") };
  }
}

async function guarded(run: () => Promise<GatewayResponse>): Promise<GatewayResponse> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof InputError) return problem(400, err.message);
    throw err;
  }
}

export function playgroundRoutes(service: PlaygroundService, hub: EventHub, assets: Assets): Route[] {
  const asset = (name: keyof Assets): GatewayResponse => {
    const a = assets[name];
    return {
      status: 200,
      headers: { "content-type": a.contentType, ...SECURITY_HEADERS, ...(name === "index.html" ? { "content-security-policy": CSP } : {}) },
      body: a.body,
    };
  };

  const get = async (req: GatewayRequest): Promise<GatewayResponse> => {
    const path = req.path.replace(/^\/playground/, "");
    if (path === "" || path === "/" || path === "/index.html") return asset("index.html");
    if (path === "/app.js") return asset("app.js");
    if (path === "/style.css") return asset("style.css");
    if (path === "/api/state") return json(200, service.state(), SECURITY_HEADERS);
    if (path === "/api/events") {
      const q = EventsQuery.safeParse(Object.fromEntries(req.query));
      if (!q.success) return problem(400, issues(q.error));
      const after = q.data.after > hub.last ? hub.last : q.data.after;
      const events = await hub.wait(after, q.data.wait);
      const answer: EventsResponse = { epoch: hub.epoch, events, next: Math.max(after, hub.last) };
      return json(200, answer, { ...SECURITY_HEADERS, ...(hub.closed ? { connection: "close" } : {}) });
    }
    const file = /^\/files\/([0-9a-f-]{36})$/.exec(path);
    const stored = file ? service.file(file[1]!) : undefined;
    if (stored) return { status: 200, headers: { "content-type": stored.contentType, ...SECURITY_HEADERS }, body: stored.bytes };
    return problem(404, "not found");
  };

  return [
    { method: "GET", path: "/playground", handle: get },
    { method: "GET", path: "/playground/*", handle: get },
    {
      method: "POST",
      path: "/playground/api/send",
      maxBodyBytes: Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 64 * 1024,
      handle: (req) =>
        guarded(async () => {
          const body = readJson(req);
          if (!body.ok) return body.response;
          const input = SendBody.safeParse(body.value);
          if (!input.success) return problem(400, issues(input.error));
          const { image, ...rest } = input.data;
          let bytes: Buffer | undefined;
          if (image) {
            bytes = Buffer.from(image.base64, "base64");
            if (bytes.length === 0) return problem(400, "image.base64: empty picture");
            if (bytes.length > MAX_IMAGE_BYTES) return problem(413, "image: at most 5 MB");
          }
          const sent = await service.send({
            ...rest,
            ...(image && bytes ? { image: { bytes, contentType: image.contentType, ...(image.fileName ? { fileName: image.fileName } : {}) } } : {}),
          });
          return json(200, sent, SECURITY_HEADERS);
        }),
    },
    {
      method: "POST",
      path: "/playground/api/redeliver",
      handle: (req) =>
        guarded(async () => {
          const body = readJson(req);
          if (!body.ok) return body.response;
          const input = RedeliverBody.safeParse(body.value);
          if (!input.success) return problem(400, issues(input.error));
          return json(200, await service.redeliver(input.data.msgId), SECURITY_HEADERS);
        }),
    },
  ];
}
