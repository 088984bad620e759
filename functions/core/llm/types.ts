// Public shapes of the LLM client: chat messages in (tool calls and tool results included), one
// answer (text and/or tool calls, usage, attempt history) out.
import type { ModelEndpoint } from "../config.js";

export type ContentPart = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };

/** A function call the model asked for; `arguments` is the model's raw JSON text (it may be malformed). */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type ChatMessage =
  | { role: "system" | "user"; content: string | ContentPart[] }
  | {
      role: "assistant";
      content: string | ContentPart[];
      /** The calls this turn of the model asked for (OpenAI `tool_calls`). */
      toolCalls?: ToolCall[];
      /** Reasoning that came with the calls; providers whose thinking models call tools want it back. */
      reasoning?: string;
    }
  | { role: "tool"; toolCallId: string; content: string };

/** A function offered to the model (OpenAI `tools[].function`). */
export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** True when the provider reported no usage and the counts are our estimate. */
  estimated?: boolean;
}

export interface ChatRequest {
  messages: ChatMessage[];
  /** Start the chain at this model_name instead of agents.defaults' primary. */
  modelName?: string;
  /** Only endpoints with `vision: true` are eligible. */
  needsVision?: boolean;
  /**
   * When given, stream (SSE) and report the accumulated visible text (reasoning removed). If an
   * endpoint fails mid-stream and the next one answers, the text starts again from that endpoint.
   */
  onText?: (textSoFar: string) => void;
  /**
   * Functions the model may call. Endpoints with `tools: false` get none, and see earlier calls and
   * results as plain text, so a fallback without tools continues from the same messages.
   */
  tools?: ToolSpec[];
  signal?: AbortSignal;
  /** Which model_list entries this request may use (model_list[].allow_from); absent: all. */
  mayUse?: (endpoint: ModelEndpoint) => boolean;
  /** Correlates log lines. */
  requestId?: string;
}

export type LlmErrorKind =
  | "auth"
  | "rate_limit"
  | "quota"
  | "moderation"
  | "context_length"
  | "timeout"
  | "network"
  | "server"
  | "bad_request"
  | "no_model"
  | "other";

/** One try against one endpoint. Holds no key and no response body. */
export interface AttemptRecord {
  modelName: string;
  provider: string;
  /** The id sent as `model` (after the provider prefix). */
  model: string;
  /** Index of the endpoint in `AppConfig.models`. */
  endpoint: number;
  /** Base URL the request went to (not a secret). */
  baseURL: string;
  /** "ok" for the attempt that answered, else why it failed. */
  kind: "ok" | LlmErrorKind;
  status?: number;
  ms: number;
  /** Short, secret-scrubbed description of the failure. */
  detail?: string;
}

export interface ChatResult {
  /** Visible text; may be empty when the model only asked for tool calls. */
  text: string;
  /** Present (non-empty) when the model asked for tool calls instead of, or after, its text. */
  toolCalls?: ToolCall[];
  /** Reasoning sent alongside tool calls (`reasoning_content`), to hand back with them. */
  reasoning?: string;
  modelName: string;
  provider: string;
  model: string;
  usage: Usage;
  attempts: AttemptRecord[];
  /** Milliseconds from the start of the chat to the first visible text (streaming only). */
  firstTokenMs?: number;
  /** Milliseconds for the whole chat, fallbacks included. */
  totalMs: number;
  finishReason?: string;
}
