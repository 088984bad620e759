// Stream ACK latency with claim-before-ACK: the gateway's Stream entry point (core/stream-frame.ts, with
// the real IdempotencyStore and LocalDispatcher) deciding to ACK a robot frame, against one raw
// conditional put of the same claim item through the same table client, alternated in this process.
// The table: DINGCLAW_TABLE_ENDPOINT (the bench's dynalite process), or the gateway's default embedded
// store (dynalite in this process, in memory) without one. Jobs are dispatched to a no-op runner, so
// only what stands between a frame and its ACK is timed.
import { randomUUID } from "node:crypto";
import { LocalDispatcher } from "../../../functions/core/local-dispatch.js";
import { silentLogger } from "../../../functions/core/log.js";
import { IdempotencyStore } from "../../../functions/core/store/idempotency.js";
import { absent } from "../../../functions/core/store/items.js";
import { openTable } from "../../../functions/core/store/table.js";
import { StreamIngest } from "../../../functions/core/stream-frame.js";
import { callbackBody } from "../../helpers/messages.js";
import { exitOnSigterm, serveProbes, toParent } from "./ipc.js";

const ROBOT = "dingbenchbot";
const endpoint = process.env.DINGCLAW_TABLE_ENDPOINT ?? "";
const table = await openTable({ endpoint, name: process.env.DINGCLAW_TABLE_NAME ?? "dingclaw", dataDir: "", region: "local" }, { inMemory: true, env: {} });
await table.ensure();
const items = table.items();
const dispatcher = new LocalDispatcher({ run: () => Promise.resolve(), log: silentLogger });
const frames = new StreamIngest({ idempotency: new IdempotencyStore(table), dispatch: dispatcher.dispatch, robotCode: ROBOT, now: Date.now, log: silentLogger });
const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;
let seq = 0;

/** One frame: parse → claim → dispatch → ACK decision. */
async function frame(): Promise<number> {
  const id = `${run}n${++seq}`;
  const data = JSON.stringify(callbackBody({ robotCode: ROBOT, msgId: `msgack${id}`, staffId: `ack${seq % 50}`, text: "帮我总结一下今天的会议要点" }));
  const began = performance.now();
  const ack = await frames.handle({ messageId: `frame${id}`, data });
  const ms = performance.now() - began;
  if (!ack) throw new Error("a frame was not acknowledged");
  return ms;
}

/** The same claim item written once, conditionally, through the same table client. */
async function rawPut(): Promise<number> {
  const now = Date.now();
  const fields = { status: "IN_PROGRESS", token: randomUUID(), attempt: 1, leaseUntil: now + 180_000, sent: false, expiresAt: Math.floor(now / 1000) + 86_400, updatedAt: now };
  const began = performance.now();
  await items.put({ pk: `msg#${ROBOT}:rawack${run}n${++seq}`, sk: "msg" }, fields, { if: absent });
  return performance.now() - began;
}

async function measure(id: number, args: Record<string, unknown>): Promise<void> {
  const count = Number(args.count);
  for (let i = 0; i < Math.min(50, count); i++) await Promise.all([frame(), rawPut()]);
  const ack: number[] = [];
  const put: number[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) {
      ack.push(await frame());
      put.push(await rawPut());
    } else {
      put.push(await rawPut());
      ack.push(await frame());
    }
  }
  toParent({ type: "done", id, data: { ack, put, embedded: table.embedded } });
}

exitOnSigterm();
serveProbes({
  onMessage: (message) => {
    if (message.type === "run") void measure(message.id, message.args);
  },
});
toParent({ type: "ready", info: {} });
