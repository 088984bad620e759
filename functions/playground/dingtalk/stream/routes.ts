// HTTP side of the Stream gateway double: `POST /v1.0/gateway/connections/open` as DingTalk answers it
// (reference §2.1, errors as §3.3), and the `/__control/stream/...` API for tests in other processes.
import * as z from "zod";
import { control, withBody } from "../routes/control.js";
import { apiError, json, type DoubleRequest, type DoubleResponse, type Route } from "../router.js";
import { requestId, type DoubleState } from "../state.js";
import type { StreamGateway } from "./gateway.js";

const OpenBody = z.looseObject({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  subscriptions: z
    .array(z.looseObject({ type: z.enum(["EVENT", "CALLBACK", "SYSTEM"]), topic: z.string().min(1) }))
    .min(1)
    .refine((subs) => subs.every((s) => s.type !== "EVENT" || s.topic === "*"), { error: "EVENT topic must be *" }),
  ua: z.string().optional(),
  localIp: z.string().optional(),
  extras: z.record(z.string(), z.unknown()).optional(),
});
const REQUIRED = ["clientId", "clientSecret", "subscriptions"] as const;

function acceptsJson(accept: string | undefined): boolean {
  return /\bapplication\/json\b|\+json\b/i.test(accept ?? "");
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Without `Accept: application/json` the real gateway answers XML; so does the double. */
function asXml(r: DoubleResponse): DoubleResponse {
  const fields = Object.entries((r.body ?? {}) as Record<string, unknown>)
    .map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`)
    .join("");
  return { status: r.status, headers: { "content-type": "application/xml;charset=utf-8" }, body: `<?xml version="1.0" encoding="UTF-8"?><result>${fields}</result>` };
}

function open(gateway: StreamGateway, req: DoubleRequest, state: DoubleState): DoubleResponse {
  const fail = (status: number, code: string, message: string) => apiError(status, code, message, requestId());
  const body = req.json;
  if (req.jsonError || typeof body !== "object" || body === null || Array.isArray(body))
    return fail(400, "invalidParameter.body", "请求体不是合法的JSON");
  const missing = REQUIRED.find((k) => !(k in body));
  if (missing) return fail(400, `Missing${missing}`, `缺少参数 ${missing}`);
  const parsed = OpenBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.filter((p) => typeof p === "string").join(".") || "body";
    return fail(400, `invalidParameter.${path}`, `参数不合法 ${path}: ${issue?.message ?? "invalid"}`);
  }
  const b = parsed.data;
  const app = state.apps.get(b.clientId);
  if (!app || app.clientSecret !== b.clientSecret) return fail(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret");
  const ticket = gateway.issueTicket(app.clientId, b.subscriptions, { ua: b.ua, localIp: b.localIp });
  return json(200, { endpoint: gateway.endpoint, ticket: ticket.ticket });
}

const ClientBody = z.object({ clientId: z.string().min(1) });
const PushBody = z.object({
  clientId: z.string().min(1),
  body: z.unknown().refine((v) => v !== undefined, { error: "body is required" }),
  topic: z.string().min(1).optional(),
  type: z.enum(["CALLBACK", "EVENT"]).optional(),
  messageId: z.string().min(1).optional(),
});
const DisconnectBody = ClientBody.extend({ closeAfterMs: z.number().int().min(0).max(600_000).optional(), reason: z.string().optional() });
const DropBody = z.object({ clientId: z.string().min(1).optional() });
const RawBody = ClientBody.extend({ text: z.string() });
const RedeliveryBody = z.object({
  delayMs: z.number().int().min(0).optional(),
  max: z.number().int().min(0).optional(),
  sameMessageId: z.boolean().optional(),
});
const timeoutMs = z.number().int().min(0).max(60_000).default(5_000);
const WaitAckBody = z.object({ messageId: z.string().min(1), timeoutMs });
const WaitConnectionBody = ClientBody.extend({ timeoutMs, nth: z.number().int().min(1).optional() });

function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

function attempt(fn: () => unknown): DoubleResponse {
  try {
    return json(200, fn());
  } catch (err) {
    return json(400, { error: err instanceof Error ? err.message : String(err) });
  }
}

async function waited(p: Promise<unknown>): Promise<DoubleResponse> {
  try {
    return json(200, await p);
  } catch (err) {
    return json(408, { error: err instanceof Error ? err.message : String(err) });
  }
}

export function streamRoutes(gateway: StreamGateway): Route[] {
  const c = "/__control/stream";
  return [
    {
      name: "gateway.connections.open",
      method: "POST",
      path: "/v1.0/gateway/connections/open",
      handle: (req, state) => {
        const answer = open(gateway, req, state);
        return acceptsJson(req.headers.accept) ? answer : asXml(answer);
      },
    },
    control(
      "POST",
      `${c}/push`,
      withBody(PushBody, (b) => attempt(() => ({ messageId: gateway.push(b.clientId, b.body, defined({ topic: b.topic, type: b.type, messageId: b.messageId })) }))),
    ),
    control("GET", `${c}/messages`, (req) => {
      const id = req.query.get("messageId");
      return json(200, id ? gateway.messages().filter((m) => m.messageIds.includes(id)) : gateway.messages());
    }),
    control("GET", `${c}/acks`, (req) => {
      const id = req.query.get("messageId");
      const root = id ? (gateway.message(id)?.messageId ?? id) : undefined;
      return json(200, root ? gateway.acks.filter((a) => a.answers === root) : gateway.acks);
    }),
    control("GET", `${c}/frames`, () => json(200, gateway.frames)),
    control("GET", `${c}/pings`, () => json(200, gateway.pings)),
    control("GET", `${c}/connections`, () => json(200, { apps: gateway.connections(), connections: gateway.connectionList() })),
    control("POST", `${c}/ping`, withBody(ClientBody, (b) => json(200, { pings: gateway.ping(b.clientId) }))),
    control(
      "POST",
      `${c}/disconnect`,
      withBody(DisconnectBody, (b) => json(200, { connections: gateway.disconnect(b.clientId, defined({ closeAfterMs: b.closeAfterMs, reason: b.reason })) })),
    ),
    control("POST", `${c}/drop`, withBody(DropBody, (b) => json(200, { dropped: gateway.dropConnections(b.clientId) }))),
    control("POST", `${c}/raw`, withBody(RawBody, (b) => json(200, { connections: gateway.sendRaw(b.clientId, b.text) }))),
    control("GET", `${c}/redelivery`, () => json(200, gateway.redelivery)),
    control("POST", `${c}/redelivery`, withBody(RedeliveryBody, (b) => attempt(() => gateway.setRedelivery(defined(b))))),
    control("POST", `${c}/wait-ack`, withBody(WaitAckBody, (b) => waited(gateway.waitForAck(b.messageId, b.timeoutMs)))),
    control(
      "POST",
      `${c}/wait-connection`,
      withBody(WaitConnectionBody, (b) => waited(gateway.waitForConnection(b.clientId, b.timeoutMs, defined({ nth: b.nth })))),
    ),
    control("POST", `${c}/reset`, () => {
      gateway.reset();
      return json(200, { ok: true });
    }),
  ];
}
