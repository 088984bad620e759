// LLM double: an OpenAI-compatible HTTP server (node:http) for tests. Serves `POST {base}/chat/completions`
// (JSON or SSE) and `GET {base}/models`, checks bearer keys, records every request (image parts and
// offered tools included; images refused for non-vision models when `visionModels` is set; malformed
// `tools` and unanswered tool calls refused as OpenAI does), and is scripted in-process
// (script/fault) or over HTTP (`/__control/*`) with replies, tool calls and provider-shaped faults.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import {
  KeysBodySchema,
  Script,
  ScriptBodySchema,
  isFault,
  type Fault,
  type FaultKind,
  type Reply,
  type ScriptEntry,
  type Usage,
} from "./script.js";
import { checkToolMessages, checkTools, messageToolCalls, toolCallDeltas, wireCalls } from "./tools.js";
import {
  chunkBody,
  completionBody,
  errorReply,
  sendJson,
  splitText,
  sseData,
  startSse,
  usageChunkBody,
} from "./wire.js";

export type { FaultKind, Reply, Fault, ScriptEntry, Usage } from "./script.js";

export interface LlmDoubleOptions {
  /** Default 0 (any free port). */
  port?: number;
  host?: string;
  /** Path prefix of the API, e.g. "/v1" (default) or "/api/paas/v4". */
  basePath?: string;
  /** Bearer keys accepted; omitted: any request is accepted. */
  keys?: string[];
  /** Ids listed by GET {base}/models. */
  models?: string[];
  /** Answer when no scripted entry matches; default: the echo of the last user message. */
  defaultReply?: Reply;
  /**
   * Model ids that accept image parts. When set, a request with images for any other model answers
   * 400 as providers do; omitted: every model accepts images. Data URLs must be well-formed images.
   */
  visionModels?: string[];
  /** When set, a chat for any other model id answers 404 `model_not_found`, as OpenAI does. */
  knownModels?: string[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** All request headers, Authorization included: tests check which key went where. */
  headers: IncomingHttpHeaders;
  /** The bearer key, if any. */
  key: string | undefined;
  /** Parsed JSON body (raw text if it was not JSON; undefined for GET). */
  body: unknown;
  model: string | undefined;
  stream: boolean;
  /** URLs of every image_url content part (data URLs included whole). */
  images: string[];
  /** Names of the functions offered in `tools`. */
  tools: string[];
  time: number;
  /** Client's TCP port: equal ports on two requests mean the connection was reused. */
  remotePort: number | undefined;
  /** What was served: "reply", "default", "fault:<kind>", "401", "400", "404". */
  served: string;
  /** True when the client closed the connection before the response was complete. */
  aborted: boolean;
}

export interface ScriptOptions {
  match?: { key?: string; model?: string };
  times?: number;
  sticky?: boolean;
  delayMs?: number;
  retryAfter?: number;
  text?: string;
  location?: string;
}

export interface LlmDouble {
  /** Base URL to configure as api_base, e.g. http://127.0.0.1:4321/v1. */
  url: string;
  /** http://host:port, where `/__control/*` lives. */
  origin: string;
  port: number;
  requests: RecordedRequest[];
  /** Chat requests only. */
  chatRequests(): RecordedRequest[];
  script(...entries: ScriptEntry[]): void;
  fault(kind: FaultKind, opts?: ScriptOptions): void;
  setKeys(keys: string[] | undefined): void;
  /** Which model ids accept images (undefined: all). */
  setVisionModels(models: string[] | undefined): void;
  /** Forgets scripted entries and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

const ChatBodySchema = z.looseObject({
  model: z.string().min(1, { error: "model is required" }),
  messages: z
    .array(
      z.looseObject({
        role: z.string(),
        content: z.union([
          z.string(),
          z.null(),
          z.array(
            z.union([
              z.looseObject({ type: z.literal("text"), text: z.string() }),
              z.looseObject({ type: z.literal("image_url"), image_url: z.looseObject({ url: z.string() }) }),
            ]),
          ),
        ]),
      }),
    )
    .min(1, { error: "messages must not be empty" }),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  tools: z.unknown().optional(),
});
type ChatBody = z.infer<typeof ChatBodySchema>;

const MAX_BODY = 32 * 1024 * 1024;
const HANG_MS = 10 * 60_000;

function normaliseBase(base: string | undefined): string {
  const trimmed = (base ?? "/v1").trim().replace(/\/+$/, "");
  if (!trimmed) return "";
  return trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error("body too large"));
        req.destroy();
      } else parts.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

/** Waits `ms`; resolves false early if the response closed meanwhile. */
function pause(ms: number | undefined, res: ServerResponse): Promise<boolean> {
  if (!ms) return Promise.resolve(!res.destroyed);
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off("close", onClose);
      resolve(!res.destroyed);
    }, ms);
    res.once("close", onClose);
  });
}

function textOf(content: ChatBody["messages"][number]["content"]): string {
  if (typeof content === "string") return content;
  if (!content) return "";
  return content.map((p) => (p.type === "text" ? p.text : "")).join("");
}

function countTokens(text: string): number {
  return Math.ceil(Array.from(text).length / 4);
}

function bearer(headers: IncomingHttpHeaders): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? "");
  return m?.[1]?.trim() || undefined;
}

const DATA_URL = /^data:image\/(png|jpeg|jpg|gif|webp|bmp);base64,([A-Za-z0-9+/]+={0,2})$/;

/** Why a provider would refuse these images for this model (no vision, or a malformed data URL). */
function imageRefusal(model: string, images: string[], visionModels: Set<string> | undefined): { message: string; code: string } | undefined {
  if (visionModels && !visionModels.has(model))
    return { message: `The model \`${model}\` does not support image input.`, code: "invalid_image_input" };
  for (const url of images) {
    if (!url.startsWith("data:")) continue;
    if (!DATA_URL.test(url)) return { message: "Invalid image data URL.", code: "invalid_image_url" };
  }
  return undefined;
}

const problem = (message: string, code: string) => ({
  error: { message, type: "invalid_request_error", param: null, code },
});

export async function startLlmDouble(opts: LlmDoubleOptions = {}): Promise<LlmDouble> {
  const base = normaliseBase(opts.basePath);
  let keys = opts.keys ? new Set(opts.keys) : undefined;
  let visionModels = opts.visionModels ? new Set(opts.visionModels) : undefined;
  const models = opts.models ?? ["double-model"];
  const script = new Script();
  const requests: RecordedRequest[] = [];

  async function serveReply(res: ServerResponse, body: ChatBody, reply: Reply) {
    const lastUser = [...body.messages].reverse().find((m) => m.role === "user");
    // A model can only call functions the request declared: without `tools`, scripted calls are not made.
    const offered = Array.isArray(body.tools) && body.tools.length > 0;
    const calls = reply.toolCalls && offered ? wireCalls(reply.toolCalls) : undefined;
    const text = reply.text ?? (calls ? "" : `echo: ${lastUser ? textOf(lastUser.content) : ""}`);
    const content = reply.think !== undefined ? `<think>${reply.think}</think>\n\n${text}` : text;
    const promptText = body.messages.map((m) => textOf(m.content)).join("\n");
    const completionText = content + (reply.reasoning ?? "") + (calls ?? []).map((c) => c.name + c.arguments).join("");
    const usage: Usage | false =
      reply.usage === false
        ? false
        : (reply.usage ?? {
            prompt_tokens: countTokens(promptText),
            completion_tokens: countTokens(completionText),
            total_tokens: countTokens(promptText) + countTokens(completionText),
          });
    const finishReason = reply.finishReason ?? (calls ? "tool_calls" : "stop");
    if (!body.stream) {
      sendJson(
        res,
        200,
        completionBody(body.model, calls && !content ? null : content, {
          reasoning: reply.reasoning,
          finishReason,
          usage,
          ...(calls ? { toolCalls: messageToolCalls(calls) } : {}),
        }),
      );
      return;
    }
    startSse(res);
    const size = reply.chunkSize ?? 4;
    sseData(res, chunkBody(body.model, { role: "assistant", content: "" }));
    const pieces: Array<Record<string, unknown>> = [
      ...splitText(reply.reasoning ?? "", size).map((p) => ({ reasoning_content: p })),
      ...splitText(content, size).map((p) => ({ content: p })),
      ...(calls ? toolCallDeltas(calls, reply.toolCallChunks ?? "fragments", size * 2) : []),
    ];
    for (const delta of pieces) {
      if (!(await pause(reply.chunkDelayMs, res))) return;
      sseData(res, chunkBody(body.model, delta));
    }
    if (!(await pause(reply.chunkDelayMs, res))) return;
    sseData(res, chunkBody(body.model, {}, finishReason));
    if (usage && body.stream_options?.include_usage) sseData(res, usageChunkBody(body.model, usage));
    sseData(res, "[DONE]");
    res.end();
  }

  async function serveFault(res: ServerResponse, body: ChatBody, fault: Fault, key: string | undefined) {
    const stream = body.stream === true;
    const partial = fault.text ?? "这是部分回答";
    switch (fault.fault) {
      case "hang":
        if (await pause(HANG_MS, res)) sendJson(res, 504, problem("double: hung too long", "timeout"));
        return;
      case "drop":
        res.socket?.destroy();
        return;
      case "redirect":
        res.writeHead(307, { location: fault.location ?? "/" });
        res.end();
        return;
      case "malformed":
        if (stream) {
          startSse(res);
          sseData(res, '{"choices":[{"delta":{"content":"Hel');
          res.end();
        } else {
          res.writeHead(200, { "content-type": "application/json" });
          res.end('{"id":"chatcmpl-double","choices":[{"message":');
        }
        return;
      case "bad_shape":
        if (stream) {
          startSse(res);
          sseData(res, { id: "chatcmpl-double", choices: [{ index: 0, delta: { content: 42 } }] });
          sseData(res, "[DONE]");
          res.end();
        } else {
          sendJson(res, 200, { id: "chatcmpl-double", object: "chat.completion", choices: [{ message: { content: 42 } }] });
        }
        return;
      case "midstream_moderation":
      case "midstream_error":
        if (!stream) break;
        startSse(res);
        sseData(res, chunkBody(body.model, { role: "assistant", content: "" }));
        for (const p of splitText(partial, 4)) sseData(res, chunkBody(body.model, { content: p }));
        if (fault.fault === "midstream_moderation") {
          sseData(res, chunkBody(body.model, {}, "sensitive"));
          sseData(res, "[DONE]");
        } else {
          sseData(res, errorReply("midstream_error", {})!.body);
        }
        res.end();
        return;
      default:
        break;
    }
    if (fault.fault === "midstream_moderation") {
      sendJson(res, 200, completionBody(body.model, partial, { finishReason: "sensitive", usage: false }));
      return;
    }
    const reply = errorReply(fault.fault, { retryAfter: fault.retryAfter, key })!;
    sendJson(res, reply.status, reply.body, reply.headers);
  }

  async function handleChat(res: ServerResponse, record: RecordedRequest, raw: string) {
    if (keys && (!record.key || !keys.has(record.key))) {
      record.served = "401";
      const reply = errorReply("auth", { key: record.key })!;
      sendJson(res, reply.status, reply.body);
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      record.served = "400";
      sendJson(res, 400, problem("We could not parse the JSON body of your request.", "invalid_json"));
      return;
    }
    record.body = json;
    const parsed = ChatBodySchema.safeParse(json);
    if (!parsed.success) {
      record.served = "400";
      sendJson(res, 400, problem(parsed.error.issues.map((i) => i.message).join("; "), "invalid_request"));
      return;
    }
    const body = parsed.data;
    record.model = body.model;
    record.stream = body.stream === true;
    const tools = checkTools(body.tools);
    const toolProblem = "error" in tools ? tools.error : checkToolMessages(body.messages);
    if ("names" in tools) record.tools = tools.names;
    if (toolProblem) {
      record.served = "400";
      sendJson(res, 400, problem(toolProblem, "invalid_request_error"));
      return;
    }
    if (opts.knownModels && !opts.knownModels.includes(body.model)) {
      record.served = "404";
      sendJson(res, 404, problem(`The model \`${body.model}\` does not exist`, "model_not_found"));
      return;
    }
    for (const m of body.messages)
      if (Array.isArray(m.content))
        for (const p of m.content) if (p.type === "image_url") record.images.push(p.image_url.url);
    if (record.images.length > 0) {
      const refusal = imageRefusal(body.model, record.images, visionModels);
      if (refusal) {
        record.served = "400";
        sendJson(res, 400, problem(refusal.message, refusal.code));
        return;
      }
    }

    const entry = script.take(record.key, body.model);
    record.served = entry ? (isFault(entry) ? `fault:${entry.fault}` : "reply") : "default";
    if (!(await pause(entry?.delayMs, res))) return;
    if (entry && isFault(entry)) await serveFault(res, body, entry, record.key);
    else await serveReply(res, body, entry ?? opts.defaultReply ?? {});
  }

  function handleControl(req: IncomingMessage, res: ServerResponse, path: string, raw: string): void {
    const parseJson = (): unknown => {
      try {
        return raw ? JSON.parse(raw) : undefined;
      } catch {
        return undefined;
      }
    };
    if (req.method === "GET" && path === "/__control/requests") return sendJson(res, 200, requests);
    if (req.method === "DELETE" && path === "/__control/requests") {
      requests.length = 0;
      return sendJson(res, 200, { ok: true });
    }
    if (req.method === "POST" && (path === "/__control/script" || path === "/__control/fault")) {
      const parsed = ScriptBodySchema.safeParse(parseJson());
      if (!parsed.success) return sendJson(res, 400, { error: z.prettifyError(parsed.error) });
      script.add(Array.isArray(parsed.data) ? parsed.data : [parsed.data]);
      return sendJson(res, 200, { ok: true, pending: script.pending });
    }
    if (req.method === "POST" && path === "/__control/keys") {
      const parsed = KeysBodySchema.safeParse(parseJson());
      if (!parsed.success) return sendJson(res, 400, { error: z.prettifyError(parsed.error) });
      keys = parsed.data.keys ? new Set(parsed.data.keys) : undefined;
      return sendJson(res, 200, { ok: true });
    }
    if (req.method === "POST" && path === "/__control/reset") {
      script.clear();
      requests.length = 0;
      return sendJson(res, 200, { ok: true });
    }
    sendJson(res, 404, { error: `unknown control ${req.method ?? ""} ${path}` });
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? "/", "http://double").pathname;
    const raw = await readBody(req);
    if (path.startsWith("/__control/")) return handleControl(req, res, path, raw);

    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path,
      headers: req.headers,
      key: bearer(req.headers),
      body: raw === "" ? undefined : raw,
      model: undefined,
      stream: false,
      images: [],
      tools: [],
      time: Date.now(),
      remotePort: req.socket.remotePort,
      served: "",
      aborted: false,
    };
    requests.push(record);
    res.once("close", () => {
      if (!res.writableFinished) record.aborted = true;
    });

    if (req.method === "POST" && path === `${base}/chat/completions`) return handleChat(res, record, raw);
    if (req.method === "GET" && path === `${base}/models`) {
      if (keys && (!record.key || !keys.has(record.key))) {
        record.served = "401";
        return sendJson(res, 401, errorReply("auth", { key: record.key })!.body);
      }
      record.served = "models";
      return sendJson(res, 200, {
        object: "list",
        data: models.map((id) => ({ id, object: "model", created: 0, owned_by: "double" })),
      });
    }
    record.served = "404";
    sendJson(res, 404, problem(`Unknown request URL: ${req.method ?? ""} ${path}`, "unknown_url"));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, problem(`double: ${String(err)}`, "double_error"));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? "127.0.0.1";
  const origin = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  return {
    url: `${origin}${base}`,
    origin,
    port,
    requests,
    chatRequests: () => requests.filter((r) => r.path === `${base}/chat/completions`),
    script: (...entries) => script.add(entries),
    fault: (kind, o = {}) => script.add([{ fault: kind, ...o }]),
    setKeys: (k) => {
      keys = k ? new Set(k) : undefined;
    },
    setVisionModels: (m) => {
      visionModels = m ? new Set(m) : undefined;
    },
    reset: () => {
      script.clear();
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
