// The playground page's DingTalk markdown renderer: the subset's blocks and spans, real core output,
// and safety — escaped text, http(s)-only links and images, dtmd sendMessage links as send buttons.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../functions/core/dingtalk/markdown.js";
import { helpCard } from "../../functions/core/replies.js";
import { escapeHtml, renderDingTalkMarkdown as render, renderInline, sendMessageContent } from "../../functions/playground/web/markdown.js";

describe("playground markdown: the subset", () => {
  it("renders headings, bold, italic, inline code and line breaks", () => {
    expect(render("## 标题")).toBe("<h2>标题</h2>");
    expect(render("**粗体** 和 *斜体* 和 `code`")).toBe("<p><strong>粗体</strong> 和 <em>斜体</em> 和 <code>code</code></p>");
    expect(render("第一行  \n第二行")).toBe("<p>第一行<br>第二行</p>");
    expect(render("段一\n\n段二")).toBe("<p>段一</p><p>段二</p>");
    expect(render("a<br>b")).toBe("<p>a<br>b</p>");
  });

  it("renders lists (ordered with their start, nested by indentation), quotes and rules", () => {
    expect(render("- 一\n- 二")).toBe("<ul><li>一</li><li>二</li></ul>");
    expect(render("3. 三\n4. 四")).toBe('<ol start="3"><li>三</li><li>四</li></ol>');
    expect(render("- 外\n  - 内")).toBe('<ul><li>外</li><li class="indent-1">内</li></ul>');
    expect(render("> 引用 **重点**\n> 第二行")).toBe("<blockquote><p>引用 <strong>重点</strong><br>第二行</p></blockquote>");
    expect(render("上\n\n---\n\n下")).toBe("<p>上</p><hr><p>下</p>");
  });

  it("renders http(s) links and images", () => {
    expect(render("[文档](https://example.com/a?b=1&c=2)")).toBe(
      '<p><a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">文档</a></p>',
    );
    expect(render("![图](https://example.com/x.png)")).toBe('<p><img src="https://example.com/x.png" alt="图" loading="lazy"></p>');
  });

  it("turns dtmd sendMessage links into send buttons carrying their text", () => {
    const url = `dtmd://dingtalkclient/sendMessage?content=${encodeURIComponent("/model deepseek")}`;
    expect(sendMessageContent(url)).toBe("/model deepseek");
    expect(sendMessageContent("https://example.com")).toBeUndefined();
    expect(render(`[切换](${url})`)).toBe('<p><a href="#" class="dt-send" data-send="/model deepseek">切换</a></p>');
    for (const b of helpCard().buttons) expect(sendMessageContent(b.url)).toMatch(/^\/(new|model|usage)$/);
  });

  it("shows what the core renders for DingTalk readably: code blocks keep their &nbsp; indentation", () => {
    const html = render(renderMarkdown("```ts\nif (a) {\n  b();\n}\n```"));
    expect(html).toContain("<blockquote>");
    expect(html).toContain("&nbsp;&nbsp;b();");
    expect(html).not.toContain("&amp;nbsp;");
    const table = render(renderMarkdown("| 名称 | 值 |\n|---|---|\n| a | 1 |"));
    expect(table).toBe("<ul><li><strong>名称</strong>: a · <strong>值</strong>: 1</li></ul>");
  });
});

describe("playground markdown: safety", () => {
  it("escapes HTML everywhere: text, headings, list items, quotes, link labels, code", () => {
    const attack = '<script>alert(1)</script><img src=x onerror="alert(2)">';
    for (const md of [attack, `# ${attack}`, `- ${attack}`, `> ${attack}`, `[${attack}](https://a.example)`, `\`${attack}\``]) {
      const html = render(md);
      expect(html).not.toMatch(/<script|<img src=x|onerror="/);
      expect(html).toContain("&lt;script&gt;");
    }
  });

  it("never makes javascript:, data: or other schemes into links or images", () => {
    for (const url of ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x</b>", "vbscript:x", "//evil.example", "/relative"]) {
      const html = render(`[点我](${url}) ![图](${url})`);
      expect(html).not.toContain("href=");
      expect(html).not.toContain("<img");
    }
  });

  it("keeps attribute values quoted: a URL or button text cannot break out", () => {
    expect(render('[x](https://a.example/"onmouseover="alert(1))')).not.toContain('"onmouseover');
    const url = `dtmd://dingtalkclient/sendMessage?content=${encodeURIComponent('"><script>alert(1)</script>')}`;
    const html = render(`[x](${url})`);
    expect(html).toContain('data-send="&quot;&gt;&lt;script&gt;');
    expect(html).not.toContain("<script");
  });

  it("ignores the private placeholder character in input", () => {
    expect(renderInline("a\uE0000\uE000b [l](https://a.example)")).toBe('a0b <a href="https://a.example" target="_blank" rel="noopener noreferrer">l</a>');
  });

  it("property: any input renders without raw tags other than the renderer's own", () => {
    const allowed = /^<\/?(p|br|h[1-6]|ul|ol|li|blockquote|hr|strong|em|code|a|img)(\s[^<>]*)?>$/;
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("<", ">", "\"", "'", "&", "*", "_", "[", "]", "(", ")", "!", "`", "#", "-", ">", "\n", " ", "a", "s", "c", "r", "i", "p", "t", ":", "/", "h", "1") }), (md) => {
        const html = render(md);
        for (const tag of html.match(/<[^>]*>/g) ?? []) expect(tag).toMatch(allowed);
        for (const attr of html.match(/\s(\w[\w-]*)=/g) ?? []) expect(attr.trim()).toMatch(/^(href|target|rel|class|data-send|src|alt|loading|start)=$/);
      }),
      { numRuns: 400 },
    );
  });

  it("escapeHtml escapes the five characters", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });
});
