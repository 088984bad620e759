// The gateway's in-process scheduler (npm start): a reminder set through the gateway's HTTP callback is
// delivered by a gateway started later on the same table (the reminder lives in the table, not in the
// process), once; no scheduler without DingTalk credentials.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "../../functions/core/gateway/start.js";
import { isoInZone } from "../../functions/core/proactive/time.js";
import { signedHeaders } from "../helpers/messages.js";
import { CLIENT_SECRET, startWorld, type World } from "../helpers/world.js";

let w: World;
const clock = { t: Math.floor(Date.now() / 1000) * 1000, now: () => clock.t };

beforeAll(async () => {
  w = await startWorld({ config: { channels: { dingtalk: { mode: "http" } } } });
});
afterAll(() => w.close());

const start = (intervalMs?: number) =>
  startGateway({ config: w.config, log: w.log, port: 0, host: "127.0.0.1", table: w.db.table, now: clock.now, ...(intervalMs ? { scheduler: { intervalMs } } : {}) });

async function post(gw: Gateway, body: Record<string, unknown>) {
  const res = await fetch(`${gw.url}/callback`, { method: "POST", headers: { "content-type": "application/json", ...signedHeaders(CLIENT_SECRET) }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  await gw.dispatcher.idle();
}

describe("gateway scheduler", () => {
  it("delivers a reminder set before a restart, from the gateway started after it, once", async () => {
    const first = await start();
    try {
      w.llm.script({ toolCalls: [{ name: "create_reminder", arguments: { text: "开会", at: isoInZone(clock.t + 10 * 60_000, "Asia/Shanghai") } }] }, { text: "好的，10分钟后提醒你开会。" });
      await post(first, w.message({ text: "10分钟后提醒我开会", staffId: "gw-user" }));
      expect(w.dt.sent().map((s) => s.text)).toContain("好的，10分钟后提醒你开会。");
      // Not due yet: the running gateway's scheduler sends nothing.
      await first.scheduler!.runNow();
      await first.firings.idle();
    } finally {
      await first.close(5_000);
    }
    w.dt.reset();

    clock.t += 10 * 60_000;
    const second = await start(60_000);
    try {
      await second.scheduler!.runNow();
      await second.firings.idle();
      expect(w.dt.sent()).toMatchObject([{ route: "openapi", conversationType: "direct", userId: "gw-user", text: expect.stringContaining("开会") as string }]);
      clock.t += 60_000;
      await second.scheduler!.runNow();
      await second.firings.idle();
      expect(w.dt.sent()).toHaveLength(1);
    } finally {
      await second.close(5_000);
    }
  });

  it("is not started without DingTalk credentials (nothing could be sent)", async () => {
    const gw = await startGateway({ config: { ...w.config, dingtalk: { ...w.config.dingtalk, credentials: undefined } }, log: w.log, port: 0, host: "127.0.0.1", table: w.db.table });
    expect(gw.scheduler).toBeUndefined();
    await gw.close(1_000);
  });
});
