// Idempotency records when the table loses answers (through the fault proxy): a claim whose write was
// applied but whose ack was lost is still ours after the SDK's retry, so the message is not dropped.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { IdempotencyStore } from "../../functions/core/store/idempotency.js";
import { openTable, type Table } from "../../functions/core/store/table.js";
import { startTableProxy, type TableProxy } from "../doubles/table-proxy/index.js";
import { useTestTable } from "../helpers/dynalite.js";

const db = useTestTable();
let proxy: TableProxy;
let table: Table;

beforeAll(async () => {
  proxy = await startTableProxy(db.endpoint);
  table = await openTable({ ...db.config, endpoint: proxy.url }, { env: {} });
});
afterAll(async () => {
  await table.close();
  await proxy.close();
});
afterEach(() => proxy.clear());

describe("IdempotencyStore under lost table answers", () => {
  it("a claim whose put was applied but whose answer was lost is still claimed", async () => {
    const store = new IdempotencyStore(table);
    proxy.fault("lose_response", { times: 1, actions: ["PutItem"] });
    const claim = await store.claim("lost-ack-put");
    expect(claim).toMatchObject({ status: "claimed", attempt: 1 });
    expect(await store.claim("lost-ack-put")).toEqual({ status: "in_progress" });
  });

  it("a takeover whose answer was lost is still claimed", async () => {
    let now = 1_000_000;
    const store = new IdempotencyStore(table, { now: () => now, leaseMs: 1000 });
    expect(await store.claim("lost-ack-takeover")).toMatchObject({ status: "claimed" });
    now += 2000;
    proxy.fault("lose_response", { times: 1, actions: ["UpdateItem"] });
    expect(await store.claim("lost-ack-takeover")).toMatchObject({ status: "claimed", attempt: 2 });
    expect(await store.claim("lost-ack-takeover")).toEqual({ status: "in_progress" });
  });

  it("complete (with the reply recorded) stays idempotent when its answers are lost", async () => {
    const store = new IdempotencyStore(table);
    const claim = await store.claim("lost-ack-complete");
    if (claim.status !== "claimed") throw new Error("expected a claim");
    proxy.fault("lose_response", { times: 2, actions: ["UpdateItem"] });
    await store.complete("lost-ack-complete", claim.token, { replyId: "r-1", sentParts: ["p"] });
    expect(await store.claim("lost-ack-complete")).toEqual({ status: "completed", replyId: "r-1" });
  });
});
