// The `tools` config section: PicoClaw's tools.web entries (supported ones used, others warned about),
// the MCP server list and map forms with `${env:NAME}` headers, contact fields, loop bounds.
import { describe, expect, it } from "vitest";
import type { ConfigError} from "../../functions/core/config.js";
import { parseConfig } from "../../functions/core/config.js";
import { redact } from "../../functions/core/log.js";

describe("tools config", () => {
  it("defaults: no search provider, web_fetch and find_colleague on, 8 tool rounds", () => {
    const cfg = parseConfig({});
    expect(cfg.tools).toEqual({ search: [], webFetch: { enabled: true, maxBytes: 2_000_000 }, dingtalk: { enabled: true, contactFields: [] }, mcp: [], reminders: { enabled: true, maxPerUser: 20, minIntervalMinutes: 60 } });
    expect(cfg.agent.maxToolIterations).toBe(8);
    expect(cfg.agent.turnBudgetMs).toBe(180_000);
  });

  it("loads PicoClaw's tools.web unchanged: supported providers in order, unsupported ones with a warning", () => {
    const cfg = parseConfig({
      tools: {
        web: {
          enabled: true,
          proxy: "",
          duckduckgo: { enabled: true, max_results: 5 },
          brave: { enabled: false, api_key: "x" },
          glm_search: { enabled: true, api_key: "zhipu-search-key-1", search_engine: "search_pro", max_results: 3 },
          tavily: { enabled: true, api_key: "tvly-key-000001", base_url: "http://127.0.0.1:9/" },
          bocha: { enabled: false, api_key: "sk-bocha-000001" },
        },
      },
    });
    expect(cfg.tools.search).toEqual([
      { name: "zhipu", apiKey: "zhipu-search-key-1", apiBase: "https://open.bigmodel.cn/api/paas/v4", maxResults: 3, searchEngine: "search_pro" },
      { name: "tavily", apiKey: "tvly-key-000001", apiBase: "http://127.0.0.1:9", maxResults: 5 },
    ]);
    expect(cfg.warnings).toEqual([expect.stringContaining("tools.web.duckduckgo: search provider not supported")]);
    expect(redact("key zhipu-search-key-1")).toBe("key ***");
  });

  it("an enabled provider without a key is a warning, a bad max_results a clear error", () => {
    expect(parseConfig({ tools: { web: { bocha: { enabled: true } } } }).warnings).toEqual([expect.stringContaining("api_key is empty")]);
    expect(() => parseConfig({ tools: { web: { bocha: { enabled: true, api_key: "k", max_results: 99 } } } })).toThrow(/tools\.web\.bocha\.max_results/);
  });

  it("MCP servers as a list or PicoClaw's map, headers from the environment, disabled and broken ones left out", () => {
    const cfg = parseConfig(
      {
        tools: {
          mcp: {
            servers: [
              { name: "docs", url: "https://mcp.example.com/mcp/", headers: { Authorization: "Bearer ${env:DOCS_TOKEN}" }, allow: ["search"] },
              { name: "legacy", url: "https://old.example.com/sse", type: "sse" },
              { name: "local", command: "node", args: ["server.js"] },
              { name: "off", url: "https://x.example.com", enabled: false },
              { name: "nokey", url: "https://y.example.com", headers: { "x-key": "${env:MISSING_TOKEN}" } },
            ],
          },
        },
      },
      { DOCS_TOKEN: "docs-token-123456" },
    );
    expect(cfg.tools.mcp.map((s) => [s.name, s.transport])).toEqual([
      ["docs", "http"],
      ["legacy", "sse"],
      ["local", "stdio"],
    ]);
    expect(cfg.tools.mcp[0]).toMatchObject({ url: "https://mcp.example.com/mcp", headers: { Authorization: "Bearer docs-token-123456" }, allow: ["search"], timeoutMs: 10_000 });
    expect(cfg.warnings).toEqual([expect.stringContaining("MISSING_TOKEN is not set")]);
    expect(redact("Bearer docs-token-123456")).not.toContain("docs-token-123456");

    const map = parseConfig({ tools: { mcp: { servers: { weather: { url: "https://w.example.com/mcp" } } } } });
    expect(map.tools.mcp.map((s) => s.name)).toEqual(["weather"]);
  });

  it("names the field of a bad MCP server", () => {
    const err = (() => {
      try {
        parseConfig({ tools: { mcp: { servers: [{ name: "bad name", url: "https://x.example.com" }, { name: "both" }] } } });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error("no error");
    })();
    expect(err.problems.join("\n")).toMatch(/tools\.mcp\.servers\[0\]\.name/);
    expect(err.problems.join("\n")).toMatch(/tools\.mcp\.servers\[1\].*either "url" or "command"/);
  });

  it("contact fields are a closed list", () => {
    expect(parseConfig({ tools: { dingtalk: { contact_fields: ["email"] } } }).tools.dingtalk.contactFields).toEqual(["email"]);
    expect(() => parseConfig({ tools: { dingtalk: { contact_fields: ["salary"] } } })).toThrow(/tools\.dingtalk\.contact_fields/);
  });
});
