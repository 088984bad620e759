// The LLM client's public surface: import from here.
export { LlmClient, type LlmClientOptions } from "./client.js";
export { LlmError, classifyError, FINAL_KINDS } from "./errors.js";
export { stripReasoning } from "./reasoning.js";
export { estimatePromptTokens, estimateTokens } from "./tokens.js";
export { PROVIDERS, providerBaseUrl } from "./providers.js";
export type {
  AttemptRecord,
  ChatMessage,
  ChatRequest,
  ChatResult,
  ContentPart,
  LlmErrorKind,
  ToolCall,
  ToolSpec,
  Usage,
} from "./types.js";
