// What a tool is: a name, a description, a zod schema for its arguments (also the JSON Schema the
// model sees), whether it changes anything outside (side effects), a timeout, and `run`. Tools get
// the turn's context (who asked, in which conversation, for which robot) and report failures as a
// ToolError whose message tells the model what went wrong and what it can do about it.
import type * as z from "zod";
import type { Logger } from "../log.js";

/** Who and where a turn is: reminders and lookups need the asker and the chat. */
export interface ToolContext {
  requestId?: string;
  /** The inbound message's key (`robotCode:msgId`); stable across retries of its job. */
  messageKey: string;
  msgId: string;
  robotCode: string;
  sender: { staffId?: string; id: string; nick?: string };
  conversation: { id: string; type: "direct" | "group"; title?: string };
  /** Aborts when the call's timeout or the turn's time budget runs out. */
  signal: AbortSignal;
  log: Logger;
  now: () => number;
}

/** A link a tool's answer came from; answers built on them cite them. */
export interface SourceLink {
  title: string;
  url: string;
}

export interface ToolOutput {
  /** What the model reads (plain text or JSON text). */
  text: string;
  /** Web pages the result came from. */
  links?: SourceLink[];
}

export interface Tool<S extends z.ZodType = z.ZodType> {
  /** `^[a-zA-Z0-9_-]{1,64}$` (OpenAI's rule for function names). */
  name: string;
  description: string;
  args: S;
  /** JSON Schema to show the model instead of `args`' own (tools that arrive with one: MCP). */
  parameters?: Record<string, unknown>;
  /**
   * True when a call changes something outside (creates a reminder, sends a message): a retried job
   * re-uses its recorded result instead of calling it again. Read-only tools may simply re-run.
   */
  sideEffects: boolean;
  timeoutMs: number;
  /** One short line for the user while it runs, e.g. "正在搜索：上海天气". */
  status?: (args: z.output<S>) => string;
  run(args: z.output<S>, ctx: ToolContext): Promise<ToolOutput>;
}

export type ToolErrorKind = "bad_args" | "permission" | "not_found" | "http" | "timeout" | "unavailable" | "limit";

/** A failure the model should hear about in words it can act on (never a stack or a secret). */
export class ToolError extends Error {
  constructor(
    readonly kind: ToolErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "ToolError";
  }
}

/** Declares a tool with its argument types inferred from the schema. */
export function defineTool<S extends z.ZodType>(tool: Tool<S>): Tool {
  return tool;
}
