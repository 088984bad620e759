// Token estimates for Chinese and English, and trimming history to a budget (pure functions of the store).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { estimateTokens, trimToBudget, turnTokens, type Turn } from "../../functions/core/store/conversations.js";

describe("estimateTokens", () => {
  it("counts about one token per Han character", () => {
    expect(estimateTokens("你好世界")).toBe(4);
    expect(estimateTokens("今天天气怎么样？")).toBe(8);
    expect(estimateTokens("一".repeat(1000))).toBe(1000);
  });

  it("counts about four Latin characters per token", () => {
    expect(estimateTokens("")).toBe(0);
    expect(estimateTokens("hi")).toBe(1);
    expect(estimateTokens("hello world")).toBe(3);
    const text = "The quick brown fox jumps over the lazy dog. ".repeat(20);
    expect(estimateTokens(text)).toBe(Math.ceil(text.length / 4));
  });

  it("adds both kinds in mixed text and counts astral Han characters once", () => {
    expect(estimateTokens("用 GPT-4 写代码")).toBe(4 + Math.ceil(" GPT-4 ".length / 4));
    expect(estimateTokens("𠀀𠀁")).toBe(2);
    expect(estimateTokens("こんにちは")).toBe(5);
  });
});

const t = (role: Turn["role"], content: string, at: number): Turn => ({ role, content, at });
const cost = (turns: Turn[]) => turns.reduce((n, x) => n + turnTokens(x), 0);

describe("trimToBudget", () => {
  const history = [
    t("user", "aaaa aaaa aaaa aaaa", 1),
    t("assistant", "bbbb bbbb bbbb bbbb", 2),
    t("user", "cccc cccc cccc cccc", 3),
    t("assistant", "dddd dddd dddd dddd", 4),
    t("user", "eeee eeee eeee eeee", 5),
    t("assistant", "ffff ffff ffff ffff", 6),
  ];

  it("returns everything when it fits", () => {
    expect(trimToBudget(history, cost(history))).toEqual(history);
  });

  it("drops the oldest whole exchanges first", () => {
    const kept = trimToBudget(history, cost(history) - 1);
    expect(kept).toEqual(history.slice(2));
    expect(trimToBudget(history, cost(history.slice(2)) - 1)).toEqual(history.slice(4));
  });

  it("never starts with an orphaned reply while exchanges can be dropped", () => {
    const kept = trimToBudget(history, cost(history.slice(1)));
    expect(kept[0]?.role).toBe("user");
  });

  it("always keeps the newest turn, even alone over budget", () => {
    expect(trimToBudget(history, 1)).toEqual([history[5]]);
    expect(trimToBudget([t("user", "x".repeat(400), 1)], 10)).toHaveLength(1);
    expect(trimToBudget([], 10)).toEqual([]);
  });

  it("holds its invariants for any history and budget", () => {
    const turnArb = fc.record({
      role: fc.constantFrom<Turn["role"]>("user", "assistant"),
      content: fc.string({ maxLength: 40 }),
      at: fc.nat(),
    });
    fc.assert(
      fc.property(fc.array(turnArb, { maxLength: 30 }), fc.nat({ max: 300 }), (turns, budget) => {
        const kept = trimToBudget(turns, budget);
        expect(kept).toEqual(turns.slice(turns.length - kept.length));
        if (turns.length > 0) expect(kept.length).toBeGreaterThanOrEqual(1);
        if (kept.length > 1) expect(cost(kept)).toBeLessThanOrEqual(budget);
      }),
    );
  });
});
