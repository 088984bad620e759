// Tool calls on the wire: assembling streamed `delta.tool_calls` fragments into whole calls, and
// flattening calls and results into plain text for endpoints that take no tools (`tools: false`).
// Streaming shape (https://platform.openai.com/docs/api-reference/chat/streaming): the first fragment
// of a call carries `index`, `id` and `function.name`; later ones with the same `index` append to
// `function.arguments`. Zhipu and DashScope send a whole call in one fragment; some OpenAI-compatible
// servers omit `index` or reuse index 0 with a new `id` for each parallel call: both are handled.
import type { ChatMessage, ToolCall } from "./types.js";
import type { ToolCallDelta } from "./schemas.js";

interface Slot {
  id: string;
  name: string;
  args: string[];
}

export class ToolCallAssembler {
  private readonly slots: Slot[] = [];
  /** Slot currently fed by each wire index. */
  private readonly byIndex = new Map<number, Slot>();

  add(deltas: readonly ToolCallDelta[]): void {
    deltas.forEach((d, position) => {
      const index = d.index ?? position;
      const id = d.id ?? "";
      const name = d.function?.name ?? "";
      let slot = this.byIndex.get(index);
      const startsNew = !slot || (id !== "" && slot.id !== "" && id !== slot.id);
      if (startsNew) {
        slot = { id, name: "", args: [] };
        this.slots.push(slot);
        this.byIndex.set(index, slot);
      }
      const s = slot!;
      if (id && !s.id) s.id = id;
      if (name && !s.name) s.name = name;
      const args = d.function?.arguments;
      if (args) s.args.push(args);
    });
  }

  get size(): number {
    return this.slots.length;
  }

  /** The whole calls; a call whose name never arrived is dropped, a missing id is made up. */
  calls(): ToolCall[] {
    return this.slots
      .filter((s) => s.name !== "")
      .map((s, i) => ({ id: s.id || `call_${i}`, name: s.name, arguments: s.args.join("") }));
  }
}

/** Calls from a non-streamed `message.tool_calls`. */
export function toolCallsOf(
  raw: ReadonlyArray<{ id?: string | null; function: { name: string; arguments?: string | null } }> | null | undefined,
): ToolCall[] {
  return (raw ?? []).map((c, i) => ({ id: c.id || `call_${i}`, name: c.function.name, arguments: c.function.arguments ?? "" }));
}

const MAX_FLAT_RESULT = 4000;

/**
 * The same conversation without tool messages: an assistant's calls become a line of its text and
 * each result becomes a user message quoting it, so a model that takes no tools still sees what the
 * tools found.
 */
export function flattenToolMessages(messages: readonly ChatMessage[]): ChatMessage[] {
  const names = new Map<string, string>();
  const out: ChatMessage[] = [];
  for (const m of messages) {
    if (m.role === "assistant" && m.toolCalls?.length) {
      for (const c of m.toolCalls) names.set(c.id, c.name);
      const calls = m.toolCalls.map((c) => `${c.name}(${c.arguments})`).join("; ");
      const said = typeof m.content === "string" ? m.content : m.content.map((p) => (p.type === "text" ? p.text : "")).join("");
      out.push({ role: "assistant", content: `${said ? `${said}\n` : ""}[调用工具] ${calls}` });
    } else if (m.role === "tool") {
      const result = m.content.length > MAX_FLAT_RESULT ? `${m.content.slice(0, MAX_FLAT_RESULT)}…` : m.content;
      out.push({ role: "user", content: `[工具 ${names.get(m.toolCallId) ?? "?"} 的结果]\n${result}` });
    } else out.push(m);
  }
  return out;
}
