// Stream mode never drops a message: a robot frame is ACKed only once its message is claimed. With the
// table down, or a claim whose write landed but whose answer was lost, the frame is not ACKed and
// nothing is answered; DingTalk's redelivery is then answered exactly once.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "../../functions/core/gateway/start.js";
import { createLogger } from "../../functions/core/log.js";
import { openTable, type Table } from "../../functions/core/store/table.js";
import { startTableProxy, type TableProxy } from "../doubles/table-proxy/index.js";
import { eventually } from "../helpers/processes.js";
import { CLIENT_ID, startWorld, type World } from "../helpers/world.js";

let w: World;
let proxy: TableProxy;
let table: Table;
let gw: Gateway;
const lines: string[] = [];

beforeAll(async () => {
  w = await startWorld({ dingtalk: { stream: { redelivery: { delayMs: 150, max: 20 } } } });
  proxy = await startTableProxy(w.db.endpoint);
  table = await openTable({ ...w.db.config, endpoint: proxy.url }, { env: {}, requestTimeoutMs: 1000 });
  gw = await startGateway({
    config: w.config,
    log: createLogger({ level: "debug", write: (l) => lines.push(l) }),
    port: 0,
    host: "127.0.0.1",
    table,
    dispatcher: { backoffMs: () => 10 },
  });
  await gw.stream!.ready;
});

afterAll(async () => {
  await gw?.close(5_000);
  await table?.close();
  await proxy?.close();
  await w?.close();
});

beforeEach(() => {
  proxy.clear();
  w.llm.script({ text: "收到，这条没有丢" });
});

const repliesTo = (conversationId: string) => w.dt.sent().filter((s) => s.conversationId === conversationId);
const pushed = (id: string) => w.dt.stream.messages().find((m) => m.messageId === id)!;

describe("Stream mode: claim first, then ACK", () => {
  it("table down: the frame is not ACKed and not answered; its redelivery after the table is back is answered once", async () => {
    const llmBefore = w.llm.chatRequests().length;
    await proxy.down();
    const id = w.dt.stream.push(CLIENT_ID, w.message({ text: "表挂了也别丢", conversationId: "cidNoLoss1==", staffId: "nl1" }));
    await eventually(() => pushed(id).deliveries.length >= 3, 10_000, "DingTalk redelivering the un-ACKed frame");
    expect(pushed(id).acked).toBe(false);
    expect(repliesTo("cidNoLoss1==")).toEqual([]);
    expect(lines.some((l) => l.includes("message not acknowledged, DingTalk will redeliver it"))).toBe(true);

    await proxy.up();
    const ack = await w.dt.stream.waitForAck(id, 10_000);
    expect(ack.frame).toMatchObject({ code: 200 });
    await eventually(() => repliesTo("cidNoLoss1==").length === 1, 10_000, "the reply");
    await gw.dispatcher.idle();
    expect(repliesTo("cidNoLoss1==")[0]!.text).toBe("收到，这条没有丢");
    expect(w.llm.chatRequests().length - llmBefore).toBe(1);
  });

  it("a claim whose write landed but whose answer was lost: not ACKed, then the redelivery is answered once", async () => {
    const llmBefore = w.llm.chatRequests().length;
    proxy.fault("lose_response", { actions: ["PutItem"], times: 3 });
    const id = w.dt.stream.push(CLIENT_ID, w.message({ text: "超时的认领", conversationId: "cidNoLoss2==", staffId: "nl2" }));
    await eventually(() => proxy.requests.filter((r) => r.fault === "lose_response").length === 3, 10_000, "the claim's three lost answers");
    await eventually(() => pushed(id).deliveries.length >= 2 || pushed(id).acked, 10_000, "a redelivery");
    expect(pushed(id).deliveries[0]!.attempt).toBe(0);
    const ack = await w.dt.stream.waitForAck(id, 10_000);
    expect(ack.frame).toMatchObject({ code: 200 });
    expect(pushed(id).deliveries.length).toBeGreaterThanOrEqual(2);
    await eventually(() => repliesTo("cidNoLoss2==").length === 1, 10_000, "the reply");
    await gw.dispatcher.idle();
    expect(repliesTo("cidNoLoss2==")).toHaveLength(1);
    expect(w.llm.chatRequests().length - llmBefore).toBe(1);
  });

  it("a frame that can never be processed is ACKed (no endless redelivery)", async () => {
    const id = w.dt.stream.push(CLIENT_ID, { msgtype: "text", text: { content: "no ids" } });
    await w.dt.stream.waitForAck(id, 5_000);
    expect(pushed(id).deliveries).toHaveLength(1);
  });
});
