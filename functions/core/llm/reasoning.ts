// Reasoning removal, the one set of rules for every caller (the LLM stream, DingTalk markdown, titles):
// `<think>`-style blocks in the spellings models use, cut-off blocks, and, while streaming, an opening
// tag that has only half arrived.

const TAGS = "think|thinking|thought|thoughts|reasoning|reflection";

/** Complete reasoning blocks. */
const BLOCKS: readonly RegExp[] = [
  new RegExp(`<(${TAGS})\\b[^>]*>[\\s\\S]*?</\\1\\s*>`, "gi"),
  /◁think▷[\s\S]*?◁\/think▷/g,
  /<\|begin_of_thought\|>[\s\S]*?<\|end_of_thought\|>/g,
  /<details\b[^>]*>\s*<summary>[^<]*(?:think|thought|reason|思考|推理)[^<]*<\/summary>[\s\S]*?<\/details>/gi,
  /<details\b[^>]*type=["']?reasoning["']?[^>]*>[\s\S]*?<\/details>/gi,
];
/** Markers around the answer of some models, not reasoning themselves. */
const SOLUTION_MARKERS = /<\|(?:begin|end)_of_solution\|>/g;
/** A closing tag whose opening was never sent (templates that open the block in the prompt): everything before it is reasoning. */
const ORPHAN_CLOSE = new RegExp(`^[\\s\\S]*(?:</(?:${TAGS})\\s*>|◁/think▷|<\\|end_of_thought\\|>)`, "i");
/** An opening that never closed (the answer was cut off mid-thought, or has not arrived yet): the rest is reasoning. */
const UNCLOSED = new RegExp(`(?:<(?:${TAGS})\\b[^>]*>|◁think▷|<\\|begin_of_thought\\|>)[\\s\\S]*$`, "i");
/** While streaming: a `<details>` block still open may turn out to be reasoning once its summary arrives. */
const OPEN_DETAILS = /<details\b(?![\s\S]*<\/details>)[\s\S]*$/i;
/** While streaming: an opening tag whose attributes are still arriving. */
const OPENING_IN_PROGRESS = new RegExp(`<(?:${TAGS}|details)\\b[^>]*$`, "i");
const OPENINGS = [...TAGS.split("|").map((t) => `<${t}>`), "<details", "◁think▷", "<|begin_of_thought|>"];

/** The length of a trailing piece of `text` that may be the start of an opening marker. */
function partialOpening(text: string): number {
  const lower = text.slice(-24).toLowerCase();
  for (let start = 0; start < lower.length; start++) {
    const tail = lower.slice(start);
    if ((tail[0] === "<" || tail[0] === "◁") && OPENINGS.some((o) => o.startsWith(tail) && o !== tail)) return tail.length;
  }
  return 0;
}

/**
 * The visible part of a model's text. `partial`: the text is still streaming, so a block that has not
 * closed yet, or a marker that has only half arrived, hides what follows it until more arrives.
 */
export function stripReasoning(text: string, opts: { partial?: boolean } = {}): string {
  let out = text.replace(/\r\n?/g, "\n");
  for (const block of BLOCKS) out = out.replace(block, "");
  out = out.replace(SOLUTION_MARKERS, "").replace(ORPHAN_CLOSE, "").replace(UNCLOSED, "");
  if (!opts.partial) return out.trim();
  out = out.replace(OPEN_DETAILS, "").replace(OPENING_IN_PROGRESS, "");
  return out.slice(0, out.length - partialOpening(out)).trimStart();
}
