// Web search providers behind `web_search`, each speaking its published API, with answers parsed by
// zod and failures turned into ToolErrors the model (and the admin reading logs) can act on:
// - Zhipu: POST {api_base}/web_search {search_query, search_engine, count} → {search_result:[{title,
//   content, link, media, publish_date}]}; errors {error:{code,message}}
//   (https://docs.bigmodel.cn/api-reference/工具-api/网络搜索).
// - Bocha: POST {api_base}/v1/web-search {query, count, summary, freshness} → {code, msg, data:{webPages:
//   {value:[{name,url,snippet,summary,siteName,datePublished}]}}} (open.bochaai.com, "Web Search API").
// - Tavily: POST {api_base}/search {query, max_results} → {results:[{title,url,content,score,
//   published_date}]}; errors {detail:{error}} with 400/401/403/429/432/433
//   (https://docs.tavily.com/documentation/api-reference/endpoint/search, help.tavily.com "Errors Code").
import * as z from "zod";
import { redact } from "../log.js";
import type { SearchProviderConfig, SearchProviderName } from "./config.js";
import { ToolError } from "./types.js";

export interface SearchHit {
  title: string;
  url: string;
  snippet: string;
  site?: string;
  date?: string;
}

export interface SearchProvider {
  name: SearchProviderName;
  search(query: string, signal: AbortSignal): Promise<SearchHit[]>;
}

const MAX_BODY = 2_000_000;
const str = z.string().nullish().transform((v) => v ?? "");

const ZhipuAnswer = z.looseObject({
  search_result: z
    .array(z.looseObject({ title: str, content: str, link: z.string(), media: str, publish_date: str }))
    .nullish()
    .transform((v) => v ?? []),
});

const BochaAnswer = z.looseObject({
  code: z.union([z.number(), z.string()]).optional(),
  msg: z.string().nullish(),
  data: z
    .looseObject({
      webPages: z
        .looseObject({
          value: z.array(z.looseObject({ name: str, url: z.string(), snippet: str, summary: str, siteName: str, datePublished: str })).nullish(),
        })
        .nullish(),
    })
    .nullish(),
});

const TavilyAnswer = z.looseObject({
  results: z.array(z.looseObject({ title: str, url: z.string(), content: str, published_date: str })),
});

/** The provider's own error text, whichever of the documented shapes it came in. */
function errorText(body: unknown): string {
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const nested = (v: unknown, key: string) => (typeof v === "object" && v !== null ? (v as Record<string, unknown>)[key] : undefined);
  const text = [nested(b.error, "message"), nested(b.detail, "error"), b.message, b.msg, typeof b.detail === "string" ? b.detail : undefined].find(
    (v): v is string => typeof v === "string" && v !== "",
  );
  return redact(text ?? "").slice(0, 200);
}

function failure(provider: SearchProviderName, status: number, body: unknown): ToolError {
  const detail = errorText(body);
  const said = detail ? `：${detail}` : "";
  if (status === 401) return new ToolError("permission", `搜索服务（${provider}）拒绝了 API key，请管理员检查 tools.web.${provider}.api_key${said}`);
  if (status === 429) return new ToolError("limit", `搜索服务（${provider}）请求太频繁，请稍后再试${said}`);
  if (status === 402 || status === 403 || status === 432 || status === 433)
    return new ToolError("limit", `搜索服务（${provider}）额度已用完或无权使用，请管理员检查账户${said}`);
  if (status >= 500) return new ToolError("http", `搜索服务（${provider}）暂时出错（HTTP ${status}），可以稍后重试${said}`);
  return new ToolError("http", `搜索服务（${provider}）不接受这个请求（HTTP ${status}）${said}`);
}

async function postJson(provider: SearchProviderName, url: string, key: string, body: unknown, signal: AbortSignal): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
      // A redirect could carry the key to another host.
      redirect: "error",
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err;
    const cause = err instanceof Error && err.cause instanceof Error ? ((err.cause as NodeJS.ErrnoException).code ?? err.cause.message) : "";
    throw new ToolError("unavailable", `连不上搜索服务（${provider}${cause ? `，${cause}` : ""}），可以稍后重试`);
  }
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > MAX_BODY) throw new ToolError("http", `搜索服务（${provider}）的回答过大`);
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? {} : JSON.parse(text);
  } catch {
    throw res.ok ? new ToolError("http", `搜索服务（${provider}）的回答不是 JSON`) : failure(provider, res.status, {});
  }
  if (!res.ok) throw failure(provider, res.status, json);
  return json;
}

function parsed<S extends z.ZodType>(provider: SearchProviderName, schema: S, json: unknown): z.output<S> {
  const out = schema.safeParse(json);
  if (!out.success) throw new ToolError("http", `搜索服务（${provider}）的回答格式不对（${out.error.issues[0]?.path.join(".") || "根"}）`);
  return out.data;
}

export function searchProvider(cfg: SearchProviderConfig): SearchProvider {
  const { name, apiKey, apiBase, maxResults } = cfg;
  switch (name) {
    case "zhipu":
      return {
        name,
        async search(query, signal) {
          const body = { search_query: query, search_engine: cfg.searchEngine ?? "search_std", count: maxResults };
          const answer = parsed(name, ZhipuAnswer, await postJson(name, `${apiBase}/web_search`, apiKey, body, signal));
          return answer.search_result.map((r) => ({ title: r.title, url: r.link, snippet: r.content, site: r.media, date: r.publish_date }));
        },
      };
    case "bocha":
      return {
        name,
        async search(query, signal) {
          const body = { query, count: maxResults, summary: true, freshness: "noLimit" };
          const answer = parsed(name, BochaAnswer, await postJson(name, `${apiBase}/v1/web-search`, apiKey, body, signal));
          const code = answer.code === undefined ? 200 : Number(answer.code);
          if (code !== 200) throw failure(name, Number.isFinite(code) ? code : 500, answer);
          return (answer.data?.webPages?.value ?? []).map((r) => ({
            title: r.name,
            url: r.url,
            snippet: r.summary || r.snippet,
            site: r.siteName,
            date: r.datePublished,
          }));
        },
      };
    case "tavily":
      return {
        name,
        async search(query, signal) {
          const body = { query, max_results: maxResults, search_depth: "basic", include_answer: false };
          const answer = parsed(name, TavilyAnswer, await postJson(name, `${apiBase}/search`, apiKey, body, signal));
          return answer.results.map((r) => ({ title: r.title, url: r.url, snippet: r.content, date: r.published_date }));
        },
      };
  }
}
