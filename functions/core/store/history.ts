// Conversation history arithmetic: token estimates that are sensible for Chinese and English, and
// trimming the oldest turns to a token budget while keeping user/assistant exchanges together.

/** A tool call an assistant turn made, kept so follow-up questions can build on what it found. */
export interface TurnToolCall {
  name: string;
  /** The call's JSON arguments as the model wrote them. */
  args: string;
  /** What the tool answered (shortened for storage). */
  result: string;
}

export interface Turn {
  role: "user" | "assistant";
  content: string;
  /** Assistant turns: the tool calls made before the answer, in order. */
  tools?: TurnToolCall[];
  /** Message time in ms; turns are kept ordered by it. */
  at: number;
  msgId?: string;
  sender?: string;
}

/** Tokens a chat API adds per message for the role and separators. */
export const TURN_OVERHEAD_TOKENS = 4;

/** CJK ideographs, kana, Hangul, CJK punctuation and full-width forms: about one token each. */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x11ff) ||
    (cp >= 0x2e80 && cp <= 0x303f) ||
    (cp >= 0x3040 && cp <= 0x31ff) ||
    (cp >= 0x3200 && cp <= 0x9fff) ||
    (cp >= 0xa960 && cp <= 0xa97f) ||
    (cp >= 0xac00 && cp <= 0xd7af) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xffef) ||
    (cp >= 0x20000 && cp <= 0x3ffff)
  );
}

/** ≈1 token per Han (or other CJK) character plus ≈1 token per 4 other characters. */
export function estimateTokens(text: string): number {
  let wide = 0;
  let other = 0;
  for (const ch of text) {
    if (isWide(ch.codePointAt(0)!)) wide++;
    else other++;
  }
  return wide + Math.ceil(other / 4);
}

/** The estimated cost of one turn in a prompt: its content plus the per-message overhead. */
export function turnTokens(turn: Pick<Turn, "content" | "tools">): number {
  let tokens = estimateTokens(turn.content) + TURN_OVERHEAD_TOKENS;
  for (const t of turn.tools ?? []) tokens += estimateTokens(t.name + t.args + t.result) + 2 * TURN_OVERHEAD_TOKENS;
  return tokens;
}

/**
 * Drops the oldest turns until the rest fit in `budget` tokens (counted with `turnTokens`). Whole
 * exchanges go first (a user turn with the assistant turns that follow it), so the kept history never
 * starts with an orphaned reply while an exchange can be dropped; within the last exchange single turns
 * go. The newest turn is always kept, even alone over budget. Expects turns in order; returns a new array.
 */
export function trimToBudget(turns: Turn[], budget: number): Turn[] {
  const costs = turns.map(turnTokens);
  let total = costs.reduce((a, b) => a + b, 0);
  let start = 0;
  const exchangeEnd = (from: number): number => {
    let i = from + 1;
    while (i < turns.length && turns[i]!.role === "assistant") i++;
    return i;
  };
  while (total > budget && start < turns.length - 1) {
    const end = exchangeEnd(start);
    if (end >= turns.length) break;
    for (let i = start; i < end; i++) total -= costs[i]!;
    start = end;
  }
  while (total > budget && start < turns.length - 1) total -= costs[start++]!;
  return turns.slice(start);
}
