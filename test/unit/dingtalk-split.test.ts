// Splitting replies: paragraphs first, then lines, sentences and graphemes; every part within the
// char and UTF-8 byte limits, numbering included; nothing lost, no broken characters.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, renderReply, splitText, type SplitLimits } from "../../functions/core/dingtalk/split.js";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");
const NUMBERING = /\n\n\((\d+)\/(\d+)\)$/;

function within(text: string, limits: SplitLimits): boolean {
  return text.length <= limits.maxChars && bytes(text) <= limits.maxBytes;
}

/** A surrogate half cut from its pair (a part is a slice, so U+FFFD in it can only come from the input). */
function hasBrokenChars(s: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

const squash = (s: string) => s.replace(/\s+/g, "");

/** Long Chinese prose: sentences of varying length in paragraphs. */
function chineseEssay(paragraphs: number): string {
  const sentences = ["钉钉机器人可以在群聊和单聊中回答问题。", "长回复需要按段落拆分！", "每段不能超过字节限制吗？", "中文字符在UTF-8中占三个字节；", "表情😀也要完整保留。"];
  const out: string[] = [];
  for (let p = 0; p < paragraphs; p++) {
    let para = "";
    for (let i = 0; i < 40 + (p % 7) * 9; i++) para += sentences[(p + i) % sentences.length];
    out.push(para);
  }
  return out.join("\n\n");
}

describe("splitText", () => {
  it("returns short text whole and is lossless for long text", () => {
    expect(splitText("你好")).toEqual(["你好"]);
    const text = chineseEssay(30);
    const parts = splitText(text);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.join("")).toBe(text);
    for (const p of parts) expect(within(p, DEFAULT_LIMITS)).toBe(true);
  });

  it("cuts on paragraph boundaries when they exist", () => {
    const para = "段".repeat(1500);
    const parts = splitText([para, para, para].join("\n\n"));
    expect(parts).toEqual([`${para}\n\n${para}\n\n`, para]);
  });

  it("falls back to sentence boundaries (Chinese and Latin) inside one long paragraph", () => {
    const zh = "这是一句话。".repeat(1000);
    for (const p of splitText(zh)) expect(p.endsWith("。")).toBe(true);
    const en = "This is a sentence. ".repeat(400);
    const parts = splitText(en);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts.slice(0, -1)) expect(p.endsWith(". ")).toBe(true);
  });

  it("prefers line boundaries over cutting a code line", () => {
    const code = Array.from({ length: 400 }, (_, i) => `> line ${i}: const value = compute(${i});  `).join("\n");
    const parts = splitText(code);
    for (const p of parts.slice(0, -1)) expect(p.endsWith("\n")).toBe(true);
  });

  it("keeps URLs whole when splitting on sentences", () => {
    const text = Array.from({ length: 200 }, (_, i) => `See https://example.com/a.b?c=${i}!d and more.`).join(" ");
    const parts = splitText(text, { maxChars: 500, maxBytes: 15_000 });
    for (const p of parts) for (const url of p.match(/https:\S+/g) ?? []) expect(url).toMatch(/^https:\/\/example\.com\/a\.b\?c=\d+!d$/);
  });

  it("cuts hard at grapheme boundaries when there is no boundary at all", () => {
    const text = "😀".repeat(5000);
    const parts = splitText(text, { maxChars: 3500, maxBytes: 1000 });
    expect(parts.join("")).toBe(text);
    for (const p of parts) {
      expect(bytes(p)).toBeLessThanOrEqual(1000);
      expect(hasBrokenChars(p)).toBe(false);
    }
    const family = "👨‍👩‍👧‍👦".repeat(200);
    for (const p of splitText(family, { maxChars: 105, maxBytes: 15_000 })) expect(p.startsWith("👨")).toBe(true);
  });

  it("respects the byte limit for CJK text before the char limit", () => {
    const parts = splitText("中".repeat(3000), { maxChars: 3500, maxBytes: 3000 });
    expect(parts.map((p) => p.length)).toEqual([1000, 1000, 1000]);
  });

  it("holds for arbitrary unicode (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 400 }), fc.integer({ min: 8, max: 60 }), (text, max) => {
        const limits = { maxChars: max, maxBytes: max + 10 };
        const parts = splitText(text, limits);
        expect(parts.join("")).toBe(text);
        for (const p of parts) {
          expect(within(p, limits)).toBe(true);
          expect(hasBrokenChars(p)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("renderReply", () => {
  it("returns one part with a title for a short answer", () => {
    expect(renderReply("<think>hmm</think>\n\n# 结论\n\n可以。")).toEqual([{ title: "结论", text: "# 结论\n\n可以。" }]);
    expect(renderReply("<think>only thoughts</think>")).toEqual([]);
  });

  it("numbers long Chinese replies, keeps every part within both limits and loses nothing", () => {
    const essay = chineseEssay(40);
    const parts = renderReply(essay);
    expect(parts.length).toBeGreaterThan(2);
    parts.forEach((part, i) => {
      expect(within(part.text, DEFAULT_LIMITS)).toBe(true);
      expect(hasBrokenChars(part.text)).toBe(false);
      const m = NUMBERING.exec(part.text);
      expect(m?.[1]).toBe(String(i + 1));
      expect(m?.[2]).toBe(String(parts.length));
      expect(part.title.endsWith(`(${i + 1}/${parts.length})`)).toBe(true);
    });
    const reassembled = parts.map((p) => p.text.replace(NUMBERING, "")).join("\n\n");
    expect(squash(reassembled)).toBe(squash(essay));
  });

  it("keeps numbering within tight limits too", () => {
    const limits = { maxChars: 120, maxBytes: 200 };
    const parts = renderReply("天气很好。".repeat(300), limits);
    expect(parts.length).toBeGreaterThan(9);
    for (const p of parts) expect(within(p.text, limits)).toBe(true);
  });

  it("renders tables and code in long replies before splitting", () => {
    const table = ["| 名称 | 数量 |", "|---|---|", ...Array.from({ length: 300 }, (_, i) => `| 物品${i} | ${i} |`)].join("\n");
    const code = ["```ts", ...Array.from({ length: 200 }, (_, i) => `  const v${i} = ${i};`), "```"].join("\n");
    const parts = renderReply(`清单：\n\n${table}\n\n代码：\n\n${code}`);
    const all = parts.map((p) => p.text).join("\n");
    expect(all).toContain("- **名称**: 物品299 · **数量**: 299");
    expect(all).toContain("> &nbsp;&nbsp;const v199 = 199;");
    expect(all).not.toContain("```");
    expect(all).not.toContain("|---|");
    for (const p of parts) expect(within(p.text, DEFAULT_LIMITS)).toBe(true);
  });
});
