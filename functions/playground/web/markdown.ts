// DingTalk's markdown subset as safe HTML for the playground page: every piece of text is escaped
// first; only headings, bold, italic, links, images, lists, quotes, rules, inline code and line
// breaks become tags. Links must be http(s); `dtmd://dingtalkclient/sendMessage?content=` links
// become buttons carrying `data-send` (the page sends that text). Pure: runs in the page and in tests.

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Escapes text, keeping the one entity DingTalk answers rely on (`&nbsp;` indents code). */
function escapeText(text: string): string {
  return escapeHtml(text).replace(/&amp;nbsp;/g, "&nbsp;");
}

const SEND_PREFIX = "dtmd://dingtalkclient/sendMessage?";

/** The text a `dtmd://dingtalkclient/sendMessage?content=…` link sends, or undefined for other URLs. */
export function sendMessageContent(url: string): string | undefined {
  if (!url.startsWith(SEND_PREFIX)) return undefined;
  try {
    return new URLSearchParams(url.slice(SEND_PREFIX.length)).get("content") ?? undefined;
  } catch {
    return undefined;
  }
}

function safeHttpUrl(url: string): string | undefined {
  return /^https?:\/\/[^\s"'<>]+$/i.test(url) ? url : undefined;
}

const MARK = "\uE000";
const SPAN = /`([^`]+)`|(!?)\[([^\]]*)\]\(([^)\s]*)(?:\s+"[^"]*")?\)/g;

/** Bold, italic and strike on already-escaped text. */
function emphasis(escaped: string): string {
  return escaped
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>")
    .replace(/__(?=\S)([\s\S]*?\S)__/g, "<strong>$1</strong>")
    .replace(/(^|[^\w*])\*(?=\S)([^*]*?\S)\*(?![\w*])/g, "$1<em>$2</em>")
    .replace(/(^|[^\w])_(?=\S)([^_]*?\S)_(?!\w)/g, "$1<em>$2</em>");
}

function link(text: string, url: string): string {
  const label = emphasis(escapeText(text || url));
  const send = sendMessageContent(url);
  if (send !== undefined) return `<a href="#" class="dt-send" data-send="${escapeHtml(send)}">${label}</a>`;
  const safe = safeHttpUrl(url);
  if (!safe) return label;
  return `<a href="${escapeHtml(safe)}" target="_blank" rel="noopener noreferrer">${label}</a>`;
}

function image(alt: string, url: string): string {
  const safe = safeHttpUrl(url);
  if (!safe) return escapeText(alt || "[图片]");
  return `<img src="${escapeHtml(safe)}" alt="${escapeHtml(alt)}" loading="lazy">`;
}

/** One line (or heading/list-item body) of inline markdown as HTML. */
export function renderInline(text: string): string {
  const kept: string[] = [];
  const masked = text.replaceAll(MARK, "").replace(SPAN, (_m, code: string | undefined, bang: string, label: string, url: string) => {
    const html = code !== undefined ? `<code>${escapeText(code)}</code>` : bang ? image(label, url) : link(label, url);
    return `${MARK}${kept.push(html) - 1}${MARK}`;
  });
  return emphasis(escapeText(masked)).replace(
    new RegExp(`${MARK}(\\d+)${MARK}`, "g"),
    (_m, i: string) => kept[Number(i)] ?? "",
  );
}

const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const BULLET = /^(\s*)[-*+]\s+(.*)$/;
const ORDERED = /^(\s*)(\d{1,9})[.)]\s+(.*)$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;

function renderBlocks(lines: string[], depth: number): string {
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length) out.push(`<p>${paragraph.map((l) => renderInline(l.trim())).join("<br>")}</p>`);
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") {
      flush();
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      flush();
      const n = heading[1]!.length;
      out.push(`<h${n}>${renderInline(heading[2]!)}</h${n}>`);
      continue;
    }
    if (RULE.test(line)) {
      flush();
      out.push("<hr>");
      continue;
    }
    if (QUOTE.test(line) && depth < 5) {
      flush();
      const inner: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i]!)) inner.push(QUOTE.exec(lines[i++]!)![1]!);
      i--;
      out.push(`<blockquote>${renderBlocks(inner, depth + 1)}</blockquote>`);
      continue;
    }
    if (BULLET.test(line) || ORDERED.test(line)) {
      flush();
      const ordered = ORDERED.exec(line);
      const items: string[] = [];
      const pattern = ordered ? ORDERED : BULLET;
      while (i < lines.length && pattern.test(lines[i]!)) {
        const m = pattern.exec(lines[i++]!)!;
        const indent = Math.min(3, Math.floor(m[1]!.replace(/\t/g, "    ").length / 2));
        items.push(`<li${indent ? ` class="indent-${indent}"` : ""}>${renderInline(m[ordered ? 3 : 2]!.trim())}</li>`);
      }
      i--;
      out.push(ordered ? `<ol start="${Number(ordered[2])}">${items.join("")}</ol>` : `<ul>${items.join("")}</ul>`);
      continue;
    }
    paragraph.push(line.replace(/ {2,}$/, ""));
  }
  flush();
  return out.join("");
}

/** A DingTalk markdown message (or AI card content) as HTML that is safe to put in innerHTML. */
export function renderDingTalkMarkdown(markdown: string): string {
  return renderBlocks(markdown.replace(/\r\n?/g, "\n").replace(/<br\s*\/?>/gi, "\n").split("\n"), 0);
}
