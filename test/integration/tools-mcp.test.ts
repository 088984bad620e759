// MCP servers as tool providers with the real SDK client against a real SDK server (test/doubles/mcp):
// Streamable HTTP and SSE, `<server>__<tool>` names, the allow list, `${env:NAME}` headers, the TTL
// cache, a server that is down (only its tools gone, logged once, back after the TTL), call errors.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.js";
import { createLogger } from "../../functions/core/log.js";
import { McpServer, mcpToolName } from "../../functions/core/tools/mcp.js";
import { ToolError, type Tool } from "../../functions/core/tools/types.js";
import { startMcpDouble, type McpDouble } from "../doubles/mcp/server.js";
import { rejection } from "../helpers/rejection.js";
import { toolContext } from "../helpers/tool-context.js";

let M: McpDouble;
const TOKEN = "mcp-token-abcdef123";
const lines: string[] = [];
const log = createLogger({ level: "debug", write: (l) => lines.push(l) });
let clock = 1_000_000;
const now = () => clock;

beforeAll(async () => {
  M = await startMcpDouble({ token: TOKEN });
});
afterAll(() => M.close());
beforeEach(() => {
  lines.length = 0;
  M.calls.length = 0;
  M.requests.length = 0;
  M.setDown(false);
});

function server(entry: Record<string, unknown>, env: Record<string, string> = { DOCS_TOKEN: TOKEN }, stdio = false): McpServer {
  const cfg = parseConfig({ tools: { mcp: { servers: [{ name: "docs", headers: { Authorization: "Bearer ${env:DOCS_TOKEN}" }, timeout_ms: 2000, ...entry }] } } }, env);
  return new McpServer(cfg.tools.mcp[0]!, { stdio, ttlMs: 60_000, now });
}

const ctx = () => toolContext({ log, now });
const named = (tools: Tool[], name: string) => tools.find((t) => t.name === name)!;

describe("MCP servers", () => {
  it("offers a Streamable HTTP server's tools as <server>__<tool>, read-only ones without side effects", async () => {
    const s = server({ url: M.url });
    const tools = await s.list(log);
    expect(tools.map((t) => t.name).sort()).toEqual(["docs__always_fails", "docs__create_ticket", "docs__lookup_order", "docs__slow"]);
    expect(named(tools, "docs__lookup_order")).toMatchObject({ sideEffects: false, description: "[docs] Looks up an order by id" });
    expect(named(tools, "docs__lookup_order").parameters).toMatchObject({ type: "object", properties: { id: { type: "string" } } });
    expect(named(tools, "docs__create_ticket").sideEffects).toBe(true);
    expect(await named(tools, "docs__lookup_order").run({ id: "A1" }, ctx())).toEqual({ text: "订单 A1：已发货" });
    expect(M.calls).toEqual([{ tool: "lookup_order", args: { id: "A1" } }]);
    await s.close();
  });

  it("speaks the older SSE transport where configured", async () => {
    const s = server({ url: M.sseUrl, type: "sse", allow: ["create_ticket"] });
    const tools = await s.list(log);
    expect(tools.map((t) => t.name)).toEqual(["docs__create_ticket"]);
    expect((await tools[0]!.run({ title: "打印机坏了" }, ctx())).text).toContain("工单已创建：打印机坏了");
    await s.close();
  });

  it("lists once per TTL, and a missing token is a down server, not a crash", async () => {
    const s = server({ url: M.url });
    await s.list(log);
    const seen = M.requests.length;
    await s.list(log);
    expect(M.requests.length).toBe(seen);
    await s.close();

    const unauthorised = server({ url: M.url }, { DOCS_TOKEN: "wrong-token-123456" });
    expect(await unauthorised.list(log)).toEqual([]);
    expect(lines.join("\n")).not.toContain("wrong-token-123456");
  });

  it("a server that is down removes only its tools, is logged once, and is tried again after the TTL", async () => {
    const s = server({ url: M.url });
    M.setDown(true);
    expect(await s.list(log)).toEqual([]);
    expect(await s.list(log)).toEqual([]);
    const warnings = lines.filter((l) => l.includes("mcp: server unavailable"));
    expect(warnings).toHaveLength(1);
    M.setDown(false);
    expect(await s.list(log)).toEqual([]);
    clock += 61_000;
    expect((await s.list(log)).length).toBe(4);
    expect(lines.some((l) => l.includes("mcp: server is back"))).toBe(true);
    await s.close();
  });

  it("a tool's isError and a slow call come back as ToolErrors", async () => {
    const s = server({ url: M.url, timeout_ms: 500 });
    const tools = await s.list(log);
    const failed = await rejection(named(tools, "docs__always_fails").run({}, ctx()), ToolError);
    expect(failed.kind).toBe("http");
    expect(failed.message).toContain("backend exploded");
    expect((await rejection(named(tools, "docs__slow").run({}, ctx()), ToolError)).kind).toBe("timeout");
    await s.close();
  });

  it("stdio servers only run where the host allows them", async () => {
    const s = server({ command: "node", args: ["-e", ""], headers: {} });
    expect(await s.list(log)).toEqual([]);
    expect(lines.join("\n")).toContain("stdio servers run only in the gateway");
  });

  it("starts a stdio server where the host allows it (the gateway)", async () => {
    const s = server({ command: process.execPath, args: ["--import", "tsx", "test/doubles/mcp/stdio.ts"], headers: {}, timeout_ms: 15_000 }, {}, true);
    const tools = await s.list(log);
    expect(tools.map((t) => t.name)).toContain("docs__lookup_order");
    expect((await named(tools, "docs__lookup_order").run({ id: "B2" }, ctx())).text).toBe("订单 B2：已发货");
    await s.close();
  });

  it("keeps tool names within OpenAI's rule", () => {
    expect(mcpToolName("my-server", "查询.订单")).toBe("my-server_______");
    expect(mcpToolName("s", "x".repeat(80))).toHaveLength(64);
  });
});
