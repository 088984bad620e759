// Which backend a table endpoint belongs to: Tablestore by its endpoint host (public, VPC, classic
// network and dual-stack forms, https://www.alibabacloud.com/help/doc-detail/52671.htm) or by
// DINGCLAW_TABLE_KIND; any other endpoint (or none: the embedded store) is the DynamoDB API.

export const TABLE_KINDS = ["dynamodb", "tablestore"] as const;
export type TableKind = (typeof TABLE_KINDS)[number];

/** `<instance>.<region>.ots.aliyuncs.com` and its VPC/internal/dual-stack siblings. */
const TABLESTORE_HOST = /^([a-z][a-z0-9-]{2,15})\.[a-z0-9-]+\.(?:ots|ots-internal|tablestore|vpc\.tablestore)\.aliyuncs\.com$/i;
/** A VPC binding's own domain `<vpc-name>-<instance>.<region>.vpc.ots.aliyuncs.com`: the instance is not in it. */
const TABLESTORE_BOUND_VPC_HOST = /\.vpc\.ots\.aliyuncs\.com$/i;

function hostOf(endpoint: string | undefined): string {
  if (!endpoint) return "";
  try {
    return new URL(endpoint).hostname.toLowerCase();
  } catch {
    return "";
  }
}

export function isTablestoreEndpoint(endpoint: string | undefined): boolean {
  const host = hostOf(endpoint);
  return TABLESTORE_HOST.test(host) || TABLESTORE_BOUND_VPC_HOST.test(host);
}

/** The instance named by a Tablestore endpoint's host, when the host names it. */
export function instanceOf(endpoint: string | undefined): string | undefined {
  return TABLESTORE_HOST.exec(hostOf(endpoint))?.[1];
}

export function tableKind(explicit: TableKind | undefined, endpoint: string | undefined): TableKind {
  return explicit ?? (isTablestoreEndpoint(endpoint) ? "tablestore" : "dynamodb");
}
