// LLM double, function calling as the Chat Completions API defines it
// (https://platform.openai.com/docs/api-reference/chat/create, `tools`, `tool_calls`, role "tool";
// streaming: https://platform.openai.com/docs/api-reference/chat/streaming). Zhipu
// (https://docs.bigmodel.cn/cn/guide/capabilities/function-calling), Qwen/DashScope
// (https://help.aliyun.com/zh/model-studio/qwen-function-calling), DeepSeek
// (https://api-docs.deepseek.com/guides/function_calling) and Moonshot
// (https://platform.moonshot.cn/docs/api/tool-use) document the same shapes on their compatible APIs.
// Request checks return OpenAI's 400 messages for the mistakes a client can make.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { ScriptedToolCall } from "./script.js";
import { splitText } from "./wire.js";

/** OpenAI's pattern for function names. */
const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const ToolsSchema = z.array(
  z.looseObject({
    type: z.literal("function"),
    function: z.looseObject({
      name: z.string().regex(NAME, { error: "string does not match pattern ^[a-zA-Z0-9_-]{1,64}$" }),
      description: z.string().optional(),
      parameters: z.looseObject({ type: z.literal("object") }).optional(),
    }),
  }),
);

interface WireMessage {
  role: string;
  tool_calls?: unknown;
  tool_call_id?: unknown;
}

const AssistantCalls = z.array(z.looseObject({ id: z.string(), type: z.literal("function"), function: z.looseObject({ name: z.string(), arguments: z.string() }) }));

/** Names of the offered tools, or the 400 message a provider answers for a malformed `tools`. */
export function checkTools(tools: unknown): { names: string[] } | { error: string } {
  if (tools === undefined || tools === null) return { names: [] };
  const parsed = ToolsSchema.safeParse(tools);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { error: `Invalid 'tools${issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}': ${issue.message}` };
  }
  return { names: parsed.data.map((t) => t.function.name) };
}

/**
 * OpenAI's rules for tool messages: each `role: "tool"` answers a call of the assistant message
 * before it, and every call of an assistant message is answered before the next non-tool message.
 */
export function checkToolMessages(messages: readonly WireMessage[]): string | undefined {
  let open: string[] = [];
  for (const [i, m] of messages.entries()) {
    if (m.role === "tool") {
      const id = typeof m.tool_call_id === "string" ? m.tool_call_id : "";
      if (!open.includes(id))
        return `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'. (messages[${i}])`;
      open = open.filter((x) => x !== id);
      continue;
    }
    if (open.length > 0)
      return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${open.join(", ")}`;
    if (m.role === "assistant" && m.tool_calls !== undefined && m.tool_calls !== null) {
      const calls = AssistantCalls.safeParse(m.tool_calls);
      if (!calls.success) return `Invalid 'messages[${i}].tool_calls': ${calls.error.issues[0]!.message}`;
      open = calls.data.map((c) => c.id);
    }
  }
  if (open.length > 0)
    return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${open.join(", ")}`;
  return undefined;
}

export interface WireToolCall {
  id: string;
  name: string;
  arguments: string;
}

export function wireCalls(calls: readonly ScriptedToolCall[]): WireToolCall[] {
  return calls.map((c) => ({
    id: c.id ?? `call_${randomBytes(9).toString("base64url")}`,
    name: c.name,
    arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments ?? {}),
  }));
}

/** `message.tool_calls` of a non-streamed completion. */
export function messageToolCalls(calls: readonly WireToolCall[]) {
  return calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
}

/** The `delta` objects that stream these calls. */
export function toolCallDeltas(calls: readonly WireToolCall[], mode: "fragments" | "whole", size: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  calls.forEach((c, index) => {
    if (mode === "whole") {
      out.push({ tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }] });
      return;
    }
    out.push({ tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }] });
    for (const piece of splitText(c.arguments, size)) out.push({ tool_calls: [{ index, function: { arguments: piece } }] });
  });
  return out;
}
