// Table requests served by the dynalite process between two points, per DynamoDB action.
import type { HostProc } from "./procs.js";

export type OpCounts = Record<string, number>;

export async function opCounts(dynalite: HostProc): Promise<OpCounts> {
  const data = await dynalite.run({});
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Number(v)]));
}

/** after − before, per action, divided by `per` (rounded to 2 places), zero rows left out. */
export function opsPer(before: OpCounts, after: OpCounts, per: number): OpCounts {
  const out: OpCounts = {};
  for (const [k, v] of Object.entries(after)) {
    const d = (v - (before[k] ?? 0)) / per;
    if (d > 0) out[k] = Math.round(d * 100) / 100;
  }
  return out;
}

export function totalOps(ops: OpCounts): number {
  return Math.round(Object.values(ops).reduce((a, b) => a + b, 0) * 100) / 100;
}
