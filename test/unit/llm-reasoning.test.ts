// Reasoning removal, the one set of rules for the LLM stream and DingTalk markdown (finished and while
// streaming in arbitrary chunks), and token estimates.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { estimatePromptTokens, estimateTokens, stripReasoning } from "../../functions/core/llm/index.js";

describe("stripReasoning: a finished answer (LLM result, DingTalk markdown, titles)", () => {
  it("removes complete think blocks and trims the answer", () => {
    expect(stripReasoning("<think>plan</think>\n\n答案")).toBe("答案");
    expect(stripReasoning("a<THINK>x</Think>b<think>y</think>c")).toBe("abc");
    expect(stripReasoning("no reasoning here")).toBe("no reasoning here");
  });

  it("removes the other spellings models use", () => {
    expect(stripReasoning("<THINKING>plan</THINKING>Answer")).toBe("Answer");
    expect(stripReasoning('<reasoning lang="en">a</reasoning>A<think>b</think>B')).toBe("AB");
    expect(stripReasoning("◁think▷想一想◁/think▷答案")).toBe("答案");
    expect(stripReasoning("<|begin_of_thought|>hmm<|end_of_thought|><|begin_of_solution|>解<|end_of_solution|>")).toBe("解");
    expect(stripReasoning('<details type="reasoning"><summary>Thought for 3 seconds</summary>\n> hmm\n</details>\n结论')).toBe("结论");
    expect(stripReasoning("<details><summary>思考过程</summary>\n嗯\n</details>\n结论")).toBe("结论");
  });

  it("drops everything before an orphan closing tag (template-opened reasoning), and the rest after an unclosed opening", () => {
    expect(stripReasoning("reasoning without opener</think>\n\nfinal")).toBe("final");
    expect(stripReasoning("reasoning without its opening tag\r\n</think>\r\n\r\n最终答案")).toBe("最终答案");
    expect(stripReasoning("<think>\nthe model ran out of tokens while thinking")).toBe("");
    expect(stripReasoning("答案◁think▷cut off")).toBe("答案");
  });

  it("leaves text that merely mentions thinking, or a non-reasoning details block, alone", () => {
    expect(stripReasoning("I think this works.")).toBe("I think this works.");
    expect(stripReasoning("answer <")).toBe("answer <");
    expect(stripReasoning("<details><summary>代码</summary>x</details>")).toBe("<details><summary>代码</summary>x</details>");
  });
});

describe("stripReasoning: while streaming (partial)", () => {
  const partial = (text: string) => stripReasoning(text, { partial: true });

  it("hides an unclosed block and a half-arrived opening marker", () => {
    expect(partial("<think>still thinking")).toBe("");
    expect(partial("answer <thi")).toBe("answer ");
    expect(partial("answer <")).toBe("answer ");
    expect(partial('answer <reasoning lang="')).toBe("answer ");
    expect(partial("answer ◁thi")).toBe("answer ");
    expect(partial("answer <|begin_of")).toBe("answer ");
    expect(partial("1 < 2")).toBe("1 < 2");
    expect(partial("<thinker> is a word")).toBe("<thinker> is a word");
  });

  it("holds back a details block until it is known not to be reasoning", () => {
    expect(partial("结论 <details><summary>Thou")).toBe("结论 ");
    expect(partial("结论 <details><summary>代码</summary>x</details>")).toBe("结论 <details><summary>代码</summary>x</details>");
  });

  it("never shows reasoning, whatever the chunking, and ends with the answer", () => {
    const answer = "结论：一切正常 <b>ok</b> 1<2";
    for (const opening of ["<think>", "<thinking>", "◁think▷", '<details type="reasoning">']) {
      const closing = opening === "◁think▷" ? "◁/think▷" : opening.startsWith("<details") ? "</details>" : `</${opening.slice(1)}`;
      const raw = `${opening}PRIVATE reasoning${closing}\n\n${answer}`;
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: raw.length }), { maxLength: 12 }), (cuts) => {
          const points = [...new Set(cuts)].sort((a, b) => a - b);
          let previous = "";
          for (const p of [...points, raw.length]) {
            const shown = partial(raw.slice(0, p));
            expect(shown).not.toContain("PRIVATE");
            expect(shown.startsWith(previous) || previous.startsWith(shown)).toBe(true);
            previous = shown;
          }
          expect(stripReasoning(raw)).toBe(answer);
        }),
      );
    }
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
