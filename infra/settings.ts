// The deployment described by serverless.yml (after the framework resolved its variables) plus the CLI
// options, parsed with zod into DeploySettings. Empty `${env:X, ''}` values count as unset. Every
// mistake names the serverless.yml field, what is wrong and an example. The framework's own check of
// serverless.yml (infra/schema.ts) is generated from these schemas.
import { Cron } from "croner";
import * as z from "zod";
import { isHttpUrl } from "../functions/core/url.js";
import { instanceOf, TABLE_KINDS, tableKind, type TableKind } from "../functions/core/store/kind.js";
import { DeployError } from "./errors.js";

export const FUNCTION_NAMES = ["callback", "worker", "notify", "scheduler"] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];
/** Functions a service may leave out of serverless.yml (deploy then deletes them if an earlier deploy made them). */
export const OPTIONAL_FUNCTIONS: readonly FunctionName[] = ["notify", "scheduler"];
/** Deploy order: the worker first (the others invoke it), the callback last (its URL is the result). */
export const DEPLOY_ORDER: readonly FunctionName[] = ["worker", "notify", "scheduler", "callback"];

export interface HttpTriggerSettings {
  name: string;
  authType: "anonymous" | "function";
  methods: string[];
}

/** An FC 2.0 timer trigger (triggerType "timer"): triggerConfig {cronExpression, enable, payload}. */
export interface TimerTriggerSettings {
  name: string;
  /** "@every 1m" (every n minutes or hours) or a 6-field cron with seconds, in UTC ("0 0/1 * * * *"). */
  cronExpression: string;
  enable: boolean;
  /** Handed to the function as the event's `payload`. */
  payload: string;
}

export interface FunctionSettings {
  name: FunctionName;
  /** TypeScript entry bundled for this function, relative to the service directory. */
  entry: string;
  /** FC handler `file.export`; the bundle is written as `file.js`. */
  handler: string;
  description: string;
  memorySize: number;
  timeout: number;
  instanceConcurrency: number;
  environment: Record<string, string>;
  http: HttpTriggerSettings | undefined;
  timer: TimerTriggerSettings | undefined;
  async: { maxAsyncRetryAttempts: number; maxAsyncEventAgeInSeconds: number } | undefined;
}

export interface TableSettings {
  /** "tablestore" for a Tablestore endpoint (or when set so), else "dynamodb". */
  kind: TableKind;
  endpoint: string | undefined;
  name: string;
  /** Tablestore: the instance (from provider.table.instance or the endpoint's host). */
  instance: string | undefined;
  region: string | undefined;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  /** Keep the table on `remove` even when deploy created it. */
  retain: boolean;
  /** False: deploy neither checks nor creates the table (it is not reachable from where deploy runs). */
  manage: boolean;
}

export interface DeploySettings {
  service: string;
  stage: string;
  region: string;
  /** The FC service: `<service>-<stage>`. */
  fcServiceName: string;
  runtime: string;
  description: string;
  /** An existing role ARN, or undefined: deploy manages `<service>-<stage>-fc` through RAM. */
  roleArn: string | undefined;
  managedRoleName: string;
  managedPolicyName: string;
  logConfig: { project: string; logstore: string } | undefined;
  vpcConfig: { vpcId: string; vSwitchIds: string[]; securityGroupId: string } | undefined;
  internetAccess: boolean;
  /** DINGCLAW_CONFIG_JSON: the bot's config as inline JSON (CI secrets); wins over the file. */
  configJson: string | undefined;
  /** DINGCLAW_CONFIG: the bot's config file. */
  configPath: string;
  /** True when the path was given explicitly (a missing file is then an error). */
  configPathExplicit: boolean;
  table: TableSettings;
  /** provider.environment without empty values: passed to every function. */
  environment: Record<string, string>;
  /** callback and worker always; notify and scheduler when serverless.yml declares them. */
  functions: Record<"callback" | "worker", FunctionSettings> & Partial<Record<FunctionName, FunctionSettings>>;
}

const blank = (v: unknown) => v === undefined || v === null || (typeof v === "string" && v.trim() === "");
const optionalText = z.preprocess((v) => (blank(v) ? undefined : v), z.string().trim().optional());
const optionalInt = (min: number, max: number) =>
  z.preprocess(
    (v) => (blank(v) ? undefined : typeof v === "string" ? Number(v) : v),
    z.number({ error: "must be a number" }).int({ error: "must be a whole number" }).min(min).max(max).optional(),
  );
const optionalBool = z.preprocess(
  (v) => (blank(v) ? undefined : v === "true" ? true : v === "false" ? false : v),
  z.boolean({ error: "must be true or false" }).optional(),
);
const envMap = z
  .record(
    z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, { error: "variable names are letters, digits and _ (example: LOG_LEVEL)" }),
    z.union([z.string(), z.number(), z.boolean(), z.null()]),
  )
  .optional()
  .transform((m) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(m ?? {})) if (!blank(v)) out[k] = String(v);
    return out;
  });

const NAME = /^[A-Za-z][A-Za-z0-9-]{0,40}$/;

/**
 * FC's timer schedule: "@every <n>m" / "@every <n>h" (at least one minute), or a cron expression with
 * six fields, seconds first, in UTC ("Seconds Minutes Hours Day-of-month Month Day-of-week"; FC's
 * time-trigger guide, help.aliyun.com/zh/functioncompute/time-triggers).
 */
export function timerScheduleProblem(expression: string): string | undefined {
  const every = /^@every\s+(\d+)([mh])$/.exec(expression);
  if (every) return Number(every[1]) >= 1 ? undefined : "the interval must be at least 1m";
  if (expression.startsWith("@")) return 'intervals look like "@every 1m" or "@every 2h"';
  if (expression.split(/\s+/).length !== 6) return 'needs "@every <n>m" or a cron expression with 6 fields, seconds first (example: "0 0/1 * * * *")';
  try {
    new Cron(expression, { paused: true, timezone: "UTC", sloppyRanges: true });
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message.replace(/^CronPattern:\s*/, "") : String(err);
  }
}

export const TimerEventSchema = z.strictObject({
  timer: z
    .strictObject({
      name: optionalText,
      cronExpression: optionalText.refine((v) => v === undefined || timerScheduleProblem(v) === undefined, {
        error: 'must be "@every <n>m" (n ≥ 1) or a cron expression with 6 fields, seconds first, in UTC (example: "@every 1m")',
      }),
      enable: optionalBool,
      payload: optionalText,
    })
    .nullish()
    .transform((t) => ({ name: t?.name, cronExpression: t?.cronExpression ?? "@every 1m", enable: t?.enable ?? true, payload: t?.payload ?? "" })),
});

export const HttpEventSchema = z.strictObject({
  http: z
    .strictObject({
      name: optionalText,
      authType: z.enum(["anonymous", "function"], { error: 'must be "anonymous" or "function"' }).default("anonymous"),
      methods: z
        .array(z.string().transform((m) => m.toUpperCase()).pipe(z.enum(["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"])))
        .min(1)
        .default(["POST"]),
    })
    .nullish()
    .transform((h) => h ?? { name: undefined, authType: "anonymous" as const, methods: ["POST"] }),
});

/** `- http: …` or `- timer: …`, each with its own schema's messages. */
const EventSchema = z.unknown().transform((e, ctx) => {
  const schema = typeof e === "object" && e !== null && "timer" in e ? TimerEventSchema : HttpEventSchema;
  const r = schema.safeParse(e);
  if (r.success) return r.data;
  for (const i of r.error.issues) ctx.addIssue({ code: "custom", message: i.message, path: i.path });
  return z.NEVER;
});

export const FunctionSchema = z.object({
  handler: z.string().regex(/^[A-Za-z0-9_-]+\.[A-Za-z_$][A-Za-z0-9_$]*$/, { error: 'must be "file.export"' }).default("index.handler"),
  entry: optionalText,
  description: optionalText,
  memorySize: optionalInt(128, 32768),
  timeout: optionalInt(1, 86400),
  instanceConcurrency: optionalInt(1, 200),
  environment: envMap,
  events: z.array(EventSchema).nullish(),
  async: z
    .strictObject({
      maxAsyncRetryAttempts: optionalInt(0, 8),
      maxAsyncEventAgeInSeconds: optionalInt(1, 86400),
    })
    .nullish(),
  /** A prebuilt zip instead of the bundle `package` builds (the plugin sets it after packaging). */
  package: z.strictObject({ artifact: optionalText }).nullish(),
});

export const ProviderSchema = z.object({
  name: z.literal("aliyun", { error: 'must be "aliyun"' }),
  runtime: z.preprocess((v) => (blank(v) ? undefined : v), z.enum(["nodejs20", "nodejs18"], { error: 'must be "nodejs20" or "nodejs18"' }).optional()),
  region: optionalText,
  stage: optionalText,
  description: optionalText,
  role: optionalText.refine((v) => v === undefined || /^acs:ram::\d+:role\/\S+$/.test(v), {
    error: 'must be a role ARN like "acs:ram::1234567890123456:role/dingclaw-fc"',
  }),
  logConfig: z.strictObject({ project: optionalText, logstore: optionalText }).nullish(),
  vpcConfig: z
    .strictObject({ vpcId: optionalText, vSwitchIds: z.array(z.string()).nullish(), securityGroupId: optionalText })
    .nullish(),
  internetAccess: optionalBool,
  config: optionalText,
  configJson: optionalText,
  table: z
    .strictObject({
      // A refined string, not an enum: `${env:DINGCLAW_TABLE_KIND, ''}` arrives blank, which the framework's schema must accept.
      kind: optionalText.refine((v) => v === undefined || (TABLE_KINDS as readonly string[]).includes(v), { error: 'must be "dynamodb" or "tablestore"' }),
      endpoint: optionalText,
      name: optionalText,
      instance: optionalText,
      region: optionalText,
      accessKeyId: optionalText,
      secretAccessKey: optionalText,
      retain: optionalBool,
      manage: optionalBool,
    })
    .nullish(),
  environment: envMap,
});

const DEFAULTS: Record<FunctionName, { memorySize: number; timeout: number; instanceConcurrency: number }> = {
  callback: { memorySize: 256, timeout: 30, instanceConcurrency: 20 },
  worker: { memorySize: 512, timeout: 300, instanceConcurrency: 20 },
  notify: { memorySize: 256, timeout: 60, instanceConcurrency: 10 },
  scheduler: { memorySize: 256, timeout: 60, instanceConcurrency: 1 },
};

/** What each function's `events` must be. */
function checkEvents(name: FunctionName, http: number, timer: number): void {
  if (name === "callback" && (http !== 1 || timer > 0))
    fail("functions.callback.events: needs exactly one http event (example: - http: { authType: anonymous, methods: [POST] })");
  if (name === "worker" && http + timer > 0) fail("functions.worker.events: the worker is invoked asynchronously and takes no events");
  if (name === "notify" && http + timer > 0)
    fail("functions.notify.events: notify has no trigger (invoke it with serverless invoke -f notify, authorised by your Alibaba Cloud credentials)");
  if (name === "scheduler" && (timer !== 1 || http > 0))
    fail("functions.scheduler.events: needs exactly one timer event (example: - timer: { cronExpression: '@every 1m' })");
}

export interface CliOptions {
  region?: string;
  stage?: string;
}

export interface ServiceInput {
  service: unknown;
  provider: unknown;
  functions: unknown;
}

/** The functions serverless.yml declares, in deploy order. */
export function declaredFunctions(s: Pick<DeploySettings, "functions">): FunctionSettings[] {
  return DEPLOY_ORDER.flatMap((name) => (s.functions[name] ? [s.functions[name]] : []));
}

function issueText(prefix: string, err: z.ZodError): string {
  return err.issues
    .map((i) => `${[prefix, ...i.path.map(String)].join(".")}: ${i.message}`)
    .join("; ");
}

function fail(message: string): never {
  throw new DeployError(`serverless.yml: ${message}`);
}

/** Parses the resolved service configuration. */
export function parseSettings(input: ServiceInput, options: CliOptions): DeploySettings {
  const service = typeof input.service === "string" ? input.service : (input.service as { name?: unknown } | null)?.name;
  if (typeof service !== "string" || !NAME.test(service)) fail('service: must be a short name like "dingclaw"');

  const p = ProviderSchema.safeParse(input.provider ?? {});
  if (!p.success) fail(issueText("provider", p.error));
  const provider = p.data;

  const stage = (options.stage?.trim() || provider.stage || "dev").toLowerCase();
  if (!/^[a-z0-9][a-z0-9-]{0,15}$/.test(stage)) fail(`stage "${stage}" must be 1-16 of a-z 0-9 - (example: "prod")`);
  const region = options.region?.trim() || provider.region || "cn-hangzhou";
  if (!/^[a-z]{2}-[a-z0-9-]+$/.test(region)) fail(`region "${region}" is not an Alibaba Cloud region id (example: "cn-hangzhou")`);

  const fnInput = (input.functions ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(fnInput).filter((k) => !(FUNCTION_NAMES as readonly string[]).includes(k));
  if (unknown.length > 0) fail(`functions: only ${FUNCTION_NAMES.map((n) => `"${n}"`).join(", ")} are supported, not ${unknown.join(", ")}`);
  const functions = {} as DeploySettings["functions"];
  for (const name of FUNCTION_NAMES) {
    if (!(name in fnInput)) {
      if (OPTIONAL_FUNCTIONS.includes(name)) continue;
      fail(`functions.${name} is missing (dingclaw needs both "callback" and "worker")`);
    }
    const f = FunctionSchema.safeParse(fnInput[name] ?? {});
    if (!f.success) fail(issueText(`functions.${name}`, f.error));
    const d = DEFAULTS[name];
    const events = f.data.events ?? [];
    const https = events.flatMap((e) => ("http" in e ? [e.http] : []));
    const timers = events.flatMap((e) => ("timer" in e ? [e.timer] : []));
    checkEvents(name, https.length, timers.length);
    const http = https[0];
    const timer = timers[0];
    functions[name] = {
      name,
      entry: f.data.entry ?? `functions/${name}.ts`,
      handler: f.data.handler,
      description: f.data.description ?? `dingclaw ${name}`,
      memorySize: f.data.memorySize ?? d.memorySize,
      timeout: f.data.timeout ?? d.timeout,
      instanceConcurrency: f.data.instanceConcurrency ?? d.instanceConcurrency,
      environment: f.data.environment,
      http: http ? { name: http.name ?? "http", authType: http.authType, methods: http.methods } : undefined,
      timer: timer ? { name: timer.name ?? "timer", cronExpression: timer.cronExpression, enable: timer.enable, payload: timer.payload } : undefined,
      async:
        name === "worker"
          ? {
              maxAsyncRetryAttempts: f.data.async?.maxAsyncRetryAttempts ?? 3,
              maxAsyncEventAgeInSeconds: f.data.async?.maxAsyncEventAgeInSeconds ?? 3600,
            }
          : undefined,
    };
  }

  const log = provider.logConfig;
  if (log && Boolean(log.project) !== Boolean(log.logstore))
    fail("provider.logConfig: set both project and logstore, or neither (example: project: dingclaw-logs, logstore: fc)");
  const vpc = provider.vpcConfig;
  const vpcSet = Boolean(vpc?.vpcId || vpc?.securityGroupId || vpc?.vSwitchIds?.length);
  if (vpcSet && !(vpc?.vpcId && vpc.securityGroupId && vpc.vSwitchIds?.length))
    fail("provider.vpcConfig: needs vpcId, vSwitchIds and securityGroupId together");

  const fcServiceName = `${service}-${stage}`;
  const table = provider.table ?? {};
  if (table.endpoint && !isHttpUrl(table.endpoint))
    fail('provider.table.endpoint must be an http(s) URL (example: "https://dingclaw.cn-hangzhou.ots.aliyuncs.com")');
  const kind = tableKind(table.kind as TableKind | undefined, table.endpoint);
  const instance = table.instance ?? instanceOf(table.endpoint);
  let tableName: string;
  if (kind === "tablestore") {
    tableName = table.name ?? fcServiceName.replace(/-/g, "_");
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,254}$/.test(tableName))
      fail(`provider.table.name "${tableName}" must be 1-255 of A-Z a-z 0-9 _ for Tablestore, not starting with a digit (example: "dingclaw_prod")`);
    if (table.endpoint && !instance)
      fail('provider.table.instance: the endpoint does not name the Tablestore instance; set it (example: "dingclaw")');
  } else {
    tableName = table.name ?? fcServiceName;
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(tableName))
      fail(`provider.table.name "${tableName}" must be 3-255 of A-Z a-z 0-9 _ . - (example: "dingclaw-prod")`);
  }

  return {
    service,
    stage,
    region,
    fcServiceName,
    runtime: provider.runtime ?? "nodejs20",
    description: provider.description ?? `dingclaw DingTalk assistant (${stage})`,
    roleArn: provider.role,
    managedRoleName: `${fcServiceName}-fc`,
    managedPolicyName: `${fcServiceName}-fc-policy`,
    logConfig: log?.project && log.logstore ? { project: log.project, logstore: log.logstore } : undefined,
    vpcConfig: vpcSet ? { vpcId: vpc!.vpcId!, vSwitchIds: vpc!.vSwitchIds!, securityGroupId: vpc!.securityGroupId! } : undefined,
    internetAccess: provider.internetAccess ?? true,
    configJson: provider.configJson,
    configPath: provider.config ?? "./config.json",
    configPathExplicit: provider.config !== undefined && provider.config !== "./config.json",
    table: {
      kind,
      endpoint: table.endpoint,
      name: tableName,
      instance: kind === "tablestore" ? instance?.toLowerCase() : undefined,
      region: table.region,
      accessKeyId: table.accessKeyId,
      secretAccessKey: table.secretAccessKey,
      retain: table.retain ?? false,
      manage: table.manage ?? true,
    },
    environment: provider.environment,
    functions,
  };
}
