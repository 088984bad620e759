// The monthly DingTalk API-call counter: every count lands, and counts made while one is being written
// go out together (many jobs at once in one process make a few writes, not one per call).
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiUsageStore } from "../../functions/core/store/api-usage.js";
import { ItemTable } from "../../functions/core/store/items.js";
import { useTestTable } from "../helpers/dynalite.js";

const db = useTestTable();
let app = 0;
const freshApp = () => `ding-usage-${++app}-${Date.now()}`;

function countWrites() {
  const update = vi.spyOn(ItemTable.prototype, "update");
  return () => update.mock.calls.filter(([key]) => key.pk.startsWith("usage#dingtalk#")).length;
}
afterEach(() => vi.restoreAllMocks());

describe("ApiUsageStore.record", () => {
  it("counts 60 calls made at once in two writes, with the per-API breakdown", async () => {
    const store = new ApiUsageStore(db.table, { app: freshApp() });
    const writes = countWrites();
    await Promise.all(Array.from({ length: 60 }, (_, i) => store.record(i % 3 === 0 ? "card.streaming" : "robot.sendBySession")));
    expect(writes()).toBe(2);
    expect(await store.month()).toMatchObject({ calls: 60, byApi: { "card.streaming": 20, "robot.sendBySession": 40 } });
  });

  it("writes a lone count at once, and counts made during a write right after it", async () => {
    const store = new ApiUsageStore(db.table, { app: freshApp() });
    const writes = countWrites();
    await store.record("robot.sendBySession");
    expect(writes()).toBe(1);
    const first = store.record("card.createAndDeliver");
    const later = [store.record("card.streaming"), store.record("card.streaming", 2)];
    await first;
    await Promise.all(later);
    expect(writes()).toBe(3);
    expect(await store.month()).toMatchObject({ calls: 5, byApi: { "robot.sendBySession": 1, "card.createAndDeliver": 1, "card.streaming": 3 } });
  });

  it("a failed write fails only its own counts; the next ones are still written", async () => {
    const store = new ApiUsageStore(db.table, { app: freshApp() });
    const update = vi.spyOn(ItemTable.prototype, "update").mockRejectedValueOnce(new Error("table down"));
    const lost = store.record("robot.sendBySession");
    const kept = store.record("card.streaming");
    await expect(lost).rejects.toThrow("table down");
    await kept;
    update.mockRestore();
    expect(await store.month()).toMatchObject({ calls: 1, byApi: { "card.streaming": 1 } });
  });
});
