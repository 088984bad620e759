// LLM double, scripting: what the double answers (replies and faults), how entries match a request
// (by key and/or model), and the zod schemas used by the HTTP control API.
import { z } from "zod";

export const FAULT_KINDS = [
  "rate_limit", // 429 with Retry-After
  "server_error", // 500
  "unavailable", // 503
  "hang", // no answer at all until the client gives up or the double closes
  "drop", // the socket is destroyed without a response
  "redirect", // 307 to `location` (checks that a key never follows a redirect elsewhere)
  "moderation_dashscope", // 400 {"error":{"code":"data_inspection_failed",...}}
  "moderation_zhipu", // 400 {"error":{"code":"1301",...}}
  "moderation_moonshot", // 400 {"error":{"type":"content_filter",...}}
  "auth", // 401 invalid_api_key
  "context_length", // 400 context_length_exceeded
  "quota_dashscope", // 400 Arrearage
  "quota_deepseek", // 402 Insufficient Balance
  "quota_zhipu", // 429 {"error":{"code":"1113",...}}
  "quota_openai", // 429 insufficient_quota
  "malformed", // 200 whose body (or SSE data) is not valid JSON
  "bad_shape", // 200 with valid JSON of the wrong shape
  "midstream_moderation", // some text, then finish_reason "sensitive" (Zhipu)
  "midstream_error", // some text, then an SSE error object (DashScope data_inspection_failed)
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

const UsageSchema = z.object({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative(),
});

const MatchSchema = z.object({ key: z.string().optional(), model: z.string().optional() });

/** A scripted tool call; `arguments` as an object is serialised, as a string it is sent verbatim (malformed JSON too). */
const ToolCallSchema = z.object({
  id: z.string().optional(),
  name: z.string().min(1),
  arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
});

const Common = {
  /** Only requests with this bearer key and/or this `model` use the entry. */
  match: MatchSchema.optional(),
  /** How many requests the entry serves (default 1). */
  times: z.number().int().positive().optional(),
  /** Serves every matching request until reset. */
  sticky: z.boolean().optional(),
  /** Milliseconds to wait before the response starts. */
  delayMs: z.number().nonnegative().optional(),
};

export const ReplySchema = z.strictObject({
  ...Common,
  /** Answer text; default: the deterministic echo of the last user message. */
  text: z.string().optional(),
  /** Sent as `reasoning_content` (DeepSeek-R1 / QwQ style), before the text. */
  reasoning: z.string().optional(),
  /** Inlined as `<think>…</think>` before the text. */
  think: z.string().optional(),
  /** Usage to report; `false` reports none. Default: counted from the texts. */
  usage: z.union([UsageSchema, z.literal(false)]).optional(),
  finishReason: z.string().optional(),
  /** Characters per SSE chunk (default 4). */
  chunkSize: z.number().int().positive().optional(),
  /** Milliseconds between SSE chunks. */
  chunkDelayMs: z.number().nonnegative().optional(),
  /** Tool calls after the text (finish_reason "tool_calls"); `text` defaults to none then. */
  toolCalls: z.array(ToolCallSchema).min(1).optional(),
  /**
   * How streamed calls arrive: "fragments" (default, OpenAI: id and name first, then the arguments in
   * pieces) or "whole" (each call in one delta, as Zhipu and DashScope send them).
   */
  toolCallChunks: z.enum(["fragments", "whole"]).optional(),
});

export const FaultSchema = z.strictObject({
  ...Common,
  fault: z.enum(FAULT_KINDS),
  /** Seconds for the Retry-After header of rate_limit. */
  retryAfter: z.number().int().nonnegative().optional(),
  /** Text sent before a mid-stream fault. */
  text: z.string().optional(),
  /** Target of the redirect fault. */
  location: z.string().optional(),
});

export const ScriptEntrySchema = z.union([FaultSchema, ReplySchema]);
export const ScriptBodySchema = z.union([ScriptEntrySchema, z.array(ScriptEntrySchema)]);
export const KeysBodySchema = z.object({ keys: z.array(z.string()).nullable() });

export type Usage = z.infer<typeof UsageSchema>;
export type ScriptedToolCall = z.infer<typeof ToolCallSchema>;
export type Reply = z.infer<typeof ReplySchema>;
export type Fault = z.infer<typeof FaultSchema>;
export type ScriptEntry = Reply | Fault;

export function isFault(entry: ScriptEntry): entry is Fault {
  return "fault" in entry && typeof entry.fault === "string";
}

interface Queued {
  entry: ScriptEntry;
  left: number;
}

/** The queue of scripted entries; the first one matching a request serves it. */
export class Script {
  private queue: Queued[] = [];

  add(entries: ScriptEntry[]): void {
    for (const entry of entries) this.queue.push({ entry, left: entry.sticky ? Infinity : (entry.times ?? 1) });
  }

  take(key: string | undefined, model: string | undefined): ScriptEntry | undefined {
    const i = this.queue.findIndex(
      ({ entry: { match } }) =>
        (match?.key === undefined || match.key === key) && (match?.model === undefined || match.model === model),
    );
    if (i < 0) return undefined;
    const q = this.queue[i]!;
    q.left -= 1;
    if (q.left <= 0) this.queue.splice(i, 1);
    return q.entry;
  }

  clear(): void {
    this.queue = [];
  }

  get pending(): number {
    return this.queue.length;
  }
}
