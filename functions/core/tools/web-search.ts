// `web_search` {query}: asks the enabled providers in config order (the next one when one fails) and
// gives the model numbered results with their links; the answer then cites them.
import * as z from "zod";
import type { SearchProviderConfig } from "./config.js";
import { searchProvider, type SearchHit } from "./search-providers.js";
import { ToolError, defineTool, type Tool } from "./types.js";

const SNIPPET_CHARS = 400;

function describe(hits: readonly SearchHit[]): string {
  return hits
    .map((h, i) => {
      const meta = [h.site, h.date?.slice(0, 10)].filter(Boolean).join("，");
      const snippet = h.snippet.length > SNIPPET_CHARS ? `${h.snippet.slice(0, SNIPPET_CHARS)}…` : h.snippet;
      return `[${i + 1}] ${h.title}${meta ? `（${meta}）` : ""}\n${h.url}\n${snippet}`;
    })
    .join("\n\n");
}

export function webSearchTool(configs: readonly SearchProviderConfig[]): Tool | undefined {
  if (configs.length === 0) return undefined;
  const providers = configs.map(searchProvider);
  return defineTool({
    name: "web_search",
    description: "搜索互联网，获取新闻、实时信息和公开资料。返回编号的结果（标题、链接、摘要）。回答时引用所用结果的链接。",
    args: z.object({ query: z.string().trim().min(1).max(200).describe("搜索词，简洁具体，例如“2026年5月 杭州 天气”") }),
    sideEffects: false,
    timeoutMs: 15_000,
    status: (a) => `正在搜索：${a.query}`,
    async run({ query }, ctx) {
      const failures: ToolError[] = [];
      for (const provider of providers) {
        try {
          const hits = (await provider.search(query, ctx.signal)).filter((h) => /^https?:\/\//.test(h.url));
          if (hits.length === 0) return { text: `没有找到与“${query}”相关的结果，可以换个搜索词再试。` };
          return { text: describe(hits), links: hits.map((h) => ({ title: h.title, url: h.url })) };
        } catch (err) {
          if (!(err instanceof ToolError)) throw err;
          ctx.log.warn("web_search: provider failed", { provider: provider.name, kind: err.kind, error: err.message });
          failures.push(err);
        }
      }
      const last = failures[failures.length - 1]!;
      throw new ToolError(last.kind, failures.map((f) => f.message).join("；"));
    },
  });
}
