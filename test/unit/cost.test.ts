// cost.ts: model_list[].price applied to reported tokens; unknown without a price.
import { describe, expect, it } from "vitest";
import { costCny, costMicroCny, priceOf } from "../../functions/core/cost.js";

describe("cost", () => {
  const models = [
    { name: "glm", price: undefined },
    { name: "glm", price: { input: 4, output: 16 } },
    { name: "free" },
  ];

  it("prices prompt and completion tokens per million", () => {
    const price = priceOf(models, "glm");
    expect(price).toEqual({ input: 4, output: 16 });
    expect(costCny(price, { promptTokens: 1_000_000, completionTokens: 500_000 })).toBe(12);
    expect(costCny(price, { promptTokens: 1200, completionTokens: 300 })).toBe(0.0096);
    expect(costMicroCny(price, { promptTokens: 1200, completionTokens: 300 })).toBe(9600);
  });

  it("is unknown (null) without a price, and zero for a free model", () => {
    expect(priceOf(models, "free")).toBeUndefined();
    expect(priceOf(models, undefined)).toBeUndefined();
    expect(costCny(undefined, { promptTokens: 10, completionTokens: 10 })).toBeNull();
    expect(costMicroCny(undefined, { promptTokens: 10, completionTokens: 10 })).toBeNull();
    expect(costCny({ input: 0, output: 0 }, { promptTokens: 10, completionTokens: 10 })).toBe(0);
  });

  it("rounds to a millionth of a yuan", () => {
    expect(costCny({ input: 0.5, output: 0 }, { promptTokens: 3, completionTokens: 0 })).toBe(0.000002);
  });
});
