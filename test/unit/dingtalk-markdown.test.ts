// Markdown rendering for DingTalk: reasoning removed, tables as lists, code kept line by line,
// links and bare URLs intact; titles are the first meaningful line, short, never a constant.
import { describe, expect, it } from "vitest";
import { renderMarkdown, titleOf } from "../../functions/core/dingtalk/markdown.js";
import { displayWidth } from "../../functions/core/dingtalk/unicode.js";

describe("renderMarkdown and titleOf: reasoning removed (rules in llm/reasoning.ts)", () => {
  it("renders only the answer, and titles it by the answer's first line", () => {
    expect(renderMarkdown("<think>\n用户想知道天气。\n</think>\n\n今天晴。")).toBe("今天晴。");
    expect(renderMarkdown("<think>\nthe model ran out of tokens while thinking")).toBe("");
    expect(titleOf("<reasoning>先想想</reasoning>\n# 天气预报\n今天晴。")).toBe("天气预报");
  });
});

describe("renderMarkdown: tables", () => {
  it("turns a table into one list item per row with header names", () => {
    const md = ["| 模型 | 价格 | 备注 |", "|:---|---:|:--:|", "| GLM-4 | 0.1元 | 快 \\| 稳 |", "| Qwen | 0.2元 | |"].join("\n");
    expect(renderMarkdown(`对比如下：\n\n${md}\n\n以上。`)).toBe(
      ["对比如下：", "", "- **模型**: GLM-4 · **价格**: 0.1元 · **备注**: 快 | 稳", "- **模型**: Qwen · **价格**: 0.2元", "", "以上。"].join("\n"),
    );
  });

  it("handles tables without outer pipes and single-column tables", () => {
    expect(renderMarkdown("a | b\n--- | ---\n1 | 2")).toBe("- **a**: 1 · **b**: 2");
    expect(renderMarkdown("| 项 |\n|---|\n| 苹果 |\n| 香蕉 |")).toBe("- 苹果\n- 香蕉");
  });

  it("leaves a line with a pipe that is not a table alone", () => {
    expect(renderMarkdown("用 a | b 表示或")).toBe("用 a | b 表示或");
  });
});

describe("renderMarkdown: code", () => {
  const answer = ["示例：", "", "```python", "def f(x):", "    return x * 2", "", "print(f(3))", "```", "", "完毕"].join("\n");

  it("keeps fenced code as quoted lines with indentation and blank lines", () => {
    const out = renderMarkdown(answer);
    expect(out).not.toContain("```");
    expect(out).toBe(
      ["示例：", "", "> **python**  ", "> def f(x):  ", "> &nbsp;&nbsp;&nbsp;&nbsp;return x * 2  ", "> &nbsp;  ", "> print(f(3))", "", "完毕"].join("\n"),
    );
  });

  it("does not treat table-like or think-like text inside code as markup", () => {
    const out = renderMarkdown("```\n| a | b |\n|---|---|\n| 1 | 2 |\n```");
    expect(out).toBe("> | a | b |  \n> |---|---|  \n> | 1 | 2 |");
  });

  it("renders an unclosed fence to the end", () => {
    expect(renderMarkdown("```js\nconst a = 1;")).toBe("> **js**  \n> const a = 1;");
  });
});

describe("renderMarkdown: prose", () => {
  it("keeps links intact and makes bare URLs and <autolinks> clickable links", () => {
    const text = "见 [文档](https://open.dingtalk.com/document/a_b?x=1&y=2) 和 https://example.com/x_y_z?q=1.";
    expect(renderMarkdown(text)).toBe(
      "见 [文档](https://open.dingtalk.com/document/a_b?x=1&y=2) 和 [https://example.com/x_y_z?q=1](https://example.com/x_y_z?q=1).",
    );
    expect(renderMarkdown("打开 <https://a.example/b>，或看 `https://code.example/c` 和 ![图](https://img.example/d.png)")).toBe(
      "打开 [https://a.example/b](https://a.example/b)，或看 `https://code.example/c` 和 ![图](https://img.example/d.png)",
    );
    expect(renderMarkdown("网址：https://a.example/路径。下一句")).toBe("网址：[https://a.example/路径](https://a.example/路径)。下一句");
    expect(renderMarkdown("| 站点 |\n|---|\n| https://t.example/x |")).toBe("- [https://t.example/x](https://t.example/x)");
  });

  it("adds hard breaks inside paragraphs, converts * lists and drops rules", () => {
    expect(renderMarkdown("第一行\n第二行\n\n---\n\n* 甲\n* 乙")).toBe("第一行  \n第二行\n\n- 甲  \n- 乙");
  });
});

describe("titleOf", () => {
  it("uses the first meaningful line without markdown", () => {
    expect(titleOf("## **北京**今日天气\n\n晴")).toBe("北京今日天气");
    expect(titleOf("\n\n- [点这里](https://x.y) 查看\n")).toBe("点这里 查看");
    expect(titleOf("<think>x</think>\n> 引用的一句话")).toBe("引用的一句话");
    expect(titleOf("```\ncode line\n```")).toBe("code line");
  });

  it("is short: at most ~20 CJK characters or ~40 Latin ones, with an ellipsis", () => {
    const cn = titleOf("这是一个非常非常长的标题，它远远超过了二十个汉字的长度限制，所以必须截断");
    expect(cn.endsWith("…")).toBe(true);
    expect(displayWidth(cn)).toBeLessThanOrEqual(40);
    const en = titleOf("This is a rather long English title that should be cut somewhere");
    expect(en.endsWith("…")).toBe(true);
    expect(en.length).toBeLessThanOrEqual(40);
    expect(titleOf("短标题")).toBe("短标题");
  });

  it("never cuts an emoji in half and differs between answers", () => {
    const t = titleOf("👍".repeat(30));
    expect(t).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(t.endsWith("…")).toBe(true);
    expect(titleOf("答案一")).not.toBe(titleOf("答案二"));
  });
});
