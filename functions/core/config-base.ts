// The part of the configuration a host needs before anything else: where the config comes from
// (DINGCLAW_CONFIG_JSON or the file), the DingTalk app credentials and the table. config.ts builds the
// full AppConfig on these; the FC callback, which only verifies, claims and dispatches, reads just
// these (`loadCallbackConfig`), so a cold instance does not build and run the schemas of everything else.
import { readFileSync } from "node:fs";
import { DEFAULT_CONFIG_PATH, readEnv, tableRegion, type Env, type EnvSource } from "./env.js";
import { registerSecret } from "./log.js";
import { instanceOf, tableKind, type TableKind } from "./store/kind.js";
import * as z from "zod/mini";
import "./zod-messages.js";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`config: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

export const optionalText = z.pipe(
  z.optional(z.string()),
  z.transform((v: string | undefined) => (v && v.trim() !== "" ? v.trim() : undefined)),
);

export interface DingTalkConfig {
  clientId: string;
  clientSecret: string;
  robotCode: string;
}

export interface TableSettings {
  kind: TableKind;
  endpoint: string | undefined;
  name: string;
  dataDir: string;
  /** DynamoDB API: the signing region. */
  region: string;
  /** Tablestore: the instance (DINGCLAW_TABLE_INSTANCE, else from the endpoint's host). */
  instance: string | undefined;
}

export type Problem = (path: readonly PropertyKey[], what: string) => string;

/** The config's JSON as given (an object is not checked here); `missingFile` when the default file does not exist. */
export function readConfigInput(env: Env): { input: unknown; missingFile?: string } {
  const path = env.DINGCLAW_CONFIG ?? DEFAULT_CONFIG_PATH;
  let text: string;
  let origin: string;
  if (env.DINGCLAW_CONFIG_JSON) {
    text = env.DINGCLAW_CONFIG_JSON;
    origin = "DINGCLAW_CONFIG_JSON";
  } else {
    origin = path;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && !env.DINGCLAW_CONFIG) return { input: {}, missingFile: path };
      throw new ConfigError([`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`]);
    }
  }
  try {
    return { input: JSON.parse(text) };
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new ConfigError([`${origin}: is not valid JSON${at ? ` (near character ${at})` : ""}`]);
  }
}

export function setPath(obj: Record<string, unknown>, path: readonly string[], value: string): void {
  let node = obj;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** Environment variables that override the DingTalk app's credentials in the config. */
export const CREDENTIAL_OVERRIDES = [
  ["DINGTALK_CLIENT_ID", ["channels", "dingtalk", "client_id"]],
  ["DINGTALK_CLIENT_SECRET", ["channels", "dingtalk", "client_secret"]],
  ["DINGTALK_ROBOT_CODE", ["channels", "dingtalk", "robot_code"]],
] as const;

interface CredentialFields {
  enabled: boolean;
  client_id: string | undefined;
  client_secret: string | undefined;
  robot_code: string | undefined;
}

/** The app's credentials (the secret registered for masking), undefined when none or the channel is off. */
export function dingtalkCredentials(dt: CredentialFields, problems: string[], problem: Problem): DingTalkConfig | undefined {
  if (!dt.enabled) return undefined;
  if (dt.client_id && !dt.client_secret) problems.push(problem(["channels", "dingtalk", "client_secret"], "is missing while client_id is set"));
  else if (!dt.client_id && dt.client_secret) problems.push(problem(["channels", "dingtalk", "client_id"], "is missing while client_secret is set"));
  else if (dt.client_id && dt.client_secret) {
    registerSecret(dt.client_secret);
    return { clientId: dt.client_id, clientSecret: dt.client_secret, robotCode: dt.robot_code ?? dt.client_id };
  }
  return undefined;
}

export function tableSettings(env: Env): TableSettings {
  return {
    kind: tableKind(env.DINGCLAW_TABLE_KIND, env.DINGCLAW_TABLE_ENDPOINT),
    endpoint: env.DINGCLAW_TABLE_ENDPOINT,
    name: env.DINGCLAW_TABLE_NAME,
    dataDir: env.DINGCLAW_DATA_DIR,
    region: tableRegion(env),
    instance: env.DINGCLAW_TABLE_INSTANCE ?? instanceOf(env.DINGCLAW_TABLE_ENDPOINT),
  };
}

const CallbackConfigSchema = z.looseObject({
  channels: z.prefault(
    z.looseObject({
      dingtalk: z.prefault(
        z.looseObject({ enabled: z._default(z.boolean(), true), client_id: optionalText, client_secret: optionalText, robot_code: optionalText }),
        {},
      ),
    }),
    {},
  ),
});

export interface CallbackConfig {
  credentials: DingTalkConfig | undefined;
  table: TableSettings;
}

function callbackProblem(path: readonly PropertyKey[], what: string): string {
  return `${path.join(".")}: ${what}`;
}

/** What the callback reads: the credentials (same rules and overrides as loadConfig) and the table. */
export function loadCallbackConfig(source: EnvSource = process.env, env: Env = readEnv(source)): CallbackConfig {
  const { input } = readConfigInput(env);
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new ConfigError(['(root): must be a JSON object (example: {"model_list": [], "channels": {}})']);
  const merged = structuredClone(input) as Record<string, unknown>;
  for (const [name, path] of CREDENTIAL_OVERRIDES) {
    const value = env[name];
    if (value) setPath(merged, path, value);
  }
  const parsed = CallbackConfigSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => callbackProblem(i.path, i.message)));
  const problems: string[] = [];
  const credentials = dingtalkCredentials(parsed.data.channels.dingtalk, problems, callbackProblem);
  if (problems.length > 0) throw new ConfigError(problems);
  return { credentials, table: tableSettings(env) };
}
