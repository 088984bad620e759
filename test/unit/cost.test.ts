// cost.ts: model_list[].price applied to reported tokens; unknown without a price; how a cost reads with
// and without prices; the turn meter's per-call costs (the endpoint that answered decides the price).
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../functions/core/config.js";
import { costCny, costMicroCny, describeCost, formatCny, formatTokens, priceOf } from "../../functions/core/cost.js";
import { TurnMeter } from "../../functions/core/limits.js";
import { turnFigures } from "../../functions/core/store/llm-usage.js";

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

describe("cost as users read it, per call of a turn", () => {
  it("reads as yuan, unknown, or at least so much", () => {
    expect(formatCny(0)).toBe("¥0");
    expect(formatCny(8800)).toBe("¥0.0088");
    expect(formatCny(12_345_678)).toBe("¥12.35");
    expect(describeCost(8800, 0)).toBe("¥0.0088");
    expect(describeCost(0, 100)).toBe("未知（模型未设置价格）");
    expect(describeCost(8800, 100)).toBe("至少 ¥0.0088（部分模型未设置价格）");
    expect(formatTokens(1234567)).toBe("1,234,567");
  });

  it("takes the price of the endpoint that answered, per call", () => {
    const config = parseConfig({
      model_list: [
        { model_name: "glm", model: "zhipu/glm-4.7", price: { input: 4, output: 16 } },
        { model_name: "glm", model: "zhipu/glm-4.7", api_base: "https://other.example/v4", price: { input: 2, output: 8 } },
        { model_name: "free", model: "qwen/qwen-turbo" },
      ],
    });
    const meter = new TurnMeter(config.models);
    const usage = (p: number, c: number) => ({ promptTokens: p, completionTokens: c, totalTokens: p + c });
    const at = (endpoint: number) => [{ endpoint } as never];
    meter.note({ modelName: "glm", usage: usage(100, 10), attempts: at(1) });
    meter.note({ modelName: "glm", usage: usage(100, 10), attempts: at(0) });
    meter.note({ modelName: "free", usage: usage(50, 50), attempts: at(2) });
    meter.note({ modelName: "glm", usage: usage(0, 0), attempts: at(0) });
    expect(meter.calls.map((c) => c.cost)).toEqual([280, 560, undefined]);
    expect(meter.cost()).toEqual({ micros: 840, unpriced: true });
    expect(turnFigures(meter.calls)).toEqual({ tokens: 320, input: 250, output: 70, cost: 840, unpriced: 100 });
  });
});
