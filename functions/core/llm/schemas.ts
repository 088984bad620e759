// zod schemas for what OpenAI-compatible providers send back: completions, stream chunks, usage.
import { z } from "zod";
import type { Usage } from "./types.js";

const FinishReason = z.string().nullable().optional();

export const CompletionSchema = z.looseObject({
  choices: z
    .array(
      z.looseObject({
        message: z.looseObject({ content: z.string().nullable().optional() }),
        finish_reason: FinishReason,
      }),
    )
    .min(1, { error: "has no choices" }),
  usage: z.unknown().optional(),
});

export const ChunkSchema = z.looseObject({
  choices: z
    .array(
      z.looseObject({
        delta: z.looseObject({ content: z.string().nullable().optional() }).nullable().optional(),
        finish_reason: FinishReason,
      }),
    )
    .nullable()
    .optional(),
  usage: z.unknown().optional(),
});

const UsageSchema = z.looseObject({
  prompt_tokens: z.number().nonnegative(),
  completion_tokens: z.number().nonnegative(),
  total_tokens: z.number().nonnegative().optional(),
});

/** The provider's usage counts, or undefined when absent or not understood. */
export function parseUsage(raw: unknown): Usage | undefined {
  const parsed = UsageSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { prompt_tokens: p, completion_tokens: c, total_tokens: t } = parsed.data;
  return { promptTokens: p, completionTokens: c, totalTokens: t ?? p + c };
}

/** One line naming what was wrong with a response, for errors and logs. */
export function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}
