// FC API errors as the double returns them: an HTTP status plus FC's `{ErrorCode, ErrorMessage}`
// body, which the SDK turns into `FC${ErrorCode}Error` with `code = ErrorCode`.

export class FcApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = `FC${code}Error`;
  }

  body(): { ErrorCode: string; ErrorMessage: string } {
    return { ErrorCode: this.code, ErrorMessage: this.message };
  }
}

/**
 * Codes and messages from FC's published error tables where they exist (InvalidArgument,
 * MissingRequiredHeader, PathNotSupported, EntityTooLarge, AccessDenied, SignatureNotMatch,
 * InvalidAccessKeyID, ServiceNotFound, FunctionNotFound, FunctionAlreadyExists, FunctionNotEmpty,
 * AliasNotFound, VersionNotFound, AsyncConfigNotExists). Marked "unverified" below: names and
 * statuses we could not find documented and chose to be plausible.
 */
export const fcErrors = {
  invalidArgument: (message: string) => new FcApiError(400, "InvalidArgument", message),
  missingHeader: (name: string) =>
    new FcApiError(400, "MissingRequiredHeader", `required HTTP header ${name} was not specified`),
  pathNotSupported: (method: string, path: string) =>
    new FcApiError(400, "PathNotSupported", `'${method}' against '${path}' is not supported`),
  entityTooLarge: (limit: number) =>
    new FcApiError(400, "EntityTooLarge", `payload size exceeds maximum allowed size (${limit} bytes)`),
  accessDenied: (message: string) => new FcApiError(403, "AccessDenied", message),
  signatureNotMatch: () =>
    new FcApiError(
      403,
      "SignatureNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your access key and signing method",
    ),
  invalidAccessKeyId: (id: string) => new FcApiError(403, "InvalidAccessKeyID", `invalid access key ID '${id}'`),
  /** unverified code name */
  requestTimeTooSkewed: (date: string) =>
    new FcApiError(
      403,
      "RequestTimeTooSkewed",
      `the difference between the request time '${date}' and the server time is more than 15 minutes`,
    ),
  /** unverified code name */
  invalidSecurityToken: () => new FcApiError(403, "InvalidSecurityToken", "the security token is missing or invalid"),
  serviceNotFound: (svc: string) => new FcApiError(404, "ServiceNotFound", `service '${svc}' does not exist`),
  functionNotFound: (svc: string, fn: string) =>
    new FcApiError(404, "FunctionNotFound", `function '${fn}' does not exist in service '${svc}'`),
  /** unverified message */
  triggerNotFound: (svc: string, fn: string, trigger: string) =>
    new FcApiError(404, "TriggerNotFound", `trigger '${trigger}' does not exist in service '${svc}' and function '${fn}'`),
  /** unverified message */
  httpTriggerNotFound: (svc: string, fn: string) =>
    new FcApiError(404, "TriggerNotFound", `function '${fn}' of service '${svc}' has no HTTP trigger`),
  aliasNotFound: (svc: string, alias: string) =>
    new FcApiError(404, "AliasNotFound", `alias '${alias}' of service '${svc}' does not exist`),
  versionNotFound: (svc: string, version: string) =>
    new FcApiError(404, "VersionNotFound", `version '${version}' of service '${svc}' does not exist`),
  asyncConfigNotFound: (svc: string, fn: string) =>
    new FcApiError(404, "AsyncConfigNotExists", `AsyncConfig for ${svc}:${fn} does not exist.`),
  /** status 409 unverified */
  serviceAlreadyExists: (svc: string) =>
    new FcApiError(409, "ServiceAlreadyExists", `service '${svc}' already exists`),
  functionAlreadyExists: (svc: string, fn: string) =>
    new FcApiError(409, "FunctionAlreadyExists", `function '${fn}' already exists in service '${svc}'`),
  /** status 409 unverified */
  triggerAlreadyExists: (svc: string, fn: string, trigger: string) =>
    new FcApiError(409, "TriggerAlreadyExists", `trigger '${trigger}' already exists in service '${svc}' and function '${fn}'`),
  /** code and status 409 unverified */
  serviceNotEmpty: (svc: string) => new FcApiError(409, "ServiceNotEmpty", `service '${svc}' is not empty`),
  /** status 409 unverified */
  functionNotEmpty: (fn: string) => new FcApiError(409, "FunctionNotEmpty", `function '${fn}' has active triggers`),
  internal: () => new FcApiError(500, "InternalServerError", "an internal error has occurred. Please retry."),
  /** unverified code name */
  methodNotAllowed: (method: string) =>
    new FcApiError(405, "MethodNotAllowed", `method '${method}' is not allowed by the HTTP trigger`),
};
