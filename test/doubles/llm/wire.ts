// LLM double, wire format: OpenAI-compatible completion bodies, SSE chunks and the error bodies
// real providers send (OpenAI, DashScope, Zhipu, DeepSeek, Moonshot).
import type { ServerResponse } from "node:http";
import type { FaultKind, Usage } from "./script.js";

export interface ErrorReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Error responses as providers send them (shapes from their public docs and issue reports). */
export function errorReply(kind: FaultKind, opts: { retryAfter?: number; key?: string }): ErrorReply | undefined {
  switch (kind) {
    case "rate_limit":
      return {
        status: 429,
        headers: { "retry-after": String(opts.retryAfter ?? 1) },
        body: {
          error: {
            message: "Rate limit reached for requests",
            type: "requests",
            param: null,
            code: "rate_limit_exceeded",
          },
        },
      };
    case "server_error":
      return {
        status: 500,
        body: { error: { message: "The server had an error while processing your request.", type: "server_error" } },
      };
    case "unavailable":
      return { status: 503, body: { error: { message: "Service Unavailable", type: "server_error" } } };
    case "moderation_dashscope":
      return {
        status: 400,
        body: {
          error: {
            code: "data_inspection_failed",
            param: null,
            message: "Input data may contain inappropriate content.",
            type: "data_inspection_failed",
          },
          id: "chatcmpl-double",
          request_id: "double-request",
        },
      };
    case "moderation_zhipu":
    case "midstream_moderation":
      return {
        status: 400,
        body: {
          error: {
            code: "1301",
            message: "系统检测到输入或生成内容可能包含不安全或敏感内容，请您避免输入易产生敏感内容的提示语，感谢您的配合。",
          },
        },
      };
    case "midstream_error":
      return errorReply("moderation_dashscope", opts);
    case "moderation_moonshot":
      return {
        status: 400,
        body: { error: { type: "content_filter", message: "The request was rejected because it was considered high risk" } },
      };
    case "auth":
      return {
        status: 401,
        body: {
          error: {
            message: `Incorrect API key provided: ${maskKey(opts.key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
            type: "invalid_request_error",
            param: null,
            code: "invalid_api_key",
          },
        },
      };
    case "context_length":
      return {
        status: 400,
        body: {
          error: {
            message:
              "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.",
            type: "invalid_request_error",
            param: "messages",
            code: "context_length_exceeded",
          },
        },
      };
    case "quota_dashscope":
      return {
        status: 400,
        body: {
          error: {
            code: "Arrearage",
            param: null,
            message: "Access denied, please make sure your account is in good standing.",
            type: "Arrearage",
          },
        },
      };
    case "quota_deepseek":
      return {
        status: 402,
        body: { error: { message: "Insufficient Balance", type: "unknown_error", param: null, code: "invalid_request_error" } },
      };
    case "quota_zhipu":
      return { status: 429, body: { error: { code: "1113", message: "您的账户已欠费，请充值后重试。" } } };
    case "quota_openai":
      return {
        status: 429,
        body: {
          error: {
            message: "You exceeded your current quota, please check your plan and billing details.",
            type: "insufficient_quota",
            param: null,
            code: "insufficient_quota",
          },
        },
      };
    default:
      return undefined;
  }
}

/** Like OpenAI's message: the first and last few characters of a key, never all of it. */
function maskKey(key: string | undefined): string {
  if (!key) return "(none)";
  return key.length > 8 ? `${key.slice(0, 3)}${"*".repeat(8)}${key.slice(-2)}` : "***";
}

export function completionBody(
  model: string,
  content: string | null,
  opts: { reasoning?: string; finishReason: string; usage: Usage | false; toolCalls?: unknown[] },
): Record<string, unknown> {
  return {
    id: "chatcmpl-double",
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content,
          ...(opts.reasoning !== undefined ? { reasoning_content: opts.reasoning } : {}),
          ...(opts.toolCalls ? { tool_calls: opts.toolCalls } : {}),
        },
        finish_reason: opts.finishReason,
      },
    ],
    ...(opts.usage ? { usage: opts.usage } : {}),
  };
}

export function chunkBody(model: string, delta: Record<string, unknown>, finishReason: string | null = null) {
  return {
    id: "chatcmpl-double",
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}

export function usageChunkBody(model: string, usage: Usage) {
  return {
    id: "chatcmpl-double",
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [],
    usage,
  };
}

export function splitText(text: string, size: number): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(""));
  return out;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function startSse(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  res.flushHeaders();
}

export function sseData(res: ServerResponse, data: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  res.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
}
