// Reasoning removal (`<think>` blocks, also while streaming in arbitrary chunks) and token estimates.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { estimatePromptTokens, estimateTokens, visibleText } from "../../functions/core/llm/index.js";

describe("visibleText", () => {
  it("removes complete think blocks and trims the answer", () => {
    expect(visibleText("<think>plan</think>\n\n答案", true)).toBe("答案");
    expect(visibleText("a<THINK>x</Think>b<think>y</think>c", true)).toBe("abc");
    expect(visibleText("no reasoning here", true)).toBe("no reasoning here");
  });

  it("hides an unclosed block and a half-arrived opening tag while streaming", () => {
    expect(visibleText("<think>still thinking", false)).toBe("");
    expect(visibleText("answer <thi", false)).toBe("answer ");
    expect(visibleText("answer <", false)).toBe("answer ");
    expect(visibleText("answer <", true)).toBe("answer <");
    expect(visibleText("1 < 2", false)).toBe("1 < 2");
  });

  it("drops everything before an orphan closing tag (template-opened reasoning)", () => {
    expect(visibleText("reasoning without opener</think>\n\nfinal", true)).toBe("final");
  });

  it("never shows reasoning, whatever the chunking, and ends with the answer", () => {
    const answer = "结论：一切正常 <b>ok</b> 1<2";
    const raw = `<think>PRIVATE reasoning</think>\n\n${answer}`;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: raw.length }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        let previous = "";
        for (const p of [...points, raw.length]) {
          const shown = visibleText(raw.slice(0, p), false);
          expect(shown).not.toContain("PRIVATE");
          expect(shown.startsWith(previous) || previous.startsWith(shown)).toBe(true);
          previous = shown;
        }
        expect(visibleText(raw, true)).toBe(answer);
      }),
    );
  });
});

describe("token estimates", () => {
  it("counts CJK characters one each and other text about four characters per token", () => {
    expect(estimateTokens("")).toBe(0);
    expect(estimateTokens("你好世界")).toBe(4);
    expect(estimateTokens("abcdefgh")).toBe(2);
    expect(estimateTokens("你好 ab")).toBe(3);
  });

  it("adds per-message overhead and a fixed amount per image", () => {
    const withImage = estimatePromptTokens([
      { role: "user", content: [{ type: "text", text: "abcd" }, { type: "image_url", image_url: { url: "data:," } }] },
    ]);
    const textOnly = estimatePromptTokens([{ role: "user", content: "abcd" }]);
    expect(textOnly).toBe(5);
    expect(withImage).toBeGreaterThan(textOnly);
  });
});
