// `web_fetch` {url}: fetches one public page through the same guarded download as inbound media
// (dingtalk/download.ts: no private, loopback or link-local targets at connect time and on every
// redirect, a size cap, a deadline) and gives the model its readable text.
import * as z from "zod";
import { DownloadError, download, type DownloadPolicy } from "../dingtalk/download.js";
import { htmlToText } from "./html-text.js";
import { ToolError, defineTool, type Tool } from "./types.js";

const TEXT_TYPES = /^(text\/|application\/(json|xml|xhtml\+xml|ld\+json|rss\+xml|atom\+xml)$)/;
const MAX_TEXT = 6000;

export interface WebFetchOptions {
  maxBytes: number;
  timeoutMs: number;
  /** Tests only: which addresses count as private (the default blocks every private range). */
  policy?: Pick<DownloadPolicy, "isPrivate" | "resolve">;
}

function charsetOf(bytes: Buffer): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return "utf-8";
  const head = bytes.subarray(0, 2048).toString("latin1");
  const meta = /<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)/i.exec(head)?.[1];
  return meta?.toLowerCase() ?? "utf-8";
}

function decode(bytes: Buffer): string {
  try {
    return new TextDecoder(charsetOf(bytes)).decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes);
  }
}

function fetchFailure(err: DownloadError): ToolError {
  switch (err.reason) {
    case "bad_url":
      return new ToolError("bad_args", `${err.message}；请给出完整的 http(s) 网址`);
    case "blocked":
      return new ToolError("permission", "这是内网或本机地址，出于安全不能访问；只能读取公开网页");
    case "too_large":
      return new ToolError("limit", `网页太大（${err.message}），换一个更具体的页面`);
    case "timeout":
      return new ToolError("timeout", "网页打开超时，可以稍后重试或换一个来源");
    case "http":
      return new ToolError(err.status === 404 || err.status === 410 ? "not_found" : "http", `网站返回 HTTP ${err.status ?? "错误"}`);
    case "redirects":
      return new ToolError("http", "网页跳转次数过多");
    case "network":
      return new ToolError("unavailable", `打不开这个网页（${err.message}）`);
  }
}

export function webFetchTool(opts: WebFetchOptions): Tool {
  return defineTool({
    name: "web_fetch",
    description: "读取一个公开网页，返回标题和正文文字（不执行脚本）。用于查看搜索结果或用户给出的链接的具体内容。",
    args: z.object({ url: z.string().trim().url().describe("完整网址，以 http:// 或 https:// 开头") }),
    sideEffects: false,
    timeoutMs: opts.timeoutMs,
    status: (a) => `正在读取网页：${new URL(a.url).host}`,
    async run({ url }) {
      let page;
      try {
        page = await download(url, { maxBytes: opts.maxBytes, timeoutMs: opts.timeoutMs, allowPrivate: false, ...opts.policy });
      } catch (err) {
        if (err instanceof DownloadError) throw fetchFailure(err);
        throw err;
      }
      const type = page.contentType ?? "text/html";
      if (!TEXT_TYPES.test(type)) throw new ToolError("bad_args", `这个链接不是网页（${type}），无法读取文字`);
      const raw = decode(page.bytes);
      const { title, text } = type.includes("html") ? htmlToText(raw) : { title: "", text: raw.trim() };
      const body = text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…（正文较长，已截断）` : text;
      return {
        text: `${title ? `标题：${title}\n` : ""}网址：${url}\n\n${body || "（页面没有可读的文字）"}`,
        links: [{ title: title || url, url }],
      };
    },
  });
}
