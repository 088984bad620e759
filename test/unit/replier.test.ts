// The Replier: one owner of a job's sends. Parts an earlier attempt delivered are never sent again
// (whatever their order now), every part is recorded before the next one goes out, the whole reply is
// marked sent once, and the markdown channel shows at most one interim status line.
import { describe, expect, it } from "vitest";
import type { OutgoingMessage, ReplyTarget, SendResult } from "../../functions/core/dingtalk/outgoing.js";
import { silentLogger } from "../../functions/core/log.js";
import { Replier, type ReplyLedger } from "../../functions/core/replier.js";

const target: ReplyTarget = { conversationType: "direct", conversationId: "cid1", staffId: "u1", robotCode: "ding1" };
const long = Array.from({ length: 6 }, (_, i) => `第${i + 1}段：${"内容".repeat(900)}`).join("\n\n");

function rig(delivered: string[] = [], failAt?: number) {
  const sends: OutgoingMessage[] = [];
  const events: string[] = [];
  const ledger: ReplyLedger & { parts: string[]; sent: string[] | undefined } = {
    delivered,
    parts: [...delivered],
    sent: undefined,
    recordParts: (d) => {
      ledger.parts = d;
      events.push(`record ${d.length}`);
      return Promise.resolve();
    },
    markSent: (_r, d) => {
      ledger.sent = d;
      events.push(`sent ${d.length}`);
      return Promise.resolve();
    },
  };
  const send = (_t: ReplyTarget, m: OutgoingMessage): Promise<SendResult> => {
    if (failAt !== undefined && sends.length === failAt) return Promise.reject(new Error("instance died"));
    sends.push(m);
    events.push("send");
    return Promise.resolve({ route: "webhook" });
  };
  const replier = new Replier(target, "ding1:msg1", { send, now: Date.now, log: silentLogger }, ledger);
  return { replier, sends, events, ledger };
}

describe("Replier", () => {
  it("records the parts delivered so far before each next part, then marks the reply sent once", async () => {
    const { replier, sends, events, ledger } = rig();
    const d = await replier.markdown(long);
    expect(d.parts).toBeGreaterThan(2);
    expect(sends).toHaveLength(d.parts);
    expect(events[0]).toBe("send");
    expect(events.slice(1, -1)).toEqual(Array.from({ length: d.parts - 1 }, (_, i) => [`record ${i + 1}`, "send"]).flat());
    expect(events.at(-1)).toBe(`sent ${d.parts}`);
    expect(ledger.sent).toHaveLength(d.parts);
  });

  it("a retry after a crash between parts sends only the parts not yet delivered", async () => {
    const first = rig([], 2);
    await expect(first.replier.markdown(long)).rejects.toThrow("instance died");
    expect(first.ledger.parts).toHaveLength(2);

    const retry = rig(first.ledger.parts);
    const d = await retry.replier.markdown(long);
    expect(first.sends.length + retry.sends.length).toBe(d.parts);
    expect(retry.sends.map((m) => (m.kind === "markdown" ? m.text : "")).join("")).not.toContain("第1段");
    expect(retry.ledger.sent).toHaveLength(d.parts);
  });

  it("skips an earlier part even when the retry sends an interim line first", async () => {
    const first = rig();
    await first.replier.markdown("只有一段的回答");
    const retry = rig(first.ledger.sent);
    const channel = await retry.replier.answer(false);
    if (!("channel" in channel)) throw new Error("expected a channel");
    await channel.channel.status("正在搜索：钉钉");
    await channel.channel.finish("只有一段的回答");
    expect(retry.sends.map((m) => (m.kind === "markdown" ? m.text : ""))).toEqual(["正在搜索：钉钉"]);
  });

  it("records the interim status line at once: a crash before the answer never shows it twice", async () => {
    const first = rig();
    const opened = await first.replier.answer(false);
    if (!("channel" in opened)) throw new Error("expected a channel");
    await opened.channel.status("正在查找：张三");
    expect(first.ledger.parts).toHaveLength(1);
    const retry = rig(first.ledger.parts);
    const again = await retry.replier.answer(false);
    if (!("channel" in again)) throw new Error("expected a channel");
    await again.channel.status("正在查找：张三");
    await again.channel.finish("张三在研发部。");
    expect(retry.sends.map((m) => (m.kind === "markdown" ? m.text : ""))).toEqual(["张三在研发部。"]);
  });

  it("shows at most one interim status line in markdown mode", async () => {
    const { replier, sends } = rig();
    const opened = await replier.answer(false);
    if (!("channel" in opened)) throw new Error("expected a channel");
    await opened.channel.status("正在搜索：天气");
    await opened.channel.status("正在读取网页");
    await opened.channel.finish("答案");
    expect(sends.map((m) => (m.kind === "markdown" ? m.text : ""))).toEqual(["正在搜索：天气", "答案"]);
  });
});
