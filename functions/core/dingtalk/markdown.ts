// Renders an LLM answer for DingTalk's markdown subset (reference §7): reasoning removed, tables as
// lists, fenced code as quoted lines with breaks and indentation kept, bare URLs and <autolinks> made
// `[url](url)` links so they stay clickable; `titleOf` names a reply.
import { stripReasoning } from "../llm/reasoning.js";
import { truncateWidth } from "./unicode.js";

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const TABLE_SEPARATOR = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const HARD_BREAK = "  ";

/** Code as quoted lines: leading spaces kept as &nbsp;, blank lines kept, each line its own line. */
function renderCode(lines: string[], lang: string): string[] {
  const out = lang ? [`> **${lang}**`] : [];
  for (const raw of lines) {
    const line = raw.replace(/\t/g, "    ");
    const indent = /^ */.exec(line)![0].length;
    const body = line.slice(indent).trimEnd();
    out.push(`> ${"&nbsp;".repeat(indent)}${body === "" && indent === 0 ? "&nbsp;" : body}`);
  }
  if (out.length === 0) out.push("> &nbsp;");
  return out.map((l, i) => (i < out.length - 1 ? l + HARD_BREAK : l));
}

function splitCells(line: string): string[] {
  let row = line.trim();
  if (row.startsWith("|")) row = row.slice(1);
  if (row.endsWith("|") && !row.endsWith("\\|")) row = row.slice(0, -1);
  return row.split(/(?<!\\)\|/).map((c) =>
    c
      .replace(/\\\|/g, "|")
      .replace(/<br\s*\/?>/gi, " / ")
      .trim(),
  );
}

/** A table as a list: one item per row, "**Header**: value" pairs joined by " · ". */
function renderTable(header: string[], rows: string[][]): string[] {
  const out: string[] = [];
  for (const row of rows) {
    const pairs: string[] = [];
    row.forEach((value, i) => {
      if (!value) return;
      const name = header[i];
      const cell = linkify(value);
      pairs.push(name && header.length > 1 ? `**${name}**: ${cell}` : cell);
    });
    if (pairs.length) out.push(`- ${pairs.join(" · ")}`);
  }
  if (out.length === 0 && header.some(Boolean)) out.push(`- ${header.filter(Boolean).join(" · ")}`);
  return out;
}

function isTableStart(lines: string[], i: number): boolean {
  const head = lines[i];
  const sep = lines[i + 1];
  if (head === undefined || sep === undefined || !head.includes("|") || !sep.includes("-")) return false;
  return TABLE_SEPARATOR.test(sep) && (sep.includes("|") || head.trim().startsWith("|"));
}

/** Spans left alone by linkify: inline code, images and links (`[text](url)`). */
const PROTECTED = /`[^`]*`|!?\[[^\]]*\]\([^)\s]*(?:\s+"[^"]*")?\)/g;
const AUTOLINK = /<(https?:\/\/[^\s<>]+)>/g;
const BARE_URL = /https?:\/\/[^\s<>()[\]{}（）【】「」『』《》，。！？；：、“”‘’"'`|\uE000]+/g;

/** Placeholder delimiter for protected spans (a private-use character no answer contains). */
const MARK = "\uE000";
const KEPT = new RegExp(`${MARK}(\\d+)${MARK}`, "g");

/** Trailing characters that end a sentence rather than the URL. */
function trimUrl(url: string): string {
  return url.replace(/[.,;:!?*~_]+$/, "");
}

/** Makes bare URLs and `<url>` autolinks into `[url](url)`, leaving code spans and existing links alone. */
export function linkify(text: string): string {
  const kept: string[] = [];
  const keep = (m: string) => `${MARK}${kept.push(m) - 1}${MARK}`;
  const masked = text.replace(PROTECTED, keep).replace(AUTOLINK, (_m, url: string) => keep(`[${url}](${url})`));
  const linked = masked.replace(BARE_URL, (raw) => {
    const url = trimUrl(raw);
    return `[${url}](${url})${raw.slice(url.length)}`;
  });
  return linked.replace(KEPT, (_m, i: string) => kept[Number(i)] ?? "");
}

function renderLine(line: string): string {
  if (RULE.test(line)) return "";
  return linkify(line)
    .replace(/^(\s*)[*+](\s+)/, "$1-$2")
    .replace(/<br\s*\/?>/gi, "\n")
    .trimEnd();
}

/** Adds hard breaks so single newlines inside a paragraph show as line breaks. */
function addHardBreaks(lines: string[]): string[] {
  return lines.map((line, i) => {
    const next = lines[i + 1];
    if (line.trim() === "" || next === undefined || next.trim() === "" || line.endsWith(HARD_BREAK)) return line;
    return line + HARD_BREAK;
  });
}

/** An LLM answer rendered for DingTalk markdown. Empty when the answer had nothing but reasoning. */
export function renderMarkdown(answer: string): string {
  const lines = stripReasoning(answer).split("\n");
  const out: string[] = [];
  let prose: string[] = [];
  const flushProse = () => {
    out.push(...addHardBreaks(prose.flatMap((l) => renderLine(l).split("\n"))));
    prose = [];
  };
  const pushBlock = (block: string[]) => {
    flushProse();
    if (out.length && out[out.length - 1] !== "") out.push("");
    out.push(...block, "");
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1]!;
      const code: string[] = [];
      let j = i + 1;
      while (j < lines.length) {
        const close = lines[j]!.trim();
        if (close.startsWith(marker[0]!.repeat(marker.length)) && /^(`+|~+)$/.test(close)) break;
        code.push(lines[j]!);
        j++;
      }
      while (code.length && code[code.length - 1]!.trim() === "") code.pop();
      pushBlock(renderCode(code, fence[2] ?? ""));
      i = j;
      continue;
    }
    if (isTableStart(lines, i)) {
      const header = splitCells(line);
      const rows: string[][] = [];
      let j = i + 2;
      while (j < lines.length && lines[j]!.includes("|") && lines[j]!.trim() !== "") rows.push(splitCells(lines[j++]!));
      pushBlock(renderTable(header, rows));
      i = j - 1;
      continue;
    }
    prose.push(line);
  }
  flushProse();
  return out
    .join("\n")
    .replace(/[ \t]+\n(?=\s*\n)/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

const MAX_TITLE_WIDTH = 40;

function plainLine(line: string): string {
  return line
    .replace(/&nbsp;/g, " ")
    .replace(/^\s*(>\s*)+/, "")
    .replace(/^\s*#{1,6}\s+/, "")
    .replace(/^\s*(?:[-*+]|\d+[.)])\s+/, "")
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, (_m, alt: string) => alt || "[图片]")
    .replace(/\[([^\]]+)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .replace(/(\*\*|__)(.+?)\1/g, "$2")
    .replace(/(^|[^\w*])\*(?!\s)(.+?)\*(?!\w)/g, "$1$2")
    .replace(/`+/g, "")
    .replace(/~~/g, "")
    .replace(/\|/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** A short chat-list title: the first meaningful line, markdown stripped, ≤ 40 columns (CJK = 2). */
export function titleOf(text: string): string {
  const lines = stripReasoning(text).split("\n");
  for (const line of lines) {
    if (FENCE.test(line) || TABLE_SEPARATOR.test(line) || RULE.test(line)) continue;
    const plain = plainLine(line).replace(/^[*_\s]+|[*_\s]+$/g, "");
    if (plain && /[\p{L}\p{N}\p{Extended_Pictographic}]/u.test(plain)) return truncateWidth(plain, MAX_TITLE_WIDTH);
  }
  const any = plainLine(lines.join(" "));
  return any ? truncateWidth(any, MAX_TITLE_WIDTH) : "…";
}
