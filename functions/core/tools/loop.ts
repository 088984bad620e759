// The tool loop of one turn: ask the model (tools offered), run the calls it asks for, hand the
// results back, repeat — at most `maxIterations` rounds of calls and within the turn's time budget,
// then one last answer without tools, so the user always gets the best answer so far (with a plain
// note when a bound cut it short). Tool failures of any kind become the call's result, in words the
// model can act on. Side-effecting calls go through the job's journal: recorded before the next LLM
// call, re-used (never repeated) when a retried job asks for the same call again.
import type { ChatMessage, ChatRequest, ChatResult, LlmClient, ToolCall, Usage } from "../llm/index.js";
import { LlmError } from "../llm/index.js";
import { redact } from "../log.js";
import { emitTrace } from "../trace-events.js";
import { JournalState, callKey, type ToolJournal } from "./journal.js";
import * as words from "./phrases.js";
import type { ToolSet } from "./registry.js";
import { ToolError, type SourceLink, type ToolContext, type ToolErrorKind } from "./types.js";

export interface ToolLoopInput {
  llm: Pick<LlmClient, "chat">;
  /** Model choice and correlation for every round. */
  request: Omit<ChatRequest, "messages" | "tools" | "onText" | "signal">;
  /** System prompt, history and the user's message. */
  messages: ChatMessage[];
  tools: ToolSet;
  context: Omit<ToolContext, "signal">;
  /** Rounds of tool calls before the last, tool-less answer (agents.defaults.max_tool_iterations). */
  maxIterations: number;
  /** The whole turn, every round and call included. */
  budgetMs: number;
  /** Each round's visible text as it streams (a round that ends in tool calls may show a preamble). */
  onText?: (textSoFar: string) => void;
  /** What the bot is doing while tools run. */
  onStatus?: (line: string) => void | Promise<void>;
  journal?: ToolJournal;
}

export interface ToolCallRecord {
  name: string;
  ms: number;
  ok: boolean;
  error?: ToolErrorKind | "unknown_tool" | "bad_json" | "other";
  /** The result came from the journal of an earlier attempt. */
  reused?: boolean;
  /** For debug logs only (may hold personal data). */
  args: string;
  result: string;
}

export interface ToolLoopResult {
  /** The answer to deliver: the model's text, plus a note when a bound stopped the loop and the sources when web results were used. */
  text: string;
  /** The last LLM answer. */
  final: ChatResult;
  /** Summed over every round. */
  usage: Usage;
  /** LLM calls made. */
  rounds: number;
  calls: ToolCallRecord[];
  /** The assistant tool-call messages and tool results of this turn, in order (kept with the conversation). */
  transcript: ChatMessage[];
  stopped?: "iterations" | "budget";
}

/** More calls than this in one model message are refused (each gets a result saying so). */
export const MAX_CALLS_PER_ROUND = 6;
/** A tool result longer than this is cut (the model's context is not a dump). */
export const MAX_RESULT_CHARS = 8000;
const MAX_SOURCES = 5;

export async function runToolLoop(input: ToolLoopInput): Promise<ToolLoopResult> {
  const now = input.context.now;
  const started = now();
  const deadline = started + input.budgetMs;
  // The last answer gets a quarter of the budget (at most 30 s) that tool rounds may not use.
  const reserve = Math.min(30_000, input.budgetMs / 4);
  const turnSignal = AbortSignal.timeout(input.budgetMs);
  const journal = new JournalState(input.journal, input.context.log);
  const messages = withGuidance(input.messages, input.tools.names);
  const transcript: ChatMessage[] = [];
  const calls: ToolCallRecord[] = [];
  const links: SourceLink[] = [];
  const seen = new Map<string, string>();
  const usage: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  let rounds = 0;
  let toolRounds = 0;
  let lastText = "";
  let stopped: ToolLoopResult["stopped"];

  for (;;) {
    const timeLeft = deadline - now() > reserve;
    const offer = toolRounds < input.maxIterations && timeLeft && input.tools.size > 0;
    if (!offer && toolRounds > 0 && !stopped) stopped = timeLeft ? "iterations" : "budget";
    let result: ChatResult;
    try {
      result = await input.llm.chat({
        ...input.request,
        messages,
        ...(offer ? { tools: input.tools.specs() } : {}),
        ...(input.onText ? { onText: input.onText } : {}),
        signal: turnSignal,
      });
    } catch (err) {
      // The budget ran out during the last answer: deliver what the earlier rounds had.
      if (toolRounds > 0 && err instanceof LlmError && err.aborted && turnSignal.aborted) {
        input.context.log.warn("tools: turn budget ran out during the answer", { rounds });
        const fallback: ChatResult = { text: lastText, modelName: "", provider: "", model: "", usage, attempts: err.attempts, totalMs: now() - started };
        return finish(fallback, "budget");
      }
      throw err;
    }
    rounds++;
    addUsage(usage, result.usage);
    if (result.text) lastText = result.text;
    if (!offer || !result.toolCalls?.length) return finish(result, stopped);

    toolRounds++;
    const assistant: ChatMessage = {
      role: "assistant",
      content: result.text,
      toolCalls: result.toolCalls,
      ...(result.reasoning ? { reasoning: result.reasoning } : {}),
    };
    messages.push(assistant);
    transcript.push(assistant);
    await announce(result.toolCalls);
    const outcomes = await Promise.all(result.toolCalls.map((call, i) => execute(call, i)));
    await journal.flush();
    for (const [i, call] of result.toolCalls.entries()) {
      const tool: ChatMessage = { role: "tool", toolCallId: call.id, content: outcomes[i]! };
      messages.push(tool);
      transcript.push(tool);
    }
  }

  function finish(final: ChatResult, why: ToolLoopResult["stopped"]): ToolLoopResult {
    let text = final.text || (why ? "" : lastText);
    if (why) text = `${text || words.nothingFound()}\n\n${why === "budget" ? words.budgetNote() : words.iterationLimitNote()}`;
    const sources = uniqueLinks(links);
    if (sources.length > 0 && !sources.some((l) => text.includes(l.url))) text += words.sourcesFooter(sources.slice(0, MAX_SOURCES));
    return { text, final, usage, rounds, calls, transcript, ...(why ? { stopped: why } : {}) };
  }

  async function announce(toolCalls: readonly ToolCall[]): Promise<void> {
    if (!input.onStatus) return;
    const lines = toolCalls.map((c) => {
      const tool = input.tools.get(c.name);
      if (!tool?.status) return words.defaultStatus(c.name);
      const args = tool.args.safeParse(parseJson(c.arguments).value);
      return args.success ? tool.status(args.data) : words.defaultStatus(c.name);
    });
    try {
      await input.onStatus(words.statusLine(lines));
    } catch (err) {
      input.context.log.warn("tools: status line not shown", { error: err instanceof Error ? err.message : String(err) });
    }
  }

  async function execute(call: ToolCall, index: number): Promise<string> {
    const t0 = now();
    const record = (content: string, ok: boolean, error?: ToolCallRecord["error"], reused?: boolean): string => {
      const text = content.length > MAX_RESULT_CHARS ? `${content.slice(0, MAX_RESULT_CHARS)}…（结果过长，已截断）` : content;
      const ms = Math.round(now() - t0);
      calls.push({ name: call.name, ms, ok, ...(error ? { error } : {}), ...(reused ? { reused } : {}), args: call.arguments, result: text });
      const { requestId, msgId } = input.context;
      emitTrace({ type: "tool.call", ...(requestId ? { requestId } : {}), msgId, name: call.name, ok, ms, ...(error ? { error } : {}), ...(reused ? { reused } : {}) });
      return text;
    };
    if (index >= MAX_CALLS_PER_ROUND) return record(words.tooManyCalls(MAX_CALLS_PER_ROUND), false, "limit");
    const tool = input.tools.get(call.name);
    if (!tool) return record(words.unknownTool(call.name, input.tools.names), false, "unknown_tool");
    const json = parseJson(call.arguments);
    if (json.error !== undefined) return record(words.toolFailed(call.name, "bad_args", words.badJson(json.error)), false, "bad_json");
    const args = tool.args.safeParse(json.value);
    if (!args.success) {
      const detail = args.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "参数"}：${i.message}`).join("；");
      return record(words.toolFailed(call.name, "bad_args", detail), false, "bad_args");
    }
    const key = callKey(call.name, args.data);
    if (!tool.sideEffects && seen.has(key)) return record(words.repeatedCall() + seen.get(key)!, true, undefined, true);
    if (tool.sideEffects) {
      const earlier = await journal.recall(key);
      if (earlier?.state === "done") return record(earlier.content ?? "", earlier.ok ?? true, undefined, true);
      if (earlier?.state === "started") return record(words.startedBefore(), false, "other", true);
    }
    const left = deadline - now();
    if (left < 1000) return record(words.toolFailed(call.name, "timeout", words.budgetExhausted()), false, "timeout");
    const timeoutMs = Math.min(tool.timeoutMs, left);
    if (tool.sideEffects) await journal.start(key);
    const outcome = await runOne(call.name, timeoutMs, (signal) => tool.run(args.data, { ...input.context, signal }));
    if (outcome.links) links.push(...outcome.links);
    if (tool.sideEffects) journal.done(key, outcome.content, outcome.ok);
    else seen.set(key, outcome.content);
    return record(outcome.content, outcome.ok, outcome.error);
  }

  async function runOne(
    name: string,
    timeoutMs: number,
    run: (signal: AbortSignal) => Promise<{ text: string; links?: SourceLink[] }>,
  ): Promise<{ content: string; ok: boolean; error?: ToolCallRecord["error"]; links?: SourceLink[] }> {
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), turnSignal]);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new ToolError("timeout", `${timeoutMs} ms 内没有结果，可以稍后重试或换个问法`));
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const out = await Promise.race([run(signal), aborted]);
      return { content: out.text, ok: true, ...(out.links?.length ? { links: out.links } : {}) };
    } catch (err) {
      if (err instanceof ToolError) return { content: words.toolFailed(name, err.kind, err.message), ok: false, error: err.kind };
      if (signal.aborted) return { content: words.toolFailed(name, "timeout", `${timeoutMs} ms 内没有结果`), ok: false, error: "timeout" };
      input.context.log.warn("tools: call failed unexpectedly", { tool: name, error: err instanceof Error ? err.message : String(err) });
      const detail = redact(err instanceof Error ? err.message : String(err)).slice(0, 200);
      return { content: words.toolFailed(name, "unavailable", detail), ok: false, error: "other" };
    } finally {
      if (onAbort) signal.removeEventListener("abort", onAbort);
      aborted.catch(() => undefined);
    }
  }
}

function withGuidance(messages: readonly ChatMessage[], names: readonly string[]): ChatMessage[] {
  const out = [...messages];
  if (names.length === 0) return out;
  const first = out[0];
  const guidance = words.toolGuidance(names);
  if (first?.role === "system" && typeof first.content === "string") out[0] = { role: "system", content: `${first.content}\n\n${guidance}` };
  else out.unshift({ role: "system", content: guidance });
  return out;
}

function parseJson(text: string): { value: unknown; error?: undefined } | { value?: undefined; error: string } {
  if (text.trim() === "") return { value: {} };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return { error: err instanceof Error ? err.message.slice(0, 120) : "无法解析" };
  }
}

function addUsage(sum: Usage, u: Usage): void {
  sum.promptTokens += u.promptTokens;
  sum.completionTokens += u.completionTokens;
  sum.totalTokens += u.totalTokens;
  if (u.estimated) sum.estimated = true;
}

function uniqueLinks(links: readonly SourceLink[]): SourceLink[] {
  const seen = new Set<string>();
  return links.filter((l) => (seen.has(l.url) ? false : (seen.add(l.url), true)));
}
