// Unicode-safe measuring and cutting: UTF-8 byte counts, grapheme boundaries (never inside a
// surrogate pair or an emoji sequence) and a display width where CJK and emoji count double.

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** Grapheme clusters of `text`, in order. */
export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]|\p{Extended_Pictographic}|[\u{20000}-\u{3FFFD}]/u;

/** Columns a grapheme takes in a chat-list title: 2 for CJK, full-width forms and emoji, else 1. */
export function graphemeWidth(g: string): number {
  return WIDE.test(g) ? 2 : 1;
}

export function displayWidth(text: string): number {
  let w = 0;
  for (const g of graphemes(text)) w += graphemeWidth(g);
  return w;
}

/** `text` cut to at most `maxWidth` columns, ending in "…" when something was cut. */
export function truncateWidth(text: string, maxWidth: number): string {
  if (displayWidth(text) <= maxWidth) return text;
  let out = "";
  let w = 0;
  for (const g of graphemes(text)) {
    const gw = graphemeWidth(g);
    if (w + gw > maxWidth - 1) break;
    out += g;
    w += gw;
  }
  return `${out.trimEnd()}…`;
}

/**
 * The largest index i ≤ text.length such that text.slice(0, i) has at most `maxChars` UTF-16 units
 * and `maxBytes` UTF-8 bytes and ends on a code point boundary.
 */
export function prefixWithin(text: string, maxChars: number, maxBytes: number): number {
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i)!;
    const units = cp > 0xffff ? 2 : 1;
    const b = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (i + units > maxChars || bytes + b > maxBytes) break;
    bytes += b;
    i += units;
  }
  return i;
}

/** The last grapheme boundary at or before `index` (0 if none besides the start). */
export function graphemeBoundaryAtOrBefore(text: string, index: number): number {
  let last = 0;
  for (const s of segmenter.segment(text)) {
    const end = s.index + s.segment.length;
    if (end > index) break;
    last = end;
  }
  return last;
}
