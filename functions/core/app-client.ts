// The app's DingTalk client as every host builds it: credentials and endpoints from the config, the
// app-wide API rate (api_qps: per process, or shared through the table on FC) and the monthly
// API-call counter when there is a table. Undefined without DingTalk credentials.
import type { AppConfig } from "./config.js";
import { DingTalkClient } from "./dingtalk/client.js";
import { LocalRateGate } from "./dingtalk/rate-gate.js";
import type { Logger } from "./log.js";
import { ApiUsageStore } from "./store/api-usage.js";
import type { CoalescedAdds } from "./store/coalesced-adds.js";
import { TableRateGate } from "./store/rate-slots.js";
import type { Table } from "./store/table.js";

/** DingTalk APIs its monthly quota does not count (reference §3.3: contacts are exempt). */
const QUOTA_EXEMPT_APIS: ReadonlySet<string> = new Set(["contact.users.search", "topapi.v2.user.get", "topapi.v2.department.get"]);

export interface AppClientOptions {
  log: Logger;
  now?: () => number;
  fetch?: typeof fetch;
  /** Backoff sleep for DingTalk retries (tests make it instant). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Where the app's API rate (api_qps) is counted: "process" (the gateway, a CLI) or "table" (FC:
   * shared by every instance; needs `table`). Default "process".
   */
  rateGate?: "process" | "table";
  /** Where the API-call counts are written (shared with the LLM usage counter); default: the counter's own. */
  usageAdds?: CoalescedAdds;
}

export interface AppClient {
  dingtalk: DingTalkClient;
  /** The monthly DingTalk API counter (absent without a table). */
  apiUsage: ApiUsageStore | undefined;
}

export function createAppClient(config: AppConfig, table: Table | undefined, opts: AppClientOptions): AppClient | undefined {
  const credentials = config.dingtalk.credentials;
  if (!credentials) return undefined;
  const { log } = opts;
  const now = opts.now ?? Date.now;
  const apiUsage = table ? new ApiUsageStore(table, { app: credentials.clientId, now, log, ...(opts.usageAdds ? { adds: opts.usageAdds } : {}) }) : undefined;
  // The gate keeps real time (tests' moved clocks and instant sleeps are for other waits).
  const qps = config.dingtalk.apiQps;
  const gate = opts.rateGate === "table" && table ? new TableRateGate(table, { app: credentials.clientId, qps, log }) : new LocalRateGate({ qps });
  const dingtalk = new DingTalkClient({
    credentials,
    apiBase: config.dingtalk.apiBase,
    oapiBase: config.dingtalk.oapiBase,
    fetch: opts.fetch,
    now,
    sleep: opts.sleep,
    log,
    ...(apiUsage ? { onApiCall: (api: string) => (QUOTA_EXEMPT_APIS.has(api) ? undefined : apiUsage.record(api)) } : {}),
    gate,
  });
  return { dingtalk, apiUsage };
}
