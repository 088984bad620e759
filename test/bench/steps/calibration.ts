// Machine calibration: CPU per loopback HTTP request to a peer that answers after ~1 ms, so readers
// can tell the machine's share of the absolute CPU figures (all comparisons are ratios anyway).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { hostFile } from "../lib/paths.js";
import { HostProc } from "../lib/procs.js";
import { round } from "../lib/stats.js";
import type { StepContext } from "./context.js";

export interface CalibrationFigures {
  /** Client CPU per keep-alive node:http request to a peer answering after ~1 ms, µs. */
  httpRequestCpuUs: number;
  httpRequestWallMs: number;
}

export async function benchCalibration(ctx: StepContext, count: number): Promise<CalibrationFigures> {
  const server = createServer((req, res) => {
    req.resume();
    req.once("end", () => setTimeout(() => res.end("{}"), 1));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const ping = HostProc.start("http-ping", hostFile("http-ping"), { env: {} });
  try {
    await ping.ready;
    const d = await ping.run({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, count });
    const figures = { httpRequestCpuUs: round(Number(d.cpuUsPerRequest), 0), httpRequestWallMs: round(Number(d.wallMsPerRequest), 2) };
    ctx.progress(`  one loopback HTTP request to a peer answering after ~1 ms costs the client ${figures.httpRequestCpuUs} µs CPU`);
    return figures;
  } finally {
    await ping.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
