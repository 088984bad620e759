// `serverless logs -f NAME`: a function's log lines from the service's SLS logstore (GetLogs through
// @alicloud/sls20201230), optionally followed with --tail. Without a log config, says how to enable one.
import SlsPackage, * as $Sls from "@alicloud/sls20201230";
import { $OpenApiUtil } from "@alicloud/openapi-core";
import { readCredentials, type AliyunCredentials } from "./credentials.js";
import { DeployError, explainCloudError } from "./errors.js";
import { fcClient, getService } from "./fc.js";
import { sdkClass } from "./interop.js";
import type { Reporter } from "./output.js";
import { declaredFunctions, type DeploySettings } from "./settings.js";

const Sls = sdkClass(SlsPackage);

export interface LogQuery {
  /** epoch seconds, inclusive */
  from: number;
  /** epoch seconds, exclusive */
  to: number;
  query: string;
}

/** One page of log entries (SLS returns each as a flat string map). */
export type LogSource = (q: LogQuery) => Promise<Record<string, unknown>[]>;

export function slsSource(creds: AliyunCredentials, region: string, project: string, logstore: string): LogSource {
  const endpoint = `${region}.log.aliyuncs.com`;
  const client = new Sls(
    new $OpenApiUtil.Config({
      accessKeyId: creds.accessKeyId,
      accessKeySecret: creds.accessKeySecret,
      ...(creds.securityToken ? { securityToken: creds.securityToken } : {}),
      endpoint,
      readTimeout: 20_000,
      connectTimeout: 5_000,
    }),
  );
  return async (q) => {
    try {
      const r = await client.getLogs(project, logstore, new $Sls.GetLogsRequest({ from: q.from, to: q.to, query: q.query, line: 100, reverse: false }));
      return r.body ?? [];
    } catch (err) {
      throw explainCloudError(err, "Simple Log Service", `https://${project}.${endpoint}`, `read logs from ${project}/${logstore}`);
    }
  };
}

/** "10m", "2h", "1d", or an ISO date → epoch seconds. */
export function parseStartTime(value: string | undefined, nowMs: number): number {
  if (!value) return Math.floor(nowMs / 1000) - 600;
  const rel = /^(\d+)\s*([smhd])$/.exec(value.trim());
  if (rel) {
    const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[rel[2] as "s" | "m" | "h" | "d"];
    return Math.floor(nowMs / 1000) - Number(rel[1]) * unit;
  }
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new DeployError(`--startTime "${value}" is neither a duration like 30m, 2h, 1d nor a date like 2026-01-31T08:00:00Z`);
  return Math.floor(at / 1000);
}

export function formatEntry(e: Record<string, unknown>): string {
  const t = Number(e.__time__);
  const when = Number.isFinite(t) && t > 0 ? new Date(t * 1000).toISOString() : "";
  const message = typeof e.message === "string" ? e.message : JSON.stringify(e);
  return `${when} ${message.replace(/\n+$/, "")}`.trim();
}

export interface LogsOptions {
  service: string;
  fn: string;
  logConfig: { project: string; logstore: string } | undefined;
  startTime: string | undefined;
  filter: string | undefined;
  tail: boolean;
  intervalMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** stops --tail (tests); default never */
  shouldStop?: () => boolean;
}

export const ENABLE_LOGS_HELP =
  "set provider.logConfig.project and provider.logConfig.logstore in serverless.yml (DINGCLAW_LOG_PROJECT, " +
  "DINGCLAW_LOG_STORE) to an SLS project and logstore in the same region with an index enabled, then run serverless deploy again";

/** Prints the function's log lines; `source` is undefined when the service has no log config. */
export async function printLogs(opts: LogsOptions, source: LogSource | undefined, out: Reporter): Promise<number> {
  if (!opts.logConfig || !source) {
    out.warn(`logs are not enabled for service ${opts.service}: ${ENABLE_LOGS_HELP}`);
    return 0;
  }
  const query = [`serviceName: ${opts.service}`, `functionName: ${opts.fn}`, ...(opts.filter ? [opts.filter] : [])].join(" and ");
  let from = parseStartTime(opts.startTime, opts.now());
  let printed = 0;
  for (;;) {
    const to = Math.floor(opts.now() / 1000) + 1;
    const entries = await source({ from, to, query });
    const sorted = [...entries].sort((a, b) => Number(a.__time__ ?? 0) - Number(b.__time__ ?? 0));
    for (const e of sorted) out.result(formatEntry(e));
    printed += sorted.length;
    if (!opts.tail || opts.shouldStop?.()) break;
    from = to;
    await opts.sleep(opts.intervalMs);
  }
  if (printed === 0 && !opts.tail) out.note(`no log lines for ${opts.fn} since ${new Date(parseStartTime(opts.startTime, opts.now()) * 1000).toISOString()}`);
  return printed;
}

export interface LogsContext {
  settings: DeploySettings;
  env: Record<string, string | undefined>;
  out: Reporter;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Replaces the SLS reader (tests). */
  source?: (project: string, logstore: string) => LogSource;
}

/** `serverless logs`: looks up the service's log config in FC, then prints from its logstore. */
export async function runLogs(
  ctx: LogsContext,
  o: { fn: string; startTime: string | undefined; filter: string | undefined; tail: boolean; intervalMs: number; shouldStop?: () => boolean },
): Promise<number> {
  const s = ctx.settings;
  const declared = declaredFunctions(s).map((f) => f.name);
  if (!(declared as string[]).includes(o.fn))
    throw new DeployError(`function "${o.fn}" is not part of this service (choose ${declared.join(", ")})`);
  const creds = readCredentials(ctx.env);
  const service = await getService(fcClient(creds, s.region, ctx.env), s.fcServiceName);
  if (!service) throw new DeployError(`service ${s.fcServiceName} is not deployed in ${s.region}`);
  const project = service.logConfig?.project;
  const logstore = service.logConfig?.logstore;
  const logConfig = project && logstore ? { project, logstore } : undefined;
  const source = logConfig ? (ctx.source ?? ((p, l) => slsSource(creds, s.region, p, l)))(logConfig.project, logConfig.logstore) : undefined;
  return printLogs(
    {
      service: s.fcServiceName,
      fn: o.fn,
      logConfig,
      startTime: o.startTime,
      filter: o.filter,
      tail: o.tail,
      intervalMs: o.intervalMs,
      now: ctx.now ?? Date.now,
      sleep: ctx.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
      ...(o.shouldStop ? { shouldStop: o.shouldStop } : {}),
    },
    source,
    ctx.out,
  );
}
