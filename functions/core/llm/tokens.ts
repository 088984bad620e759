// Token estimates for when a provider reports no usage: CJK characters count one token each,
// other text about one token per four characters; an image counts a fixed amount.
import type { ChatMessage } from "./types.js";

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;
const IMAGE_TOKENS = 85;
const MESSAGE_OVERHEAD = 4;

export function estimateTokens(text: string): number {
  if (!text) return 0;
  const cjk = text.match(CJK)?.length ?? 0;
  const rest = text.length - cjk;
  return cjk + Math.ceil(rest / 4);
}

export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  let total = 0;
  for (const m of messages) {
    total += MESSAGE_OVERHEAD;
    if (typeof m.content === "string") total += estimateTokens(m.content);
    else for (const part of m.content) total += part.type === "text" ? estimateTokens(part.text) : IMAGE_TOKENS;
  }
  return total;
}
