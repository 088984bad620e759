// Bench adapter for an FC event function bundle (the built worker): `node fc-event.mjs <bundle.cjs>`
// runs each `invoke` message as FC's async invocation would, `handler(Buffer event, context)`, all in
// this one process (instance concurrency), and reports start/end times and request accounting.
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { BusyMeter, epochMs, exitOnSigterm, serveProbes, toParent } from "./ipc.js";

interface EventModule {
  handler(event: Buffer, context: unknown): Promise<unknown>;
}

const bundle = process.argv[2];
if (!bundle) throw new Error("usage: fc-event.mjs <bundle.cjs>");
const context = JSON.parse(process.env.BENCH_FC_CONTEXT ?? "{}") as Record<string, unknown>;
const started = performance.now();
const mod = createRequire(import.meta.url)(resolve(bundle)) as EventModule;
const requireMs = performance.now() - started;
const meter = new BusyMeter();

async function invoke(id: number, event: string): Promise<void> {
  const startedAt = epochMs();
  const began = meter.begin();
  try {
    const result = await mod.handler(Buffer.from(event, "utf8"), { ...context, requestId: `bench-job-${id}` });
    meter.end(began);
    toParent({ type: "invoked", result: { id, ok: true, startedAt, endedAt: epochMs(), result: String(result) } });
  } catch (err) {
    meter.end(began);
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    toParent({ type: "invoked", result: { id, ok: false, startedAt, endedAt: epochMs(), error } });
  }
}

exitOnSigterm();
serveProbes({
  busy: () => meter.read(),
  resetBusy: () => meter.reset(),
  onMessage: (message) => {
    if (message.type === "invoke") void invoke(message.id, message.event);
  },
});
toParent({ type: "ready", info: { requireMs } });
