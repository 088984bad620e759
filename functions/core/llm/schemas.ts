// zod schemas for what OpenAI-compatible providers send back: completions, stream chunks (tool-call
// deltas included), usage. Shapes: https://platform.openai.com/docs/api-reference/chat/object and
// .../chat/streaming (`choices[].message.tool_calls[]`, `choices[].delta.tool_calls[]` with `index`).
import * as z from "zod";
import type { Usage } from "./types.js";

const FinishReason = z.string().nullable().optional();
const Text = z.string().nullable().optional();

const ToolCallSchema = z.looseObject({
  id: z.string().nullable().optional(),
  type: z.string().nullable().optional(),
  function: z.looseObject({ name: z.string().min(1), arguments: z.string().nullable().optional() }),
});

const ToolCallDeltaSchema = z.looseObject({
  index: z.number().int().nonnegative().nullable().optional(),
  id: z.string().nullable().optional(),
  type: z.string().nullable().optional(),
  function: z.looseObject({ name: Text, arguments: Text }).nullable().optional(),
});

export type ToolCallDelta = z.infer<typeof ToolCallDeltaSchema>;

export const CompletionSchema = z.looseObject({
  choices: z
    .array(
      z.looseObject({
        message: z.looseObject({
          content: Text,
          reasoning_content: Text,
          tool_calls: z.array(ToolCallSchema).nullable().optional(),
        }),
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
        delta: z
          .looseObject({
            content: Text,
            reasoning_content: Text,
            tool_calls: z.array(ToolCallDeltaSchema).nullable().optional(),
          })
          .nullable()
          .optional(),
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
