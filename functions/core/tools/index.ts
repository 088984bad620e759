// The tools a host offers, built from the config: find_colleague (with DingTalk credentials), web_search
// (when a search provider is enabled), web_fetch, the reminder tools (with DingTalk credentials and a
// reminder store) and MCP servers' tools. Import tools from here.
import type { AppConfig } from "../config.js";
import type { DingTalkClient } from "../dingtalk/client.js";
import type { Logger } from "../log.js";
import { findColleagueTool } from "./find-colleague.js";
import { mcpServers } from "./mcp.js";
import { ToolRegistry, type ToolProvider } from "./registry.js";
import { reminderTools } from "./reminders.js";
import type { ReminderStore } from "../store/reminders.js";
import type { Tool } from "./types.js";
import { webFetchTool } from "./web-fetch.js";
import { webSearchTool } from "./web-search.js";

export { ToolRegistry, ToolSet, type ToolProvider } from "./registry.js";
export { McpServer, mcpToolName } from "./mcp.js";
export { runToolLoop, type ToolCallRecord, type ToolLoopResult } from "./loop.js";
export { ToolJournalStore } from "./journal-store.js";
export type { ToolJournal } from "./journal.js";
export { callsToStore, replayCalls } from "./history.js";
export { ToolError, defineTool, type Tool, type ToolContext } from "./types.js";

export interface ToolHostOptions {
  dingtalk: DingTalkClient | undefined;
  /** Where reminders live; with DingTalk credentials it enables the reminder tools. */
  reminders?: ReminderStore;
  log: Logger;
  /** Extra providers (reminders, tests). */
  providers?: ToolProvider[];
  /** Whether stdio MCP servers may run (the gateway; never in FC functions). */
  stdioMcp?: boolean;
  now?: () => number;
}

const WEB_FETCH_TIMEOUT_MS = 15_000;

export function buildToolRegistry(config: Pick<AppConfig, "tools" | "agent" | "dingtalk">, opts: ToolHostOptions): ToolRegistry {
  const { tools } = config;
  const builtins: Tool[] = [];
  if (opts.dingtalk && tools.dingtalk.enabled) builtins.push(findColleagueTool(opts.dingtalk, tools.dingtalk.contactFields, opts.now));
  const search = webSearchTool(tools.search);
  if (search) builtins.push(search);
  if (tools.webFetch.enabled) builtins.push(webFetchTool({ maxBytes: tools.webFetch.maxBytes, timeoutMs: WEB_FETCH_TIMEOUT_MS }));
  if (opts.dingtalk && opts.reminders && tools.reminders.enabled) builtins.push(...reminderTools(opts.reminders, config));
  const mcp = mcpServers(tools.mcp, { stdio: opts.stdioMcp ?? false, ...(opts.now ? { now: opts.now } : {}) });
  return new ToolRegistry(builtins, [...mcp, ...(opts.providers ?? [])]);
}
