// Tablestore's errors as the item layer needs them. The SDK (5.6.5) parses error bodies as XML, which
// fails in Node, so its errors carry the HTTP status as `code` and its own retry policy never sees
// OTSServerBusy; `decodeErrors` makes the client decode the protobuf `Error {code, message}` the
// service sends instead. Codes and statuses: https://www.alibabacloud.com/help/en/tablestore/developer-reference/error-codes
// and https://www.alibabacloud.com/help/doc-detail/59899.html (503 OTSServerBusy, OTSPartitionUnavailable, …).
import TableStore from "tablestore";
import protos from "tablestore/lib/protocol/tablestore_compiled_proto.js";
import { isNetworkError, TableUnavailableError } from "../errors.js";

/** Throttling and transient server trouble: worth retrying later, so hosts answer 503. */
const UNAVAILABLE_CODES = new Set([
  "OTSServerBusy",
  "OTSQuotaExhausted",
  "OTSNotEnoughCapacityUnit",
  "OTSCapacityUnitExhausted",
  "OTSOperationThrottled",
  "OTSRowOperationConflict",
  "OTSPartitionUnavailable",
  "OTSServerUnavailable",
  "OTSInternalServerError",
  "OTSTimeout",
  "OTSTableNotReady",
  "OTSRequestTimeout",
  "NetworkingError",
  "TimeoutError",
]);

interface TablestoreErrorShape {
  code?: unknown;
  statusCode?: unknown;
}

export function errorCode(err: unknown): string {
  const code = typeof err === "object" && err !== null ? (err as TablestoreErrorShape).code : undefined;
  return typeof code === "string" ? code : "";
}

export function isTablestoreUnavailable(err: unknown): boolean {
  if (err instanceof TableUnavailableError) return true;
  if (typeof err !== "object" || err === null) return false;
  if (UNAVAILABLE_CODES.has(errorCode(err)) || isNetworkError(err)) return true;
  const status = (err as TablestoreErrorShape).statusCode;
  return typeof status === "number" && (status >= 500 || status === 429);
}

export const isConditionCheckFail = (err: unknown): boolean => errorCode(err) === "OTSConditionCheckFail";
export const isObjectNotExist = (err: unknown): boolean => errorCode(err) === "OTSObjectNotExist";

/** Makes the client report the service's error code and message (see the header). */
export function decodeErrors(client: TableStore.Client): void {
  client.extractError = (resp) => {
    const { statusCode, body, headers } = resp.httpResponse;
    const requestId = headers["x-ots-requestid"] ?? headers["x-ots-request-id"] ?? "";
    let code: string | number = statusCode; // what the SDK's retry policy expects for a bare 5xx
    let message = `HTTP ${statusCode}`;
    try {
      const e = protos.main.proto.Error.decode(body);
      code = e.code;
      message = e.message ?? e.code;
    } catch {
      // not a Tablestore error body (a proxy's page, an empty 5xx): keep the status
    }
    // The message stays the service's own: the SDK's retry policy compares it (OTSQuotaExhausted).
    resp.error = TableStore.util.error(new Error(message), { code, message, statusCode, requestId });
  };
}
