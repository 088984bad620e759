// The gateway's warm-up (core/warm-up.ts): it builds what a first turn builds and sends a turn's kinds
// of conditional writes, which fail on every backend, so nothing is written; a failure never rejects.
import { describe, expect, it } from "vitest";
import { createLogger } from "../../functions/core/log.js";
import type { ItemTable } from "../../functions/core/store/items.js";
import { WARM_UP_KEY, warmUp } from "../../functions/core/warm-up.js";
import { BACKENDS, useBackend } from "../helpers/backends.js";

function recording(items: ItemTable) {
  const writes: { op: string; result: unknown }[] = [];
  const spy = Object.create(items) as ItemTable;
  spy.update = (async (key, update, opts) => {
    const result = await items.update(key, update, opts);
    writes.push({ op: "update", result });
    return result;
  }) as ItemTable["update"];
  spy.put = async (...a: Parameters<ItemTable["put"]>) => {
    const result = await items.put(...a);
    writes.push({ op: "put", result });
    return result;
  };
  return { spy, writes };
}

describe.each([...BACKENDS, "embedded" as const])("warm-up on %s", (kind) => {
  const db = useBackend(kind);

  it("prepares the tools' specs and the LLM clients, and its writes reach the table but write nothing", async () => {
    const items = db.table.items();
    const { spy, writes } = recording(items);
    const prepared: string[] = [];
    await warmUp({
      timeZone: "Asia/Shanghai",
      tools: { prepareSpecs: () => prepared.push("specs") },
      llm: { prepareClients: () => prepared.push("clients") },
      items: spy,
      log: createLogger({ write: () => {} }),
    });
    expect(prepared).toEqual(["specs", "clients"]);
    expect(writes).toEqual([
      { op: "update", result: false },
      { op: "put", result: false },
    ]);
    expect(await items.get(WARM_UP_KEY)).toBeUndefined();
    expect(await items.query(WARM_UP_KEY.pk)).toEqual([]);
  });
});

describe("warm-up failures", () => {
  it("resolve with a warning, never reject", async () => {
    const lines: string[] = [];
    const failing = { update: () => Promise.reject(new Error("table unreachable")) } as unknown as ItemTable;
    await expect(
      warmUp({
        timeZone: "Asia/Shanghai",
        tools: { prepareSpecs: () => {} },
        llm: { prepareClients: () => {} },
        items: failing,
        log: createLogger({ write: (l: string) => lines.push(l) }),
      }),
    ).resolves.toBeUndefined();
    expect(lines.join("\n")).toContain("warm-up failed");
  });
});
