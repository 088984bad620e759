// How the AWS SDK reports DynamoDB outages (throttling, 5xx, timeouts, network failures) and failed
// conditions, so the item layer can map the first to TableUnavailableError and the second to `false`.
import { errorName, isNetworkError, TableUnavailableError } from "../errors.js";

const UNAVAILABLE_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "Throttling",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "InternalServerError",
  "InternalFailure",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);

interface SdkErrorShape {
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

/** True for outages: throttling, network failures, timeouts and 5xx answers. */
export function isDynamoUnavailable(err: unknown, depth = 0): boolean {
  if (err instanceof TableUnavailableError) return true;
  if (typeof err !== "object" || err === null || depth > 5) return false;
  if (UNAVAILABLE_NAMES.has(errorName(err)) || isNetworkError(err)) return true;
  const e = err as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode ?? 0;
  if (status >= 500 || status === 429 || e.$retryable?.throttling === true) return true;
  if (err instanceof AggregateError) return err.errors.some((x) => isDynamoUnavailable(x, depth + 1));
  return e.cause !== undefined && isDynamoUnavailable(e.cause, depth + 1);
}

export function isConditionalCheckFailed(err: unknown): boolean {
  return errorName(err) === "ConditionalCheckFailedException";
}
