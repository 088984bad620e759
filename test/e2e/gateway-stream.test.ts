// End to end, real processes: the gateway in Stream mode (the official SDK, wrapped) against the
// DingTalk double's Stream gateway — ACK before the LLM answers, redeliveries answered once, pings,
// disconnects, dropped sockets and malformed frames survived, no secrets in the output.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHost, type HostProcess } from "../helpers/processes.js";
import { BACKUP_KEY, CLIENT_ID, CLIENT_SECRET, LLM_KEY, startWorld, type World } from "../helpers/world.js";

let w: World;
let gw: HostProcess;

beforeAll(async () => {
  // An un-ACKed frame comes back after 5 s: long enough that a late ACK on a busy machine is not
  // taken for a missing one, short enough to show within a test.
  w = await startWorld({ dingtalk: { stream: { redelivery: { delayMs: 5_000, max: 2 } } } });
  // As `npm start` runs it: bundled by infra/launch.mjs, under plain node.
  gw = startHost("functions/gateway.ts", { ...w.env, DINGCLAW_CONFIG_JSON: w.configJson, PORT: "0" }, [], { via: "launch" });
  await gw.waitFor((l) => l.includes("dingtalk: Listening for messages"), 20_000);
});

afterAll(async () => {
  await gw?.stop();
  await w?.close();
});

const repliesTo = (conversationId: string) => w.dt.sent().filter((s) => s.conversationId === conversationId);

describe("gateway in Stream mode", () => {
  it("answers a question that needs find_colleague from the directory (Stream)", async () => {
    w.dt.contacts.addDepartment(20, "市场部").addUser({ userid: "zs-e2e", name: "张三", title: "市场经理", deptIds: [20] });
    w.llm.script({ toolCalls: [{ name: "find_colleague", arguments: { name: "张三" } }] }, { text: "张三在市场部，是市场经理。" });
    w.dt.stream.push(CLIENT_ID, w.message({ text: "张三是哪个部门的？", staffId: "stream-tools", conversationId: "cidE2eTools==" }));
    await eventually(() => repliesTo("cidE2eTools==").some((s) => s.text === "张三在市场部，是市场经理。"), 15_000, "the answer");
    const toolResult = (w.llm.chatRequests().at(-1)!.body as { messages: Array<{ role: string; content: string }> }).messages.find((m) => m.role === "tool");
    expect(toolResult?.content).toContain("市场部");
    expect(w.dt.callsTo("contact.users.search").at(-1)!.body).toMatchObject({ queryWord: "张三" });
  });

  it("connects through DINGTALK_API_BASE and says so", () => {
    const lines = gw.records().map((r) => r.msg);
    expect(lines).toContain("dingtalk: Connected to DingTalk");
    expect(w.dt.stream.connections()[CLIENT_ID]).toMatchObject({ open: 1 });
  });

  it("ACKs a frame before the LLM answers, then replies", async () => {
    w.llm.script({ text: "流式回答", delayMs: 1_500 });
    const id = w.dt.stream.push(CLIENT_ID, w.message({ text: "stream 你好", conversationId: "cidStream1==", staffId: "s1" }));
    const ack = await w.dt.stream.waitForAck(id, 5_000);
    expect(ack.frame).toMatchObject({ code: 200 });
    expect(repliesTo("cidStream1==")).toHaveLength(0);
    await eventually(() => repliesTo("cidStream1==").length === 1, 15_000, "the reply");
    expect(repliesTo("cidStream1==")[0]!.text).toBe("流式回答");
  });

  it("answers a message redelivered under new frame ids exactly once", async () => {
    const body = w.message({ text: "重复推送", conversationId: "cidStreamDup==", staffId: "s2" });
    const before = w.llm.chatRequests().length;
    const ids = [w.dt.stream.push(CLIENT_ID, body), w.dt.stream.push(CLIENT_ID, body), w.dt.stream.push(CLIENT_ID, body)];
    for (const id of ids) expect((await w.dt.stream.waitForAck(id, 5_000)).frame).toMatchObject({ code: 200 });
    await eventually(() => repliesTo("cidStreamDup==").length === 1, 15_000, "the reply");
    w.dt.stream.push(CLIENT_ID, body);
    await w.dt.stream.waitUntil(() => (w.dt.stream.acks.length >= 4 ? true : undefined), 5_000);
    expect(repliesTo("cidStreamDup==")).toHaveLength(1);
    expect(w.llm.chatRequests().length - before).toBe(1);
    expect(w.dt.stream.messages().filter((m) => ids.includes(m.messageId)).map((m) => m.deliveries.length)).toEqual([1, 1, 1]);
  });

  it("echoes SYSTEM pings and survives a malformed frame", async () => {
    const [ping] = w.dt.stream.ping(CLIENT_ID);
    await w.dt.stream.waitForAck(ping!.messageId, 5_000);
    expect(w.dt.stream.pings.find((p) => p.messageId === ping!.messageId)?.echoed).toBe(true);
    w.dt.stream.sendRaw(CLIENT_ID, "{not json");
    w.dt.stream.sendRaw(CLIENT_ID, JSON.stringify({ type: "CALLBACK", headers: {} }));
    const id = w.dt.stream.push(CLIENT_ID, w.message({ text: "还活着吗", conversationId: "cidStreamAlive==", staffId: "s3" }));
    await w.dt.stream.waitForAck(id, 5_000);
    await eventually(() => repliesTo("cidStreamAlive==").length === 1, 15_000, "the reply");
  });

  it("reconnects after a dropped socket and after a disconnect frame, and keeps answering", async () => {
    const opened = w.dt.stream.connections()[CLIENT_ID]!.opened;
    expect(w.dt.stream.dropConnections(CLIENT_ID)).toBe(1);
    await w.dt.stream.waitForConnection(CLIENT_ID, 10_000, { nth: opened + 1 });
    const id = w.dt.stream.push(CLIENT_ID, w.message({ text: "断线后", conversationId: "cidStreamAfterDrop==", staffId: "s4" }));
    await w.dt.stream.waitForAck(id, 10_000);
    await eventually(() => repliesTo("cidStreamAfterDrop==").length === 1, 15_000, "the reply after a drop");

    w.dt.stream.disconnect(CLIENT_ID, { closeAfterMs: 2_000 });
    await w.dt.stream.waitForConnection(CLIENT_ID, 10_000, { nth: opened + 2 });
    const id2 = w.dt.stream.push(CLIENT_ID, w.message({ text: "重连后", conversationId: "cidStreamAfterDisc==", staffId: "s5" }));
    await w.dt.stream.waitForAck(id2, 10_000);
    await eventually(() => repliesTo("cidStreamAfterDisc==").length === 1, 15_000, "the reply after a disconnect");
    expect(gw.records().filter((r) => r.msg === "dingtalk: Connected to DingTalk").length).toBeGreaterThanOrEqual(3);
  });

  it("logs only JSON lines without secrets", async () => {
    expect(await gw.stop("SIGTERM")).toBe(0);
    const output = gw.lines.join("\n");
    const tokens = [...w.dt.state.tokens.keys(), ...w.dt.calls.map((c) => c.headers["x-acs-dingtalk-access-token"])];
    for (const secret of [CLIENT_SECRET, LLM_KEY, BACKUP_KEY, ...tokens.filter((t): t is string => !!t)])
      expect(output).not.toContain(secret);
    for (const line of gw.lines.filter((l) => l.trim() !== "")) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});
