// Tablestore errors: an HTTP status and a protobuf `Error {code, message}` body, with the codes and
// messages of https://www.alibabacloud.com/help/en/tablestore/developer-reference/error-codes
// (503s: https://www.alibabacloud.com/help/doc-detail/59899.html).

export class OtsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "OtsError";
  }
}

export const conditionFailed = () => new OtsError(403, "OTSConditionCheckFail", "Condition check failed.");
export const tableNotFound = () => new OtsError(404, "OTSObjectNotExist", "Requested table does not exist.");
export const invalid = (message: string) => new OtsError(400, "OTSParameterInvalid", message);

/** Injectable faults: throttling and server trouble as the service answers them. */
export const FAULT_ERRORS = {
  server_busy: () => new OtsError(503, "OTSServerBusy", "Server is busy."),
  quota_exhausted: () => new OtsError(403, "OTSQuotaExhausted", "Too frequent table operations."),
  not_enough_cu: () => new OtsError(403, "OTSNotEnoughCapacityUnit", "Remaining capacity unit for write is not enough."),
  partition_unavailable: () => new OtsError(503, "OTSPartitionUnavailable", "The partition is not available."),
  server_error: () => new OtsError(500, "OTSInternalServerError", "Internal server error."),
} as const;
