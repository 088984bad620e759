// What a turn's tokens cost: model_list[].price ({input, output} in CNY per million tokens, as the
// provider bills them) applied to the prompt and completion tokens the provider reported. No price
// configured: the cost is unknown (null), never guessed.
import type { ModelEndpoint } from "./config.js";

export type Price = NonNullable<ModelEndpoint["price"]>;

export interface TokenCounts {
  promptTokens: number;
  completionTokens: number;
}

/** Costs are kept to a millionth of a yuan (one token at 1 CNY per million). */
const DIGITS = 1e6;

/** The price of the model_list entry named `modelName` (the first entry with a price when several share the name). */
export function priceOf(models: readonly Pick<ModelEndpoint, "name" | "price">[], modelName: string | undefined): Price | undefined {
  if (!modelName) return undefined;
  return models.find((m) => m.name === modelName && m.price)?.price;
}

/** CNY for `tokens` at `price`, rounded to 0.000001; null when the price is unknown. */
export function costCny(price: Price | undefined, tokens: TokenCounts): number | null {
  if (!price) return null;
  const yuan = (tokens.promptTokens * price.input + tokens.completionTokens * price.output) / 1e6;
  return Math.round(yuan * DIGITS) / DIGITS;
}

/** The same in millionths of a yuan, a whole number for atomic ADD counters; null when unknown. */
export function costMicroCny(price: Price | undefined, tokens: TokenCounts): number | null {
  if (!price) return null;
  return Math.round(tokens.promptTokens * price.input + tokens.completionTokens * price.output);
}

/** "¥0.0123" below one yuan, "¥12.35" from one yuan on (µCNY in). */
export function formatCny(micros: number): string {
  if (micros === 0) return "¥0";
  const yuan = micros / 1_000_000;
  return `¥${yuan < 1 ? yuan.toFixed(4) : yuan.toFixed(2)}`;
}

/** A cost as users read it: known, unknown (no price), or at least so much (some usage unpriced). */
export function describeCost(micros: number, unpricedTokens: number): string {
  if (unpricedTokens <= 0) return formatCny(micros);
  if (micros <= 0) return "未知（模型未设置价格）";
  return `至少 ${formatCny(micros)}（部分模型未设置价格）`;
}

/** 1234567 → "1,234,567". */
export function formatTokens(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
