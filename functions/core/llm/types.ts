// Public shapes of the LLM client: chat messages in, one answer (text, usage, attempt history) out.

export type ContentPart = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string | ContentPart[];
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
  signal?: AbortSignal;
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
  text: string;
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
