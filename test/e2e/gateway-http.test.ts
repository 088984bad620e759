// End to end, real processes: the gateway (`npm start`'s entry) in HTTP mode with the DingTalk and LLM
// doubles and dynalite — context over turns, groups, redeliveries, the fast ack, shutdown, no secrets.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedHeaders } from "../helpers/messages.js";
import { eventually, startHost, type HostProcess } from "../helpers/processes.js";
import { BACKUP_KEY, CLIENT_SECRET, LLM_KEY, startWorld, type World } from "../helpers/world.js";

let w: World;
let gw: HostProcess;
let url: string;

beforeAll(async () => {
  w = await startWorld();
  gw = startHost("functions/gateway.ts", {
    ...w.env,
    DINGCLAW_CONFIG_JSON: w.configJson,
    DINGTALK_MODE: "http",
    PORT: "0",
    LOG_LEVEL: "debug",
  });
  const line = await gw.waitFor((l) => l.includes('"gateway listening"'), 20_000);
  url = (JSON.parse(line) as { url: string }).url;
});

afterAll(async () => {
  await gw?.stop();
  await w?.close();
});

const post = (body: unknown) =>
  fetch(`${url}/callback`, { method: "POST", headers: signedHeaders(CLIENT_SECRET), body: JSON.stringify(body) });

const repliesTo = (conversationId: string) => w.dt.sent().filter((s) => s.conversationId === conversationId);

describe("gateway over HTTP", () => {
  it("answers a question that needs find_colleague from the directory (HTTP callback)", async () => {
    w.dt.contacts.addDepartment(20, "市场部").addUser({ userid: "zs-e2e", name: "张三", title: "市场经理", deptIds: [20] });
    w.llm.script({ toolCalls: [{ name: "find_colleague", arguments: { name: "张三" } }] }, { text: "张三在市场部，是市场经理。" });
    expect((await post(w.message({ text: "张三是哪个部门的？", staffId: "e2e-tools", conversationId: "cidE2eTools==" }))).status).toBe(200);
    await eventually(() => repliesTo("cidE2eTools==").some((s) => s.text === "张三在市场部，是市场经理。"), 15_000, "the answer");
    const toolResult = (w.llm.chatRequests().at(-1)!.body as { messages: Array<{ role: string; content: string }> }).messages.find((m) => m.role === "tool");
    expect(toolResult?.content).toContain("市场部");
    expect(w.dt.callsTo("contact.users.search").at(-1)!.body).toMatchObject({ queryWord: "张三" });
  });

  it("serves /healthz", async () => {
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, dingtalk: "http", models: ["glm", "backup"] });
  });

  it("keeps the context of a three-turn 1:1 conversation, and a group's own", async () => {
    const dm = { staffId: "e2e-user", conversationId: "cidE2eDirect==" };
    const group = { type: "group" as const, conversationId: "cidE2eGroup==", staffId: "e2e-user" };
    for (const [i, text] of ["第一轮", "第二轮", "第三轮"].entries()) {
      w.llm.script({ text: `回答${i + 1}` });
      expect((await post(w.message({ text, ...dm }))).status).toBe(200);
      await eventually(() => repliesTo(dm.conversationId).length === i + 1, 15_000, `reply ${i + 1}`);
    }
    w.llm.script({ text: "群回答" });
    await post(w.message({ text: "@bot 群里的问题", ...group }));
    await eventually(() => repliesTo(group.conversationId).length === 1, 15_000, "group reply");

    expect(repliesTo(dm.conversationId).map((s) => s.text)).toEqual(["回答1", "回答2", "回答3"]);
    const third = w.llm.chatRequests().find((r) => JSON.stringify(r.body).includes("第三轮"))!;
    const dmTurns = (third.body as { messages: { role: string; content: string }[] }).messages.filter((m) => m.role !== "system");
    expect(dmTurns.map((m) => m.content)).toEqual(["第一轮", "回答1", "第二轮", "回答2", "第三轮"]);
    const groupReq = w.llm.chatRequests().find((r) => JSON.stringify(r.body).includes("群里的问题"))!;
    const groupTurns = (groupReq.body as { messages: { role: string }[] }).messages.filter((m) => m.role !== "system");
    expect(groupTurns).toHaveLength(1);
  });

  it("answers one message id delivered five times (some concurrently) exactly once", async () => {
    const body = w.message({ text: "重复投递", conversationId: "cidDup==", staffId: "dup-user" });
    const before = w.llm.chatRequests().length;
    expect((await post(body)).status).toBe(200);
    expect((await post(body)).status).toBe(200);
    const concurrent = await Promise.all([post(body), post(body), post(body)]);
    expect(concurrent.map((r) => r.status)).toEqual([200, 200, 200]);
    await eventually(() => repliesTo("cidDup==").length === 1, 15_000, "the reply");
    await eventually(async () => ((await (await fetch(`${url}/healthz`)).json()) as { pending: number }).pending === 0);
    await post(body);
    expect(repliesTo("cidDup==")).toHaveLength(1);
    expect(w.llm.chatRequests().length - before).toBe(1);
  });

  it("acknowledges the callback before a slow LLM call finishes", async () => {
    w.llm.script({ text: "慢回答", delayMs: 2_000 });
    const res = await post(w.message({ text: "慢一点", conversationId: "cidSlow==", staffId: "slow-user" }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ msgtype: "empty" });
    expect(repliesTo("cidSlow==")).toHaveLength(0);
    await eventually(() => repliesTo("cidSlow==").length === 1, 15_000, "the slow reply");
  });

  it("rejects bad input with clear 4xx answers and keeps running", async () => {
    const bad = await fetch(`${url}/callback`, { method: "POST", headers: signedHeaders("not-the-secret"), body: "{}" });
    expect(bad.status).toBe(401);
    const junk = await fetch(`${url}/callback`, { method: "POST", headers: signedHeaders(CLIENT_SECRET), body: "\u0000garbage" });
    expect(junk.status).toBe(400);
    const huge = await fetch(`${url}/callback`, { method: "POST", headers: signedHeaders(CLIENT_SECRET), body: "x".repeat(1_100_000) });
    expect(huge.status).toBe(413);
    expect((await fetch(`${url}/callback`)).status).toBe(405);
    expect((await fetch(`${url}/nowhere`)).status).toBe(404);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it("finishes in-flight messages on SIGTERM, exits 0, and never logged a secret", async () => {
    w.llm.script({ text: "关机前的回答", delayMs: 1_000 });
    await post(w.message({ text: "马上关机", conversationId: "cidShutdown==", staffId: "sd-user" }));
    await eventually(() => w.llm.chatRequests().some((r) => JSON.stringify(r.body).includes("马上关机")));
    expect(await gw.stop("SIGTERM")).toBe(0);
    expect(repliesTo("cidShutdown==").map((s) => s.text)).toEqual(["关机前的回答"]);

    const output = gw.lines.join("\n");
    const tokens = [...w.dt.state.tokens.keys(), ...w.dt.calls.map((c) => c.headers["x-acs-dingtalk-access-token"])];
    for (const secret of [CLIENT_SECRET, LLM_KEY, BACKUP_KEY, ...tokens.filter((t): t is string => !!t)])
      expect(output).not.toContain(secret);
    for (const line of gw.lines.filter((l) => l.trim() !== "")) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(gw.records().some((r) => r.msg === "job done" && typeof r.msgId === "string" && "requestId" in r)).toBe(true);
  });
});
