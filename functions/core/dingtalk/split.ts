// Splits a rendered reply into DingTalk-sized parts: on paragraph boundaries first, then lines,
// sentences (。！？； and .!?), words, and finally grapheme boundaries; numbers parts "(i/n)".
import { renderMarkdown, titleOf } from "./markdown.js";
import { graphemeBoundaryAtOrBefore, prefixWithin, utf8Length } from "./unicode.js";

export interface SplitLimits {
  /** UTF-16 code units (what String.length counts; emoji count 2, so this is conservative). */
  maxChars: number;
  maxBytes: number;
}

export const DEFAULT_LIMITS: SplitLimits = { maxChars: 3_500, maxBytes: 15_000 };

/** Room kept for "\n\n(12/34)" when a reply needs more than one part. */
const NUMBERING_RESERVE = 16;

/** Boundaries in preference order; each regex's match end is a cut position. */
const BOUNDARIES: RegExp[] = [
  /\n[ \t]*\n\s*/g, // paragraph
  /\n/g, // line
  /[。！？；][”’」』）)"']*\s*|[.!?][”’」』）)"']*(?:\s+|$)/g, // sentence (Latin ones need a space after: URLs, 3.14 stay whole)
  /[，、：]\s*|[,;:]\s+|\s+/g, // clause or word
];

function fits(text: string, limits: SplitLimits): boolean {
  return text.length <= limits.maxChars && utf8Length(text) <= limits.maxBytes;
}

const LINK = /!?\[[^\]\n]*\]\([^)\s]*\)/g;

/** [start, end) of every markdown link or image, so no cut lands inside one (it would stop being a link). */
function linkSpans(text: string): Array<[number, number]> {
  return [...text.matchAll(LINK)].map((m) => [m.index, m.index + m[0].length]);
}

/** Where to cut `text` (which does not fit) so the first piece fits: the best boundary in its second half, outside links. */
function cutPoint(text: string, limits: SplitLimits): number {
  const max = prefixWithin(text, limits.maxChars, limits.maxBytes);
  const window = text.slice(0, max);
  const links = linkSpans(text);
  const insideLink = (p: number) => links.some(([a, b]) => a < p && p < b);
  for (const pattern of BOUNDARIES) {
    let best = -1;
    for (const m of window.matchAll(pattern)) {
      const end = m.index + m[0].length;
      if (end <= max && end > 0 && !insideLink(end)) best = end;
    }
    if (best >= max / 2) return best;
  }
  const hard = graphemeBoundaryAtOrBefore(text, max);
  return hard > 0 ? hard : Math.max(1, max);
}

/** Lossless split: `splitText(t).join("") === t`, every piece within `limits`. */
export function splitText(text: string, limits: SplitLimits = DEFAULT_LIMITS): string[] {
  if (limits.maxChars < 2 || limits.maxBytes < 4) throw new RangeError("split limits too small");
  const parts: string[] = [];
  let rest = text;
  while (!fits(rest, limits)) {
    const cut = cutPoint(rest, limits);
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest) parts.push(rest);
  return parts;
}

/** The "(i/n)" suffix added to numbered parts. */
export function numbering(index: number, total: number): string {
  return `\n\n(${index + 1}/${total})`;
}

export interface ReplyPart {
  title: string;
  text: string;
}

/**
 * An LLM answer as the DingTalk markdown messages to send, in order: rendered, split within
 * `limits` (numbering included), each with its own title. Empty only when nothing is left to say
 * (an empty answer or one that was all reasoning).
 */
export function renderReply(answer: string, limits: SplitLimits = DEFAULT_LIMITS): ReplyPart[] {
  return replyParts(renderMarkdown(answer), limits);
}

/** Text already rendered for DingTalk (e.g. what followed an AI card) as messages, split like `renderReply`. */
export function replyParts(rendered: string, limits: SplitLimits = DEFAULT_LIMITS): ReplyPart[] {
  if (!rendered) return [];
  if (fits(rendered, limits)) return [{ title: titleOf(rendered), text: rendered }];
  const reserved = { maxChars: limits.maxChars - NUMBERING_RESERVE, maxBytes: limits.maxBytes - NUMBERING_RESERVE };
  const pieces = splitText(rendered, reserved)
    .map((p) => p.trim())
    .filter(Boolean);
  return pieces.map((piece, i) => {
    const n = pieces.length > 1 ? numbering(i, pieces.length) : "";
    return { title: `${titleOf(piece)}${pieces.length > 1 ? ` (${i + 1}/${pieces.length})` : ""}`, text: piece + n };
  });
}
