// The deployment described by serverless.yml (after the framework resolved its variables) plus the CLI
// options, parsed with zod into DeploySettings. Empty `${env:X, ''}` values count as unset. Every
// mistake names the serverless.yml field, what is wrong and an example. The framework's own check of
// serverless.yml (infra/schema.ts) is generated from these schemas.
import * as z from "zod";
import { isHttpUrl } from "../functions/core/url.js";
import { instanceOf, TABLE_KINDS, tableKind, type TableKind } from "../functions/core/store/kind.js";
import { DeployError } from "./errors.js";

export const FUNCTION_NAMES = ["callback", "worker"] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export interface HttpTriggerSettings {
  name: string;
  authType: "anonymous" | "function";
  methods: string[];
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
  functions: Record<FunctionName, FunctionSettings>;
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

export const HttpEventSchema = z.object({
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

export const FunctionSchema = z.object({
  handler: z.string().regex(/^[A-Za-z0-9_-]+\.[A-Za-z_$][A-Za-z0-9_$]*$/, { error: 'must be "file.export"' }).default("index.handler"),
  entry: optionalText,
  description: optionalText,
  memorySize: optionalInt(128, 32768),
  timeout: optionalInt(1, 86400),
  instanceConcurrency: optionalInt(1, 200),
  environment: envMap,
  events: z.array(HttpEventSchema).nullish(),
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
};

export interface CliOptions {
  region?: string;
  stage?: string;
}

export interface ServiceInput {
  service: unknown;
  provider: unknown;
  functions: unknown;
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
  if (unknown.length > 0) fail(`functions: only "callback" and "worker" are supported, not ${unknown.join(", ")}`);
  const functions = {} as Record<FunctionName, FunctionSettings>;
  for (const name of FUNCTION_NAMES) {
    if (!(name in fnInput)) fail(`functions.${name} is missing (dingclaw needs both "callback" and "worker")`);
    const f = FunctionSchema.safeParse(fnInput[name] ?? {});
    if (!f.success) fail(issueText(`functions.${name}`, f.error));
    const d = DEFAULTS[name];
    const events = f.data.events ?? [];
    if (name === "callback" && events.length !== 1)
      fail("functions.callback.events: needs exactly one http event (example: - http: { authType: anonymous, methods: [POST] })");
    if (name === "worker" && events.length > 0) fail("functions.worker.events: the worker is invoked asynchronously and takes no events");
    const http = events[0]?.http;
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
