// The Stream connection's keepalive: an event loop stalled for longer than the ping interval (a loaded
// machine) must not cut a live connection, or the frames already on their way are lost until DingTalk
// redelivers them (about a minute later); a peer that answers nothing is still cut and reconnected.
import type WebSocket from "ws";
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { StreamConnection } from "../../functions/core/dingtalk/stream.js";
import { createLogger } from "../../functions/core/log.js";
import { eventually } from "../helpers/processes.js";
import { startDingTalkDouble, type DingTalkDouble } from "../doubles/dingtalk/index.js";

const APP = { clientId: "dingkeepalive", clientSecret: "keepalive-secret-0001" };
const HEARTBEAT_MS = 200;

let dt: DingTalkDouble;
let conn: StreamConnection | undefined;
const lines: string[] = [];

beforeAll(async () => {
  dt = await startDingTalkDouble({ apps: [APP] });
});

afterAll(async () => {
  await dt?.close();
});

afterEach(async () => {
  await conn?.stop();
  conn = undefined;
  lines.length = 0;
});

async function connect(): Promise<{ stream: StreamConnection; socket: WebSocket; acked: string[] }> {
  const acked: string[] = [];
  const stream = new StreamConnection({
    credentials: { ...APP, robotCode: APP.clientId },
    apiBase: dt.url,
    log: createLogger({ level: "debug", write: (l) => lines.push(l) }),
    heartbeatMs: HEARTBEAT_MS,
    reconnectDelayMs: 10,
    onMessage: (frame) => {
      acked.push(frame.messageId);
      return Promise.resolve(true);
    },
  });
  conn = stream;
  stream.start();
  await stream.ready;
  return { stream, socket: stream.socket!, acked };
}

const busy = (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until);
};

const robotMessage = (n: number) => ({
  msgtype: "text",
  text: { content: `stall ${n}` },
  msgId: `msgKeepalive${n}`,
  conversationId: "cidKeepalive==",
  conversationType: "1",
  senderStaffId: "ka1",
});

describe("Stream keepalive", () => {
  it("a stalled event loop right after a ping keeps the connection: frames already sent are read and ACKed", async () => {
    const { socket } = await connect();
    const ids: string[] = [];
    const ping = socket.ping.bind(socket);
    let stalled = false;
    socket.ping = ((...args: Parameters<WebSocket["ping"]>) => {
      ping(...args);
      if (stalled) return;
      stalled = true;
      // The pong and these frames reach the socket while the loop is stuck for three ping intervals.
      setImmediate(() => {
        for (let n = 0; n < 5; n++) ids.push(dt.stream.push(APP.clientId, robotMessage(n)));
        busy(3 * HEARTBEAT_MS);
      });
    }) as WebSocket["ping"];

    await dt.stream.waitUntil(() => (ids.length === 5 ? true : undefined), 10_000, "the stall");
    for (const id of ids) expect((await dt.stream.waitForAck(id, 10_000)).frame).toMatchObject({ code: 200 });
    expect(dt.stream.messages().filter((m) => ids.includes(m.messageId)).map((m) => m.deliveries.length)).toEqual([1, 1, 1, 1, 1]);
    expect(dt.stream.connections()[APP.clientId]).toMatchObject({ opened: 1, open: 1 });
    expect(lines.filter((l) => l.includes("keepalive") || l.includes("connection closed"))).toEqual([]);
  });

  it("a peer that answers no ping is cut after two silent intervals, and the connection comes back", async () => {
    const before = dt.stream.connections()[APP.clientId]?.opened ?? 0;
    const { stream, socket } = await connect();
    socket.ping = (() => undefined) as WebSocket["ping"];
    await dt.stream.waitForConnection(APP.clientId, 10_000, { nth: before + 2 });
    await eventually(() => stream.state === "connected" && stream.socket !== socket, 10_000, "the client on its new connection");
    expect(lines.some((l) => l.includes("dingtalk: no answer to keepalive pings, closing the connection"))).toBe(true);
  });
});
