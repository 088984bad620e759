// One attempt against one endpoint: a chat completion (streamed or not) under a timeout that is also
// the longest allowed gap between stream chunks; the answer is schema-checked and reasoning removed.
// With tools, the request carries OpenAI's `tools` and the answer may be tool calls (streamed
// fragments assembled while the text before them streams on).
import type OpenAI from "openai";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { LlmError } from "./errors.js";
import { stripReasoning } from "./reasoning.js";
import { ChunkSchema, CompletionSchema, describeIssues, parseUsage } from "./schemas.js";
import { ToolCallAssembler, toolCallsOf } from "./tool-calls.js";
import type { ChatMessage, ContentPart, ToolCall, ToolSpec, Usage } from "./types.js";

export interface AttemptInput {
  client: OpenAI;
  model: string;
  messages: readonly ChatMessage[];
  onText?: (textSoFar: string) => void;
  /** Sent as `tools`; undefined or empty: none. */
  tools?: readonly ToolSpec[];
  timeoutMs: number;
  maxTokens?: number;
  temperature?: number;
  signal?: AbortSignal;
  now: () => number;
  /** Reference point for firstTokenMs (the start of the chat, fallbacks included). */
  chatStarted: number;
}

export interface AttemptAnswer {
  text: string;
  /** Non-empty when the model asked for tool calls. */
  toolCalls?: ToolCall[];
  reasoning?: string;
  /** As reported by the provider; undefined when it sent none. */
  usage?: Usage;
  finishReason?: string;
  firstTokenMs?: number;
}

/** finish_reason values that mean the provider's moderation stopped the answer. */
const MODERATED = new Set(["sensitive", "content_filter"]);

const plain = (content: string | ContentPart[]): string =>
  typeof content === "string" ? content : content.map((p) => (p.type === "text" ? p.text : "")).join("");

/** Our messages as the Chat Completions API takes them (assistant `tool_calls`, `role: "tool"` results). */
function toWire(messages: readonly ChatMessage[]): ChatCompletionMessageParam[] {
  return messages.map((m): ChatCompletionMessageParam => {
    switch (m.role) {
      case "user":
        return { role: "user", content: m.content };
      case "tool":
        return { role: "tool", tool_call_id: m.toolCallId, content: m.content };
      case "system":
        return { role: "system", content: plain(m.content) };
      case "assistant": {
        const text = plain(m.content);
        if (!m.toolCalls?.length) return { role: "assistant", content: text };
        const wire = {
          role: "assistant" as const,
          content: text || null,
          tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: "function" as const, function: { name: c.name, arguments: c.arguments } })),
        };
        // DeepSeek and Moonshot thinking models ask for the reasoning behind a call back within the turn.
        return m.reasoning ? ({ ...wire, reasoning_content: m.reasoning } as ChatCompletionMessageParam) : wire;
      }
    }
  });
}

function wireTools(tools: readonly ToolSpec[] | undefined) {
  if (!tools?.length) return {};
  return {
    tools: tools.map((t) => ({
      type: "function" as const,
      function: { name: t.name, description: t.description, parameters: t.parameters },
    })),
  };
}

function moderated(finishReason: string | null | undefined): LlmError | undefined {
  return finishReason && MODERATED.has(finishReason)
    ? new LlmError("moderation", `the provider's moderation stopped the answer (finish_reason "${finishReason}")`)
    : undefined;
}

function emptyReply(finishReason: string | null | undefined): LlmError {
  return new LlmError("server", `empty reply (finish_reason ${finishReason ? `"${finishReason}"` : "missing"})`);
}

export async function runAttempt(input: AttemptInput): Promise<AttemptAnswer> {
  const { client, timeoutMs, signal, now } = input;
  const controller = new AbortController();
  let timedOut = false;
  let phase = `no response within ${timeoutMs} ms`;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
  };
  const onCallerAbort = () => controller.abort();
  signal?.addEventListener("abort", onCallerAbort, { once: true });

  const interrupted = (): LlmError | undefined => {
    if (timedOut) return new LlmError("timeout", phase);
    if (signal?.aborted) return new LlmError("other", "aborted by the caller", { aborted: true });
    return undefined;
  };

  const params = {
    model: input.model,
    messages: toWire(input.messages),
    ...(input.maxTokens !== undefined ? { max_tokens: input.maxTokens } : {}),
    ...(input.temperature !== undefined ? { temperature: input.temperature } : {}),
    ...wireTools(input.tools),
  };

  try {
    arm();
    if (!input.onText) {
      const raw: unknown = await client.chat.completions.create(
        { ...params, stream: false },
        { signal: controller.signal },
      );
      const parsed = CompletionSchema.safeParse(raw);
      if (!parsed.success) throw new LlmError("server", `malformed response: ${describeIssues(parsed.error)}`);
      const choice = parsed.data.choices[0]!;
      const blocked = moderated(choice.finish_reason);
      if (blocked) throw blocked;
      const text = stripReasoning(choice.message.content ?? "");
      const toolCalls = toolCallsOf(choice.message.tool_calls);
      if (!text && toolCalls.length === 0) throw emptyReply(choice.finish_reason);
      return {
        text,
        usage: parseUsage(parsed.data.usage),
        finishReason: choice.finish_reason ?? undefined,
        ...(toolCalls.length ? { toolCalls } : {}),
        ...(toolCalls.length && choice.message.reasoning_content ? { reasoning: choice.message.reasoning_content } : {}),
      };
    }

    const stream = await client.chat.completions.create(
      { ...params, stream: true, stream_options: { include_usage: true } },
      { signal: controller.signal },
    );
    phase = `the stream stalled for more than ${timeoutMs} ms`;
    arm();
    let raw = "";
    let reasoning = "";
    const calls = new ToolCallAssembler();
    let shown = "";
    let usage: Usage | undefined;
    let finishReason: string | undefined;
    let firstTokenMs: number | undefined;
    for await (const chunk of stream as AsyncIterable<unknown>) {
      arm();
      const parsed = ChunkSchema.safeParse(chunk);
      if (!parsed.success) throw new LlmError("server", `malformed stream chunk: ${describeIssues(parsed.error)}`);
      usage = parseUsage(parsed.data.usage) ?? usage;
      const choice = parsed.data.choices?.[0];
      if (!choice) continue;
      const blocked = moderated(choice.finish_reason);
      if (blocked) throw blocked;
      if (choice.finish_reason) finishReason = choice.finish_reason;
      if (choice.delta?.tool_calls?.length) calls.add(choice.delta.tool_calls);
      if (choice.delta?.reasoning_content) reasoning += choice.delta.reasoning_content;
      const piece = choice.delta?.content;
      if (!piece) continue;
      raw += piece;
      const visible = stripReasoning(raw, { partial: true });
      if (visible !== shown) {
        shown = visible;
        if (firstTokenMs === undefined && visible) firstTokenMs = Math.round(now() - input.chatStarted);
        input.onText(visible);
      }
    }
    const stopped = interrupted();
    if (stopped) throw stopped;
    const text = stripReasoning(raw);
    const toolCalls = calls.calls();
    if (!text && toolCalls.length === 0) throw emptyReply(finishReason);
    if (text !== shown) input.onText(text);
    return {
      text,
      usage,
      finishReason,
      firstTokenMs,
      ...(toolCalls.length ? { toolCalls } : {}),
      ...(toolCalls.length && reasoning ? { reasoning } : {}),
    };
  } catch (err) {
    throw interrupted() ?? err;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onCallerAbort);
  }
}
