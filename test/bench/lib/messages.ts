// zod schemas for what the measured processes send back over IPC (test/bench/protocol.ts), checked
// here in the bench process so the hosts themselves stay free of extra modules.
import { z } from "zod";
import type { FromHost } from "../protocol.js";

const Probe = z.object({
  cpuUserUs: z.number(),
  cpuSystemUs: z.number(),
  rss: z.number(),
  heapUsed: z.number(),
  heapTotal: z.number(),
  external: z.number(),
  arrayBuffers: z.number(),
  maxRss: z.number(),
  peakRss: z.number(),
  uptimeMs: z.number(),
  spaces: z.record(z.string(), z.object({ committed: z.number(), used: z.number() })).optional(),
});
const Busy = z.object({ requests: z.number(), busyMs: z.number(), sumMs: z.number() });
const InvokeResult = z.object({
  id: z.number(),
  ok: z.boolean(),
  startedAt: z.number(),
  endedAt: z.number(),
  result: z.string().optional(),
  error: z.string().optional(),
});

export const FromHostSchema: z.ZodType<FromHost> = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready"), port: z.number().optional(), info: z.record(z.string(), z.number()) }),
  z.object({ type: z.literal("probe"), id: z.number(), probe: Probe, busy: Busy.optional() }),
  z.object({ type: z.literal("invoked"), result: InvokeResult }),
  z.object({ type: z.literal("done"), id: z.number(), data: z.record(z.string(), z.unknown()) }),
]);
