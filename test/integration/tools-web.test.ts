// web_search against the search-provider double (Zhipu, Bocha, Tavily: requests as documented, their
// error shapes turned into words the model can act on, the next provider on failure) and web_fetch
// through the media download guard (private addresses refused, size cap, readable text).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.js";
import { webFetchTool } from "../../functions/core/tools/web-fetch.js";
import { webSearchTool } from "../../functions/core/tools/web-search.js";
import { ToolError, type Tool } from "../../functions/core/tools/types.js";
import { startSearchDouble, type SearchDouble, type SearchProviderName } from "../doubles/search/server.js";
import { rejection } from "../helpers/rejection.js";
import { toolContext } from "../helpers/tool-context.js";

let S: SearchDouble;
let pages: Server;
let pageOrigin: string;

beforeAll(async () => {
  S = await startSearchDouble({ keys: { zhipu: "zhipu-key-000001", bocha: "sk-bocha-000001", tavily: "tvly-key-000001" } });
  pages = createServer((req, res) => {
    if (req.url === "/gbk") {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(Buffer.concat([Buffer.from('<html><head><meta charset="gbk"><title>T</title></head><body>'), Buffer.from([0xc4, 0xe3, 0xba, 0xc3]), Buffer.from("</body></html>")]));
    } else if (req.url === "/big") {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("x".repeat(50_000));
    } else if (req.url === "/pdf") {
      res.writeHead(200, { "content-type": "application/pdf" });
      res.end("%PDF-1.4");
    } else if (req.url === "/missing") {
      res.writeHead(404);
      res.end();
    } else {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(
        "<html><head><title>公司 &amp; 新闻</title><style>p{}</style><script>alert(1)</script></head>" +
          "<body><nav>菜单</nav><h1>标题</h1><p>第一段&nbsp;内容</p><p>第二段</p></body></html>",
      );
    }
  });
  await new Promise<void>((r) => pages.listen(0, "127.0.0.1", r));
  pageOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
});
afterEach(() => S.reset());
afterAll(async () => {
  await S.close();
  await new Promise((r) => pages.close(r));
});

const ctx = () => toolContext();

function search(providers: Record<string, unknown>): Tool {
  const tool = webSearchTool(parseConfig({ tools: { web: providers } }).tools.search);
  if (!tool) throw new Error("no web_search tool");
  return tool;
}

const keys: Record<SearchProviderName, string> = { zhipu: "zhipu-key-000001", bocha: "sk-bocha-000001", tavily: "tvly-key-000001" };
const entry = (p: SearchProviderName, extra: Record<string, unknown> = {}) => ({ [p]: { enabled: true, api_key: keys[p], api_base: S.bases[p], max_results: 2, ...extra } });

describe("web_search", () => {
  it("exists only when a provider is enabled", () => {
    expect(webSearchTool(parseConfig({}).tools.search)).toBeUndefined();
    expect(webSearchTool(parseConfig({ tools: { web: { tavily: { enabled: false, api_key: "k" } } } }).tools.search)).toBeUndefined();
  });

  it.each(["zhipu", "bocha", "tavily"] as const)("%s: the documented request, numbered results with links", async (p) => {
    const out = await search(entry(p)).run({ query: "杭州新闻" }, ctx());
    expect(out.text).toContain("[1] 杭州新闻：报道 1");
    expect(out.text).toContain(`https://news.example.com/${p}/1`);
    expect(out.text).not.toContain("[3]");
    expect(out.links).toEqual([
      { title: "杭州新闻：报道 1", url: `https://news.example.com/${p}/1` },
      { title: "杭州新闻：报道 2", url: `https://news.example.com/${p}/2` },
    ]);
    const req = S.requests[0]!;
    expect(req.key).toBe(keys[p]);
    expect(req.body).toMatchObject(
      p === "zhipu" ? { search_query: "杭州新闻", search_engine: "search_std", count: 2 } : p === "bocha" ? { query: "杭州新闻", count: 2, summary: true } : { query: "杭州新闻", max_results: 2 },
    );
  });

  it.each([
    ["zhipu", "auth", "permission", "身份验证失败"],
    ["bocha", "quota", "limit", "You do not have enough money"],
    ["tavily", "quota", "limit", "exceeds your plan"],
    ["tavily", "rate_limit", "limit", "excessive requests"],
    ["zhipu", "server", "http", "HTTP 500"],
  ] as const)("%s %s becomes a %s error the model can read", async (p, fault, kind, words) => {
    S.fault(p, fault);
    const err = await rejection(search(entry(p)).run({ query: "q" }, ctx()), ToolError);
    expect(err.kind).toBe(kind);
    expect(err.message).toContain(words);
    expect(err.message).not.toContain(keys[p]);
  });

  it("a malformed answer is an error, not a crash", async () => {
    S.fault("bocha", "malformed");
    const err = await rejection(search(entry("bocha")).run({ query: "q" }, ctx()), ToolError);
    expect(err.message).toContain("不是 JSON");
  });

  it("asks the next provider when one fails", async () => {
    S.fault("zhipu", "server");
    const out = await search({ ...entry("zhipu"), ...entry("tavily") }).run({ query: "天气" }, ctx());
    expect(out.links?.[0]?.url).toBe("https://news.example.com/tavily/1");
    expect(S.requests.map((r) => r.provider)).toEqual(["zhipu", "tavily"]);
  });

  it("no results is a plain answer", async () => {
    S.setResults("tavily", []);
    const out = await search(entry("tavily")).run({ query: "不存在的东西" }, ctx());
    expect(out.text).toContain("没有找到");
  });
});

describe("web_fetch", () => {
  const local = { policy: { isPrivate: (a: string) => a !== "127.0.0.1" } };
  const fetcher = (maxBytes = 10_000) => webFetchTool({ maxBytes, timeoutMs: 3000, ...local });

  it("returns the title and readable text, without scripts, styles or navigation", async () => {
    const out = await fetcher().run({ url: `${pageOrigin}/page` }, ctx());
    expect(out.text).toContain("标题：公司 & 新闻");
    expect(out.text).toMatch(/标题\n+第一段 内容\n+第二段/);
    expect(out.text).not.toMatch(/alert|菜单|p\{\}/);
    expect(out.links).toEqual([{ title: "公司 & 新闻", url: `${pageOrigin}/page` }]);
  });

  it("decodes a page in its declared charset", async () => {
    expect((await fetcher().run({ url: `${pageOrigin}/gbk` }, ctx())).text).toContain("你好");
  });

  it("refuses private addresses with the media guard (default policy)", async () => {
    const err = await rejection(webFetchTool({ maxBytes: 10_000, timeoutMs: 3000 }).run({ url: `${pageOrigin}/page` }, ctx()), ToolError);
    expect(err.kind).toBe("permission");
    expect(err.message).toContain("内网");
  });

  it("names size, type and HTTP failures plainly", async () => {
    expect((await rejection(fetcher(1000).run({ url: `${pageOrigin}/big` }, ctx()), ToolError)).kind).toBe("limit");
    expect((await rejection(fetcher().run({ url: `${pageOrigin}/pdf` }, ctx()), ToolError)).message).toContain("不是网页");
    expect((await rejection(fetcher().run({ url: `${pageOrigin}/missing` }, ctx()), ToolError)).kind).toBe("not_found");
  });
});
