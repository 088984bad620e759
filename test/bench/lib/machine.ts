// Whole-machine CPU use between two points (Linux /proc/stat; undefined elsewhere), so a run on a
// shared machine can say how busy the machine was and how much of that was not the bench.
import { readFileSync } from "node:fs";

export interface CpuSnapshot {
  busy: number;
  total: number;
}

export function machineCpu(): CpuSnapshot | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return undefined;
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Share of all cores busy between two snapshots, percent. */
export function busyPercent(a: CpuSnapshot | undefined, b: CpuSnapshot | undefined): number | undefined {
  if (!a || !b || b.total <= a.total) return undefined;
  return Math.round(((b.busy - a.busy) / (b.total - a.total)) * 1000) / 10;
}
