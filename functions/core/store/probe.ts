// A table check with the credentials of whoever runs it, using only item operations (the functions'
// role may do nothing else): write a probe item (conditional put), read it back and delete it. `npm run doctor` runs it from the machine (DynamoDB API: the same key the
// functions use) and asks the deployed worker to run it with the functions' role (`{"check":"table"}`).
import { randomUUID } from "node:crypto";
import * as z from "zod";
import { describeError } from "../log.js";
import { TableMissingError } from "./errors.js";
import { absent, eq } from "./items.js";
import type { Table } from "./table.js";

export const TableCheckEvent = z.object({ check: z.literal("table") });

export const TableCheckResult = z.object({ status: z.enum(["table-ok", "table-failed"]), detail: z.string() });
export type TableCheckResult = z.infer<typeof TableCheckResult>;

export async function probeTable(table: Table): Promise<TableCheckResult> {
  const items = table.items();
  const key = { pk: "doctor#probe", sk: randomUUID() };
  const token = randomUUID();
  try {
    const t0 = performance.now();
    if (!(await items.put(key, { token, expiresAt: Math.floor(Date.now() / 1000) + 300 }, { if: absent })))
      return { status: "table-failed", detail: "the probe's conditional write was refused" };
    const back = await items.get(key);
    await items.delete(key, { if: eq("token", token) });
    if (back?.token !== token) return { status: "table-failed", detail: "the probe item did not read back" };
    return { status: "table-ok", detail: `"${table.name}" (${table.kind}) written, read and deleted in ${Math.round(performance.now() - t0)} ms` };
  } catch (err) {
    if (err instanceof TableMissingError) return { status: "table-failed", detail: err.message };
    return { status: "table-failed", detail: `cannot reach the table: ${describeError(err).message}` };
  }
}
