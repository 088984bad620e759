// Table faults for the reliability rows, the same on both backends: DynamoDB's own errors through the
// table fault proxy in front of dynalite, Tablestore's through its double. Operations and faults are
// named by what they mean, so a row reads (and asserts) the same on either.
import type { TableKind } from "../../functions/core/store/kind.js";
import type { TableProxy } from "../doubles/table-proxy/index.js";
import type { TablestoreDouble, TablestoreFaultKind } from "../doubles/tablestore/index.js";

/** A write by what it does: the claim (put), every conditional update, the release (delete); or a read (get). */
export type TableOp = "put" | "update" | "delete" | "get";
/** throttle: ThrottlingException / OTSServerBusy; overload: ProvisionedThroughputExceeded / OTSQuotaExhausted. */
export type TableFault = "throttle" | "overload" | "server_error" | "lose_response";

export interface FaultOptions {
  op?: TableOp;
  times?: number;
  skip?: number;
}

export interface TableFaults {
  kind: TableKind;
  fault(fault: TableFault, opts?: FaultOptions): void;
  down(): Promise<void>;
  up(): Promise<void>;
  clear(): void;
  /** Faulted requests as "op:fault", in order. */
  faulted(): string[];
  /** Clears faults and the request log, and brings the table back up. */
  reset(): Promise<void>;
}

const DYNAMO_OPS: Record<TableOp, string> = { put: "PutItem", update: "UpdateItem", delete: "DeleteItem", get: "GetItem" };
const DYNAMO_FAULTS = { throttle: "throttling", overload: "provisioned", server_error: "server_error", lose_response: "lose_response" } as const;
const OTS_OPS: Record<TableOp, string> = { put: "PutRow", update: "UpdateRow", delete: "DeleteRow", get: "GetRow" };
const OTS_FAULTS: Record<TableFault, TablestoreFaultKind> = {
  throttle: "server_busy",
  overload: "quota_exhausted",
  server_error: "server_error",
  lose_response: "lose_response",
};

function invert<K extends string, V extends string>(m: Record<K, V>): Record<string, K> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [v, k])) as Record<string, K>;
}

export function proxyFaults(proxy: TableProxy): TableFaults {
  const op = invert(DYNAMO_OPS);
  const fault = invert(DYNAMO_FAULTS);
  return {
    kind: "dynamodb",
    fault: (f, o = {}) => proxy.fault(DYNAMO_FAULTS[f], { ...(o.op ? { actions: [DYNAMO_OPS[o.op]] } : {}), times: o.times, skip: o.skip }),
    down: () => proxy.down(),
    up: () => proxy.up(),
    clear: () => proxy.clear(),
    faulted: () => proxy.requests.filter((r) => r.fault).map((r) => `${op[r.action] ?? r.action}:${fault[r.fault!] ?? r.fault}`),
    async reset() {
      proxy.clear();
      proxy.requests.length = 0;
      await proxy.up();
    },
  };
}

export function tablestoreFaults(double: TablestoreDouble): TableFaults {
  const op = invert(OTS_OPS);
  const fault = invert(OTS_FAULTS);
  return {
    kind: "tablestore",
    fault: (f, o = {}) => double.fault(OTS_FAULTS[f], { ...(o.op ? { operations: [OTS_OPS[o.op]] } : {}), times: o.times, skip: o.skip }),
    down: () => double.down(),
    up: () => double.up(),
    clear: () => double.clear(),
    faulted: () => double.requests.filter((r) => r.fault).map((r) => `${op[r.operation] ?? r.operation}:${fault[r.fault!] ?? r.fault}`),
    async reset() {
      double.clear();
      double.requests.length = 0;
      await double.up();
    },
  };
}
