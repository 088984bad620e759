// The playground's trace collector (the core's trace events, callback results and logged warnings →
// one trace per message) and its event hub (numbered events, keyed replacement, long-poll waits).
import { describe, expect, it } from "vitest";
import { EventHub } from "../../functions/playground/events.js";
import type { Trace } from "../../functions/playground/protocol.js";
import { TraceCollector } from "../../functions/playground/trace.js";

function collector() {
  const changes: Trace[] = [];
  const traces = new TraceCollector({ onChange: (t) => changes.push(structuredClone(t)) });
  traces.start({ msgId: "m1", chat: "dm:zhangsan", user: "张三", preview: "你好", sentAt: 1 });
  return { traces, changes };
}

describe("TraceCollector", () => {
  it("builds the whole path of an answered message from the core's trace events", () => {
    const { traces, changes } = collector();
    traces.event({ type: "message.accepted", msgId: "m1", requestId: "r1", conversation: "c", kind: "text" });
    traces.delivery("m1", { requestId: "r1", status: 200, ackMs: 3.5 });
    traces.event({ type: "llm.attempt", requestId: "r1", modelName: "glm", ok: false, kind: "rate_limit", status: 429, ms: 12 });
    traces.event({ type: "llm.attempt", requestId: "r1", modelName: "backup", ok: true, kind: "ok", ms: 800, firstTokenMs: 90, promptTokens: 30, completionTokens: 6 });
    expect(traces.get("m1")).toMatchObject({ state: "accepted", model: "backup", tokens: { prompt: 30, completion: 6 } });
    traces.event({
      type: "job.done",
      requestId: "r1",
      msgId: "m1",
      outcome: {
        action: "replied",
        kind: "answer",
        route: "card",
        parts: 1,
        modelName: "backup",
        llm: { firstTokenMs: 90, totalMs: 812, promptTokens: 31, completionTokens: 7 },
        sendMs: 900,
        card: { outTrackId: "dingclaw-abc", updates: 3 },
      },
      queuedMs: 1,
      totalMs: 950,
    });
    const t = traces.get("m1")!;
    expect(t).toMatchObject({
      state: "done",
      kind: "answer",
      route: "card",
      model: "backup",
      tokens: { prompt: 31, completion: 7 },
      llm: { firstTokenMs: 90, totalMs: 812 },
      sendMs: 900,
      queuedMs: 1,
      totalMs: 950,
      card: { outTrackId: "dingclaw-abc" },
    });
    expect(t.deliveries).toEqual([{ requestId: "r1", status: 200, ackMs: 3.5, signature: "ok", claim: "accepted" }]);
    expect(t.attempts).toEqual([
      { modelName: "glm", ok: false, kind: "rate_limit", ms: 12, status: 429 },
      { modelName: "backup", ok: true, kind: "ok", ms: 800 },
    ]);
    expect(t.notes).toEqual([]);
    expect(changes).toHaveLength(6);
  });

  it("lists the turn's tool calls with their outcome", () => {
    const { traces } = collector();
    traces.event({ type: "message.accepted", msgId: "m1", requestId: "r1", conversation: "c", kind: "text" });
    traces.event({ type: "tool.call", requestId: "r1", msgId: "m1", name: "find_colleague", ok: true, ms: 40 });
    traces.event({ type: "tool.call", requestId: "r1", msgId: "m1", name: "web_search", ok: false, ms: 15_000, error: "timeout" });
    expect(traces.get("m1")!.tools).toEqual([
      { name: "find_colleague", ok: true, ms: 40 },
      { name: "web_search", ok: false, ms: 15_000, error: "timeout" },
    ]);
  });

  it("a rejected signature, emitted before the message is known, lands on the message once the answer links the request", () => {
    const { traces } = collector();
    traces.event({ type: "callback.rejected", requestId: "r9", reason: "mismatch" });
    expect(traces.get("m1")!.deliveries).toEqual([]);
    traces.delivery("m1", { requestId: "r9", status: 401, ackMs: 1, error: "signature check failed: mismatch" });
    const t = traces.get("m1")!;
    expect(t.state).toBe("rejected");
    expect(t.deliveries).toEqual([
      { requestId: "r9", status: 401, ackMs: 1, signature: "failed", signatureReason: "mismatch", error: "signature check failed: mismatch" },
    ]);
  });

  it("records a redelivery as a second delivery whose claim is a duplicate, without changing the outcome", () => {
    const { traces } = collector();
    traces.event({ type: "message.accepted", msgId: "m1", requestId: "r1", conversation: "c", kind: "text" });
    traces.delivery("m1", { requestId: "r1", status: 200, ackMs: 2 });
    traces.event({
      type: "job.done",
      msgId: "m1",
      requestId: "r1",
      outcome: { action: "replied", kind: "command", route: "webhook", parts: 1, sendMs: 5 },
      queuedMs: 0,
      totalMs: 6,
    });
    traces.event({ type: "message.duplicate", msgId: "m1", requestId: "r2", state: "completed" });
    traces.delivery("m1", { requestId: "r2", status: 200, ackMs: 2 });
    const t = traces.get("m1")!;
    expect(t).toMatchObject({ state: "done", kind: "command", route: "webhook", sendMs: 5 });
    expect(t.model).toBeUndefined();
    expect(t.deliveries.map((d) => [d.claim, d.claimState])).toEqual([
      ["accepted", undefined],
      ["duplicate", "completed"],
    ]);
  });

  it("marks a job that failed for good; the gateway's warnings and errors for the message become its notes, verbatim", () => {
    const { traces } = collector();
    traces.event({ type: "message.accepted", msgId: "m1", requestId: "r1", conversation: "c", kind: "text" });
    traces.logged({ level: "warn", msg: "llm attempt failed", requestId: "r1", modelName: "glm", kind: "timeout", detail: "no answer in 60 s" });
    traces.logged({ level: "info", msg: "an info line is not a note", requestId: "r1" });
    traces.logged({ level: "error", msg: "job failed after all retries", requestId: "r1", attempt: 4, error: { name: "Error", message: "boom" } });
    traces.event({ type: "job.failed", requestId: "r1", attempts: 4, error: "boom" });
    const t = traces.get("m1")!;
    expect(t.state).toBe("failed");
    expect(t.notes).toEqual(["llm attempt failed: no answer in 60 s", "job failed after all retries: boom"]);
  });

  it("ignores events and records of other messages, and records that are not log lines", () => {
    const { traces, changes } = collector();
    traces.event({ type: "job.done", msgId: "other", requestId: "rx", outcome: { action: "ignored", reason: "not_mentioned" }, queuedMs: 0, totalMs: 1 });
    traces.logged("not a record");
    traces.logged({ level: "warn", msg: 42, msgId: "m1" });
    expect(traces.get("other")).toBeUndefined();
    expect(traces.get("m1")!.notes).toEqual([]);
    expect(changes).toHaveLength(1);
  });
});

describe("EventHub", () => {
  it("numbers events, answers waits at once when events are there, and replaces keyed events in place", async () => {
    const hub = new EventHub({ now: () => 5 });
    hub.publish({ type: "card", chat: "dm:a", id: "c1", content: "", status: "processing", updates: 0 }, "card:c1");
    hub.publish({ type: "user", chat: "dm:a", msgId: "m2", sender: { staffId: "a", nick: "A" }, text: "x" });
    hub.publish({ type: "card", chat: "dm:a", id: "c1", content: "done", status: "finished", updates: 2 }, "card:c1");
    expect(hub.since(0).map((e) => [e.seq, e.type])).toEqual([
      [3, "card"],
      [2, "user"],
    ]);
    expect(hub.since(2).map((e) => e.seq)).toEqual([3]);
    expect(await hub.wait(0, 10_000)).toHaveLength(2);
    expect(hub.last).toBe(3);
  });

  it("a waiting poll is answered by the next event, or empty on close", async () => {
    const hub = new EventHub();
    const waiting = hub.wait(0, 60_000);
    hub.publish({ type: "user", chat: "dm:a", msgId: "m1", sender: { staffId: "a", nick: "A" }, text: "hi" });
    expect((await waiting).map((e) => e.seq)).toEqual([1]);
    const pending = hub.wait(1, 60_000);
    hub.close();
    expect(await pending).toEqual([]);
    expect(await hub.wait(1, 60_000)).toEqual([]);
  });

  it("keeps at most `max` events", () => {
    const hub = new EventHub({ max: 3 });
    for (let i = 0; i < 5; i++) hub.publish({ type: "user", chat: "dm:a", msgId: `m${i}`, sender: { staffId: "a", nick: "A" }, text: "" });
    expect(hub.since(0).map((e) => e.seq)).toEqual([3, 4, 5]);
  });
});
