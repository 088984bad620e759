// Search-provider double: one node:http server speaking three providers' published web search APIs,
// each under its own path, with bearer-key checks, recorded requests, scripted results and the
// providers' own error shapes.
// - Zhipu `POST /api/paas/v4/web_search` (https://docs.bigmodel.cn/api-reference/工具-api/网络搜索):
//   {search_query, search_engine, count} → {id, created, request_id, search_result:[{title, content,
//   link, media, icon, refer, publish_date}]}; errors {error:{code, message}} with Zhipu's codes
//   (1000 auth → 401, 1113 arrears and 1302 concurrency → 429; https://docs.bigmodel.cn/cn/api/api-code).
// - Bocha `POST /v1/web-search` (Bocha "Web Search API" doc, open.bochaai.com): {query, count, summary,
//   freshness} → {code:200, log_id, msg, data:{_type:"SearchResponse", queryContext, webPages:{
//   webSearchUrl, totalEstimatedMatches, value:[{id,name,url,displayUrl,snippet,summary,siteName,
//   siteIcon,datePublished,dateLastCrawled,...}]}}}. Errors: the HTTP status repeated as `code` with a
//   `msg` (400 parameter, 401 "Invalid API KEY", 403 "You do not have enough money", 429 request limit).
//   The error body shape is not printed in the public page; it follows the success envelope.
// - Tavily `POST /search` (https://docs.tavily.com/documentation/api-reference/endpoint/search): {query,
//   max_results, ...} → {query, answer, images, results:[{title,url,content,score,raw_content,
//   published_date}], response_time, request_id}; errors {detail:{error}} with 400/401/429/432/433/500
//   (help.tavily.com "Errors Code"; tavily-python reads `detail.error`).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type SearchProviderName = "zhipu" | "bocha" | "tavily";
export type SearchFault = "auth" | "rate_limit" | "quota" | "server" | "hang" | "malformed";

export interface Hit {
  title: string;
  url: string;
  snippet: string;
  site?: string;
  date?: string;
}

export interface SearchRequest {
  provider: SearchProviderName;
  path: string;
  key: string | undefined;
  body: Record<string, unknown>;
}

export interface SearchDouble {
  /** api_base per provider, as `tools.web.<provider>.api_base` takes it. */
  bases: Record<SearchProviderName, string>;
  requests: SearchRequest[];
  /** Results for every following search of `provider` (default: three made from the query). */
  setResults(provider: SearchProviderName, hits: Hit[] | undefined): void;
  /** The next `times` searches of `provider` fail this way. */
  fault(provider: SearchProviderName, fault: SearchFault, times?: number): void;
  reset(): void;
  close(): Promise<void>;
}

const PATHS: Record<string, SearchProviderName> = { "/api/paas/v4/web_search": "zhipu", "/v1/web-search": "bocha", "/search": "tavily" };

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}

function errorFor(provider: SearchProviderName, fault: Exclude<SearchFault, "hang" | "malformed">): { status: number; body: unknown } {
  if (provider === "zhipu") {
    const table = {
      auth: [401, "1000", "身份验证失败。"],
      rate_limit: [429, "1302", "您当前使用该API的并发数过高，请降低并发，或联系客服增加限额。"],
      quota: [429, "1113", "您的账户已欠费，请充值后重试。"],
      server: [500, "500", "内部错误。"],
    } as const;
    const [status, code, message] = table[fault];
    return { status, body: { error: { code, message } } };
  }
  if (provider === "bocha") {
    const table = {
      auth: [401, "Invalid API KEY"],
      rate_limit: [429, "You have reached the request limit"],
      quota: [403, "You do not have enough money"],
      server: [500, "Internal server error"],
    } as const;
    const [status, msg] = table[fault];
    return { status, body: { code: String(status), msg, log_id: "double-log" } };
  }
  const table = {
    auth: [401, "Unauthorized: missing or invalid API key."],
    rate_limit: [429, "Your request has been blocked due to excessive requests. Please reduce rate of requests."],
    quota: [432, "This request exceeds your plan's set usage limit. Please upgrade your plan or contact support@tavily.com"],
    server: [500, "Internal Server Error"],
  } as const;
  const [status, error] = table[fault];
  return { status, body: { detail: { error } } };
}

function defaultHits(provider: SearchProviderName, query: string, n: number): Hit[] {
  return Array.from({ length: Math.min(n, 3) }, (_, i) => ({
    title: `${query}：报道 ${i + 1}`,
    url: `https://news.example.com/${provider}/${i + 1}`,
    snippet: `关于「${query}」的第 ${i + 1} 条结果摘要。`,
    site: "示例新闻",
    date: "2026-05-01T08:00:00+08:00",
  }));
}

function answer(provider: SearchProviderName, query: string, hits: Hit[]): unknown {
  if (provider === "zhipu")
    return {
      id: "double-search",
      created: Math.floor(Date.now() / 1000),
      request_id: "double-request",
      search_result: hits.map((h) => ({ title: h.title, content: h.snippet, link: h.url, media: h.site ?? "", icon: "", refer: "", publish_date: h.date ?? "" })),
    };
  if (provider === "bocha")
    return {
      code: 200,
      log_id: "double-log",
      msg: null,
      data: {
        _type: "SearchResponse",
        queryContext: { originalQuery: query },
        webPages: {
          webSearchUrl: "",
          totalEstimatedMatches: hits.length,
          value: hits.map((h, i) => ({
            id: null,
            name: h.title,
            url: h.url,
            displayUrl: h.url,
            snippet: h.snippet.slice(0, 40),
            summary: h.snippet,
            siteName: h.site ?? null,
            siteIcon: null,
            datePublished: h.date ?? null,
            dateLastCrawled: h.date ?? null,
            cachedPageUrl: null,
            language: null,
            isFamilyFriendly: null,
            isNavigational: null,
            rank: i,
          })),
          someResultsRemoved: false,
        },
      },
    };
  return {
    query,
    follow_up_questions: null,
    answer: null,
    images: [],
    results: hits.map((h, i) => ({ title: h.title, url: h.url, content: h.snippet, score: 0.9 - i / 10, raw_content: null, published_date: h.date })),
    response_time: 0.42,
    request_id: "double-request",
  };
}

export async function startSearchDouble(opts: { keys?: Partial<Record<SearchProviderName, string>> } = {}): Promise<SearchDouble> {
  const requests: SearchRequest[] = [];
  const results = new Map<SearchProviderName, Hit[]>();
  const faults = new Map<SearchProviderName, { fault: SearchFault; left: number }>();
  const hanging = new Set<ServerResponse>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://double").pathname;
      const provider = PATHS[path];
      if (req.method !== "POST" || !provider) return send(res, 404, { error: "not found" });
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      } catch {
        return send(res, 400, provider === "tavily" ? { detail: { error: "Invalid JSON" } } : { error: { code: "1214", message: "请求体不是合法的 JSON" } });
      }
      const key = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1];
      requests.push({ provider, path, key, body });
      const f = faults.get(provider);
      if (f) {
        if (--f.left <= 0) faults.delete(provider);
        if (f.fault === "hang") {
          hanging.add(res);
          res.on("close", () => hanging.delete(res));
          return;
        }
        if (f.fault === "malformed") return send(res, 200, '{"search_result": [');
        const e = errorFor(provider, f.fault);
        return send(res, e.status, e.body);
      }
      const wanted = opts.keys?.[provider];
      if (wanted && key !== wanted) {
        const e = errorFor(provider, "auth");
        return send(res, e.status, e.body);
      }
      const q = body.search_query ?? body.query;
      const query = typeof q === "string" ? q.trim() : "";
      if (!query) {
        const bad = provider === "tavily" ? { detail: { error: "Query is missing." } } : provider === "bocha" ? { code: "400", msg: "Missing parameter query", log_id: "double-log" } : { error: { code: "1214", message: "search_query 不能为空" } };
        return send(res, 400, bad);
      }
      const n = Number(body.count ?? body.max_results ?? 5);
      const hits = (results.get(provider) ?? defaultHits(provider, query, n)).slice(0, n);
      send(res, 200, answer(provider, query, hits));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    bases: { zhipu: `${origin}/api/paas/v4`, bocha: origin, tavily: origin },
    requests,
    setResults: (provider, hits) => (hits ? results.set(provider, hits) : results.delete(provider)),
    fault: (provider, fault, times = 1) => faults.set(provider, { fault, left: times }),
    reset: () => {
      requests.length = 0;
      results.clear();
      faults.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
