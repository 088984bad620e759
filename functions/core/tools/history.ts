// Tool calls in the conversation history: a turn's calls and results are stored with its answer
// (shortened), and replayed to the model before that answer as OpenAI-style tool messages, so a
// follow-up question can build on what the tools found. Ids are derived from the turn, stable per replay.
import type { ChatMessage } from "../llm/index.js";
import type { TurnToolCall } from "../store/history.js";

/** The calls and results of this turn's transcript, in order, for storage with the answer. */
export function callsToStore(transcript: readonly ChatMessage[]): TurnToolCall[] {
  const results = new Map<string, string>();
  for (const m of transcript) if (m.role === "tool") results.set(m.toolCallId, m.content);
  const out: TurnToolCall[] = [];
  for (const m of transcript)
    if (m.role === "assistant") for (const c of m.toolCalls ?? []) out.push({ name: c.name, args: c.arguments, result: results.get(c.id) ?? "" });
  return out;
}

/** The messages that replay a stored turn's tool calls (one assistant message with every call, then each result). */
export function replayCalls(calls: readonly TurnToolCall[], turnId: string): ChatMessage[] {
  if (calls.length === 0) return [];
  const id = (i: number) => `call_${turnId.replace(/[^A-Za-z0-9_-]/g, "").slice(-24)}_${i}`;
  return [
    { role: "assistant", content: "", toolCalls: calls.map((c, i) => ({ id: id(i), name: c.name, arguments: c.args })) },
    ...calls.map((c, i): ChatMessage => ({ role: "tool", toolCallId: id(i), content: c.result })),
  ];
}
