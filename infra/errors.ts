// User-facing deploy errors: one clear line, secrets masked, no stack. Cloud SDK failures (FC, RAM,
// SLS, the table) are translated here into what to check, e.g. rejected credentials or an unreachable endpoint.
import { describeError, redact } from "../functions/core/log.js";

/** A problem the user can fix; the plugin shows its message alone (no stack trace). */
export class DeployError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(redact(message), options);
    this.name = "DeployError";
  }
}

const CREDENTIAL_CODES = [
  "InvalidAccessKeyID",
  "InvalidAccessKeyId",
  "InvalidAccessKeyId.NotFound",
  "InvalidAccessKeyId.Inactive",
  "SignatureNotMatch",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "InvalidSecurityToken",
  "InvalidSecurityToken.Expired",
  "InvalidSecurityToken.Malformed",
  "InvalidSecurityToken.MismatchWithAccessKey",
];
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);

interface CloudErrorShape {
  code?: unknown;
  name?: unknown;
  statusCode?: unknown;
  data?: { Code?: unknown; Message?: unknown; ErrorCode?: unknown };
  cause?: unknown;
}

/** The service's error code (FC `ErrorCode`, RAM/SLS `Code`), or a network code such as ECONNREFUSED. */
export function cloudErrorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as CloudErrorShape;
  for (const v of [e.data?.Code, e.data?.ErrorCode, e.code]) if (typeof v === "string" && v !== "" && v !== "undefined") return v;
  if (typeof e.name === "string") {
    const m = /^FC(.+)Error$/.exec(e.name);
    if (m?.[1] && m[1] !== "undefined") return m[1];
  }
  if (e.cause !== undefined && e.cause !== err) return cloudErrorCode(e.cause);
  return undefined;
}

export function isNotFound(err: unknown): boolean {
  const code = cloudErrorCode(err) ?? "";
  return /NotFound$|NotExist|^EntityNotExist|NoSuch/.test(code);
}

/** True when the API refused who we are (wrong key id, secret, token or account). */
export function isCredentialError(err: unknown): boolean {
  const code = cloudErrorCode(err) ?? "";
  return CREDENTIAL_CODES.includes(code);
}

function networkCode(err: unknown, depth = 0): string | undefined {
  if (typeof err !== "object" || err === null || depth > 4) return undefined;
  const e = err as CloudErrorShape & { errors?: unknown[] };
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return e.code;
  const msg = err instanceof Error ? err.message : "";
  const m = /\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)\b/.exec(msg);
  if (m?.[1]) return m[1];
  if (Array.isArray(e.errors)) for (const x of e.errors) if (networkCode(x, depth + 1)) return networkCode(x, depth + 1);
  return networkCode(e.cause, depth + 1);
}

/**
 * Turns any failure of a cloud call into a DeployError saying what failed and what to check.
 * `api` names the service ("Function Compute", "RAM", ...), `where` the endpoint (no secrets), `action` the step.
 */
export function explainCloudError(err: unknown, api: string, where: string, action: string): DeployError {
  if (err instanceof DeployError) return err;
  const code = cloudErrorCode(err);
  if (isCredentialError(err))
    return new DeployError(
      `${api} rejected the credentials (${code}) while trying to ${action}: check ALIBABA_CLOUD_ACCESS_KEY_ID, ` +
        `ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS keys) and ALIBABA_CLOUD_ACCOUNT_ID`,
      { cause: err },
    );
  const d = describeError(err);
  const detail = d.message.replace(/\s+/g, " ").trim().slice(0, 400) || d.name;
  if (code === "AccessDenied" || code?.startsWith("Forbidden") || code === "NoPermission")
    return new DeployError(
      `${api} denied "${action}" (${detail}): check ALIBABA_CLOUD_ACCOUNT_ID, and that the RAM user of ` +
        "ALIBABA_CLOUD_ACCESS_KEY_ID has the permissions listed in the README's deploy section",
      { cause: err },
    );
  const net = networkCode(err);
  if (net) return new DeployError(`cannot reach ${api} at ${where} (${net}) while trying to ${action}`, { cause: err });
  return new DeployError(`${api} failed to ${action}: ${detail}`, { cause: err });
}
