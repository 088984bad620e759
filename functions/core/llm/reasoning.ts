// Reasoning removal: the visible part of a model's raw text, without `<think>…</think>` blocks
// (also mid-stream, where an unclosed or half-arrived tag hides what follows it).

const OPEN = "<think>";
const CLOSE = "</think>";

/**
 * Visible text of `raw`. With `final` false (streaming) an unclosed `<think>` and a trailing partial
 * `<think` hide the rest until more arrives; a leading orphan `</think>` (models whose template
 * opens the block in the prompt) drops everything before it.
 */
export function visibleText(raw: string, final: boolean): string {
  const lower = raw.toLowerCase();
  let text = raw;
  let low = lower;
  const firstClose = low.indexOf(CLOSE);
  const firstOpen = low.indexOf(OPEN);
  if (firstClose >= 0 && (firstOpen < 0 || firstClose < firstOpen)) {
    text = text.slice(firstClose + CLOSE.length);
    low = low.slice(firstClose + CLOSE.length);
  }
  let out = "";
  let i = 0;
  for (;;) {
    const open = low.indexOf(OPEN, i);
    if (open < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, open);
    const close = low.indexOf(CLOSE, open + OPEN.length);
    if (close < 0) break;
    i = close + CLOSE.length;
  }
  if (final) return out.trim();
  const tail = out.toLowerCase();
  for (let k = Math.min(OPEN.length - 1, tail.length); k > 0; k--) {
    if (tail.endsWith(OPEN.slice(0, k))) return out.slice(0, out.length - k).trimStart();
  }
  return out.trimStart();
}
