// The process environment: one zod schema for every variable a host reads (FC functions, the gateway,
// the playground, the CLIs), with its default. Blank values count as unset (serverless.yml passes
// `${env:X, ''}`). A bad value gives one line naming the variable, what is wrong and an example;
// values are never echoed (some are secrets).
import * as z from "zod/mini";
import "./zod-messages.js";
import { THRESHOLDS } from "./log.js";
import { TABLE_KINDS } from "./store/kind.js";
import { isHttpUrl, trimSlashes } from "./url.js";

export const DEFAULT_CONFIG_PATH = "./config.json";

const blankToUnset = (v: unknown) => (typeof v === "string" ? v.trim() || undefined : v);
/** zod's preprocess: a pipe from a transform. */
const preprocess = <T extends z.ZodMiniType>(fn: (v: unknown) => unknown, schema: T) => z.pipe(z.transform(fn), schema);
const orUnset = <T extends z.ZodMiniType>(schema: T) => preprocess(blankToUnset, schema);
const text = orUnset(z.optional(z.string()));
const httpUrl = (example: string) =>
  z.pipe(z.string().check(z.refine(isHttpUrl, { error: `must be an http(s) URL (example: ${example})` })), z.transform(trimSlashes));
const oneOf = <const T extends readonly [string, ...string[]]>(values: T, example: T[number]) =>
  preprocess(
    (v) => (typeof v === "string" ? v.trim().toLowerCase() || undefined : v),
    z.optional(z.enum(values, { error: `must be one of ${values.join(", ")} (example: ${example})` })),
  );

export const EnvSchema = z.object({
  // The bot's config: inline JSON wins over the file.
  DINGCLAW_CONFIG: text,
  DINGCLAW_CONFIG_JSON: text,
  // Overrides of config fields (validated with the config).
  DINGTALK_CLIENT_ID: text,
  DINGTALK_CLIENT_SECRET: text,
  DINGTALK_ROBOT_CODE: text,
  DINGTALK_MODE: text,
  DINGCLAW_MODEL: text,
  DINGCLAW_NOTIFY_TOKEN: text,
  DINGTALK_API_BASE: orUnset(z._default(httpUrl("https://api.dingtalk.com"), "https://api.dingtalk.com")),
  DINGTALK_OAPI_BASE: orUnset(z._default(httpUrl("https://oapi.dingtalk.com"), "https://oapi.dingtalk.com")),
  // The table: a DynamoDB-compatible endpoint or a Tablestore instance's, else the embedded store under DINGCLAW_DATA_DIR.
  DINGCLAW_TABLE_ENDPOINT: orUnset(z.optional(httpUrl("http://127.0.0.1:8000"))),
  /** Unset: tablestore for a Tablestore endpoint, else dynamodb. */
  DINGCLAW_TABLE_KIND: oneOf(TABLE_KINDS, "tablestore"),
  /** Tablestore: the instance, when the endpoint's host does not name it. */
  DINGCLAW_TABLE_INSTANCE: orUnset(
    z.optional(
      z
        .string()
        .check(z.regex(/^[A-Za-z][A-Za-z0-9-]{1,14}[A-Za-z0-9]$/, { error: 'must be a Tablestore instance name, 3-16 of A-Z a-z 0-9 - (example: "dingclaw")' })),
    ),
  ),
  DINGCLAW_TABLE_NAME: orUnset(
    z._default(z.string().check(z.regex(/^[A-Za-z0-9_.-]{3,255}$/, { error: 'must be 3-255 of A-Z a-z 0-9 _ . - (example: "dingclaw")' })), "dingclaw"),
  ),
  DINGCLAW_DATA_DIR: orUnset(z._default(z.string(), "./.dingclaw")),
  AWS_REGION: text,
  AWS_DEFAULT_REGION: text,
  AWS_ACCESS_KEY_ID: text,
  AWS_SECRET_ACCESS_KEY: text,
  AWS_SESSION_TOKEN: text,
  /** Unset: info (the agent CLI: no log lines). */
  LOG_LEVEL: oneOf(THRESHOLDS, "debug"),
  // Gateway and playground.
  PORT: orUnset(
    z._default(
      z.pipe(z.string().check(z.refine((v) => /^\d{1,5}$/.test(v) && Number(v) <= 65_535, { error: "must be a port number (example: 9000)" })), z.transform(Number)),
      9000,
    ),
  ),
  HOST: orUnset(z._default(z.string(), "127.0.0.1")),
  /** Unset: on. */
  PLAYGROUND_CARDS: oneOf(["on", "off"], "off"),
  // FC: where the callback invokes the worker, and the runtime's own variables.
  DINGCLAW_WORKER_SERVICE: text,
  DINGCLAW_WORKER_FUNCTION: orUnset(z._default(z.string(), "worker")),
  ALIBABA_CLOUD_FC_ENDPOINT: orUnset(z.optional(httpUrl("https://1234567890123456.cn-hangzhou.fc.aliyuncs.com"))),
  ALIBABA_CLOUD_ACCESS_KEY_ID: text,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: text,
  ALIBABA_CLOUD_SECURITY_TOKEN: text,
  ALIBABA_CLOUD_ACCOUNT_ID: text,
  ALIBABA_CLOUD_REGION: text,
  FC_ACCOUNT_ID: text,
  FC_REGION: text,
  FC_SERVICE_NAME: text,
  // `npm run doctor`: which deployed service to look at.
  DINGCLAW_SERVICE_NAME: text,
  DINGCLAW_STAGE: text,
});

export type Env = z.output<typeof EnvSchema>;
/** The raw environment, as in `process.env`. */
export type EnvSource = Record<string, string | undefined>;

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`bad environment: ${problems.join("; ")}`);
    this.name = "EnvError";
  }
}

/** Parses the environment (default `process.env`); throws EnvError naming every bad variable. */
export function readEnv(source: EnvSource = process.env): Env {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) throw new EnvError(parsed.error.issues.map((i) => `${String(i.path[0])} ${i.message}`));
  return parsed.data;
}

/** The table's region: AWS_REGION, else AWS_DEFAULT_REGION, else cn-hangzhou. */
export function tableRegion(env: Env): string {
  return env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "cn-hangzhou";
}
