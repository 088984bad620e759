// MCP servers as tool providers, with the official SDK (@modelcontextprotocol/sdk): Streamable HTTP,
// the older SSE transport (`type: "sse"`), and stdio servers in the gateway. Each server's tools are
// offered as `<server>__<tool>` (filtered by `allow`), listed once per warm instance and cached for a
// short TTL; connects and calls are bounded; a server that is down offers no tools, is logged once,
// and is tried again after the TTL. Tools not marked read-only (`annotations.readOnlyHint`) count as
// side-effecting, so a retried job never repeats them. The SDK is loaded when a server is first used,
// so hosts without MCP servers never load it.
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js";
import * as z from "zod";
import { redact, type Logger } from "../log.js";
import type { McpServerConfig } from "./config.js";
import type { ToolProvider } from "./registry.js";
import { ToolError, defineTool, type Tool } from "./types.js";

export interface McpOptions {
  /** Whether stdio servers may be started (the gateway: yes; FC functions: no). */
  stdio: boolean;
  /** How long a tool list (or a "server is down") is trusted, ms. Default 60 s. */
  ttlMs?: number;
  now?: () => number;
  version?: string;
}

const MAX_DESCRIPTION = 1000;
const ToolListSchema = z.array(
  z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    inputSchema: z.looseObject({ type: z.literal("object") }).catch({ type: "object" }),
    annotations: z.looseObject({ readOnlyHint: z.boolean().optional(), title: z.string().optional() }).optional(),
  }),
);
const ContentSchema = z.array(z.looseObject({ type: z.string(), text: z.string().optional() })).catch([]);

/** `<server>__<tool>` within OpenAI's function-name rule (letters, digits, _ and -, at most 64). */
export function mcpToolName(server: string, tool: string): string {
  return `${server}__${tool}`.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
}

/**
 * Checks a tool's `structuredContent` only for being an object where its output schema says so. We pass
 * structured results to the model as text and never act on their fields, so the SDK's default (ajv,
 * ~300 KB in the worker bundle) buys nothing here.
 */
const shallowValidator: jsonSchemaValidator = {
  getValidator: <T>(schema: { type?: unknown }) => (input: unknown) =>
    schema.type !== "object" || (typeof input === "object" && input !== null && !Array.isArray(input))
      ? { valid: true as const, data: input as T, errorMessage: undefined }
      : { valid: false as const, data: undefined, errorMessage: "structuredContent is not an object" },
};

/** The SDK's own request timeout (McpError RequestTimeout); the SDK is loaded only once a server is used. */
async function isRequestTimeout(err: unknown): Promise<boolean> {
  const { ErrorCode, McpError } = await import("@modelcontextprotocol/sdk/types.js");
  return err instanceof McpError && err.code === (ErrorCode.RequestTimeout as number);
}

function message(err: unknown): string {
  return redact(err instanceof Error ? err.message : String(err)).slice(0, 200);
}

export class McpServer implements ToolProvider {
  readonly name: string;
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private cache: { tools: Tool[]; until: number } | undefined;
  private downUntil = 0;
  private reportedDown = false;
  private readonly now: () => number;
  private readonly ttlMs: number;

  constructor(
    private readonly cfg: McpServerConfig,
    private readonly opts: McpOptions,
  ) {
    this.name = `mcp:${cfg.name}`;
    this.now = opts.now ?? Date.now;
    this.ttlMs = opts.ttlMs ?? 60_000;
  }

  async list(log: Logger): Promise<Tool[]> {
    const now = this.now();
    if (this.cache && this.cache.until > now) return this.cache.tools;
    if (this.downUntil > now) return [];
    if (this.cfg.transport === "stdio" && !this.opts.stdio) {
      this.markDown(log, "stdio servers run only in the gateway (npm start); use a url here");
      return [];
    }
    try {
      const client = await this.connect();
      const listed = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : {}, { timeout: this.cfg.timeoutMs });
        listed.push(...ToolListSchema.parse(page.tools));
        cursor = page.nextCursor;
      } while (cursor && listed.length < 500);
      const tools = listed.filter((t) => !this.cfg.allow || this.cfg.allow.includes(t.name)).map((t) => this.toTool(t));
      if (this.reportedDown) log.info("mcp: server is back", { server: this.cfg.name, tools: tools.length });
      this.reportedDown = false;
      this.cache = { tools, until: this.now() + this.ttlMs };
      return tools;
    } catch (err) {
      await this.reset();
      this.markDown(log, message(err));
      return [];
    }
  }

  async close(): Promise<void> {
    await this.reset();
  }

  private markDown(log: Logger, reason: string): void {
    this.downUntil = this.now() + this.ttlMs;
    this.cache = undefined;
    if (this.reportedDown) return;
    this.reportedDown = true;
    log.warn("mcp: server unavailable; its tools are left out", { server: this.cfg.name, reason });
  }

  private toTool(t: z.output<typeof ToolListSchema>[number]): Tool {
    const server = this.cfg.name;
    const description = `[${server}] ${t.description ?? t.annotations?.title ?? t.name}`.slice(0, MAX_DESCRIPTION);
    return defineTool({
      name: mcpToolName(server, t.name),
      description,
      args: z.record(z.string(), z.unknown()),
      parameters: t.inputSchema,
      sideEffects: t.annotations?.readOnlyHint !== true,
      timeoutMs: this.cfg.timeoutMs,
      status: () => `正在调用 ${server} 的 ${t.annotations?.title ?? t.name}`,
      run: async (args, ctx) => {
        let result;
        try {
          const client = await this.connect();
          result = await client.callTool({ name: t.name, arguments: args }, undefined, { timeout: this.cfg.timeoutMs, signal: ctx.signal });
        } catch (err) {
          if (ctx.signal.aborted || (await isRequestTimeout(err)))
            throw new ToolError("timeout", `${server} 在 ${this.cfg.timeoutMs} ms 内没有回答，可以稍后重试`);
          await this.reset();
          this.cache = undefined;
          throw new ToolError("unavailable", `MCP 服务 ${server} 调用失败：${message(err)}`);
        }
        const parts = ContentSchema.parse(result.content);
        const text = parts.map((p) => (p.type === "text" ? (p.text ?? "") : `[${p.type}]`)).join("\n").trim();
        const structured = (result as { structuredContent?: unknown }).structuredContent;
        const body = text || (structured !== undefined ? JSON.stringify(structured) : "（没有内容）");
        if (result.isError === true) throw new ToolError("http", `${server} 报告错误：${body.slice(0, 1000)}`);
        return { text: body };
      },
    });
  }

  private connect(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
      const client = new Client({ name: "dingclaw", version: this.opts.version ?? "0.1.0" }, { jsonSchemaValidator: shallowValidator });
      const transport = await this.transport();
      const timer = AbortSignal.timeout(this.cfg.timeoutMs);
      await Promise.race([
        client.connect(transport, { timeout: this.cfg.timeoutMs }),
        new Promise((_, reject) => timer.addEventListener("abort", () => reject(new Error(`no answer within ${this.cfg.timeoutMs} ms`)), { once: true })),
      ]).catch(async (err: unknown) => {
        await client.close().catch(() => undefined);
        throw err;
      });
      this.client = client;
      return client;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async transport(): Promise<Transport> {
    const { cfg } = this;
    const requestInit: RequestInit = { headers: cfg.headers };
    if (cfg.transport === "sse") {
      const { SSEClientTransport } = await import("@modelcontextprotocol/sdk/client/sse.js");
      return new SSEClientTransport(new URL(cfg.url!), { requestInit });
    }
    if (cfg.transport === "http") {
      const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
      return new StreamableHTTPClientTransport(new URL(cfg.url!), { requestInit });
    }
    // Loaded only where stdio servers are allowed (the gateway), so FC bundles never start processes.
    const { StdioClientTransport, getDefaultEnvironment } = await import("@modelcontextprotocol/sdk/client/stdio.js");
    return new StdioClientTransport({ command: cfg.command!, args: cfg.args, env: { ...getDefaultEnvironment(), ...cfg.env }, stderr: "ignore" });
  }

  private async reset(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.close().catch(() => undefined);
  }
}

export function mcpServers(configs: readonly McpServerConfig[], opts: McpOptions): McpServer[] {
  return configs.map((c) => new McpServer(c, opts));
}
