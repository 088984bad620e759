// MCP double: a real MCP server built with the official SDK (@modelcontextprotocol/sdk), served over
// Streamable HTTP (`POST /mcp`, stateless) and the older HTTP+SSE transport (`GET /sse` + `POST
// /messages?sessionId=`), as the MCP specification defines them
// (https://modelcontextprotocol.io/specification/2025-06-18/basic/transports). Optionally requires a
// bearer token; records tool calls; can go down (connections refused with 503) and come back.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

export interface McpDouble {
  /** Streamable HTTP endpoint. */
  url: string;
  /** HTTP+SSE endpoint (the older transport). */
  sseUrl: string;
  calls: Array<{ tool: string; args: Record<string, unknown> }>;
  /** Requests seen (method + path), to count list/connect round trips. */
  requests: string[];
  /** While down, every request answers 503. */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

/** The tools every instance serves: a read-only lookup, a side-effecting create, a failing one, a slow one. */
export function build(calls: McpDouble["calls"]): McpServer {
  const server = new McpServer({ name: "dingclaw-mcp-double", version: "1.0.0" });
  server.registerTool(
    "lookup_order",
    { description: "Looks up an order by id", inputSchema: { id: z.string() }, annotations: { readOnlyHint: true, title: "查订单" } },
    ({ id }) => {
      calls.push({ tool: "lookup_order", args: { id } });
      return { content: [{ type: "text", text: `订单 ${id}：已发货` }] };
    },
  );
  server.registerTool("create_ticket", { description: "Creates a support ticket", inputSchema: { title: z.string() } }, ({ title }) => {
    calls.push({ tool: "create_ticket", args: { title } });
    return { content: [{ type: "text", text: `工单已创建：${title}（T-${calls.length}）` }] };
  });
  server.registerTool("always_fails", { description: "Fails", inputSchema: {} }, () => {
    calls.push({ tool: "always_fails", args: {} });
    return { content: [{ type: "text", text: "backend exploded" }], isError: true };
  });
  server.registerTool("slow", { description: "Takes too long", inputSchema: {} }, async () => {
    await new Promise((r) => setTimeout(r, 5_000));
    return { content: [{ type: "text", text: "late" }] };
  });
  return server;
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch {
        resolve(undefined);
      }
    });
    req.on("error", reject);
  });
}

export async function startMcpDouble(opts: { token?: string } = {}): Promise<McpDouble> {
  const calls: McpDouble["calls"] = [];
  const requests: string[] = [];
  const sse = new Map<string, SSEServerTransport>();
  let down = false;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://double");
    requests.push(`${req.method} ${url.pathname}`);
    if (down) {
      res.writeHead(503).end();
      return;
    }
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": "Bearer" }).end('{"error":"unauthorized"}');
      return;
    }
    if (url.pathname === "/mcp" && req.method === "POST") {
      const body = await readBody(req);
      const server = build(calls);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on("close", () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
      return;
    }
    if (url.pathname === "/mcp") {
      res.writeHead(405, { allow: "POST" }).end();
      return;
    }
    if (url.pathname === "/sse" && req.method === "GET") {
      const transport = new SSEServerTransport("/messages", res);
      sse.set(transport.sessionId, transport);
      res.on("close", () => sse.delete(transport.sessionId));
      await build(calls).connect(transport);
      return;
    }
    if (url.pathname === "/messages" && req.method === "POST") {
      const transport = sse.get(url.searchParams.get("sessionId") ?? "");
      if (!transport) {
        res.writeHead(404).end("unknown session");
        return;
      }
      await transport.handlePostMessage(req, res, await readBody(req));
      return;
    }
    res.writeHead(404).end();
  };

  const http = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url: `${origin}/mcp`,
    sseUrl: `${origin}/sse`,
    calls,
    requests,
    setDown: (d) => {
      down = d;
      if (d) http.closeAllConnections();
    },
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
