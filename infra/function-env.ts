// The environment variables each function gets: the bot config as compact inline JSON (the callback
// only its DingTalk section, so LLM keys never reach it), the table, and serverless.yml's
// `environment` values. FC allows about 4 KB in total per function; going over fails the deploy
// with the largest variables named.
import { readFileSync } from "node:fs";
import path from "node:path";
import { ConfigError, parseConfig, type AppConfig } from "../functions/core/config.js";
import { registerSecret } from "../functions/core/log.js";
import { DeployError } from "./errors.js";
import type { DeploySettings, FunctionName } from "./settings.js";

/** FC's limit on the total size of a function's environment variables (keys plus values, bytes). */
export const FC_ENV_LIMIT_BYTES = 4096;

export interface BotConfig {
  /** The file as parsed JSON (an empty object when the default file does not exist). */
  raw: Record<string, unknown>;
  /** Validated with the same rules as the functions, including environment overrides. */
  config: AppConfig;
  source: string;
}

/** Reads and validates the bot config (DINGCLAW_CONFIG_JSON, else the DINGCLAW_CONFIG file) as the functions will see it. */
export function readBotConfig(settings: DeploySettings, root: string, env: Record<string, string>): BotConfig {
  let raw: unknown = {};
  let source = settings.configPath;
  if (settings.configJson) {
    source = "DINGCLAW_CONFIG_JSON";
    try {
      raw = JSON.parse(settings.configJson);
    } catch {
      throw new DeployError("DINGCLAW_CONFIG_JSON: is not valid JSON");
    }
  } else {
    try {
      raw = JSON.parse(readFileSync(path.resolve(root, settings.configPath), "utf8"));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && !settings.configPathExplicit) source = "(no config file: environment only)";
      else if (code) throw new DeployError(`DINGCLAW_CONFIG ${settings.configPath}: cannot be read (${code})`);
      else throw new DeployError(`DINGCLAW_CONFIG ${settings.configPath}: is not valid JSON`);
    }
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new DeployError(`${source}: must be a JSON object`);
  let config: AppConfig;
  try {
    config = parseConfig(raw, env);
  } catch (err) {
    if (err instanceof ConfigError) throw new DeployError(`${source}: ${err.problems.join("; ")}`);
    throw err;
  }
  if (!config.dingtalk.credentials)
    throw new DeployError(
      `DingTalk credentials missing: set channels.dingtalk.client_id and client_secret in ${settings.configPath} ` +
        "or DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET (the app's Client ID and Client Secret)",
    );
  return { raw: raw as Record<string, unknown>, config, source };
}

function pick(obj: unknown, key: string): unknown {
  return typeof obj === "object" && obj !== null && !Array.isArray(obj) ? (obj as Record<string, unknown>)[key] : undefined;
}

/** The parts of the config a function reads, as one-line JSON. Other channels and tools are left out. */
export function compactConfig(raw: Record<string, unknown>, fn: FunctionName): string {
  const dingtalk = pick(pick(raw, "channels"), "dingtalk");
  const out: Record<string, unknown> = {};
  if (fn === "worker" || fn === "scheduler") {
    if (raw.agents !== undefined) out.agents = raw.agents;
    // The scheduler finds due schedules; the worker runs their prompts.
    if (raw.schedules !== undefined) out.schedules = raw.schedules;
  }
  // The worker runs turns: the models, their tools (reminders' limits, web search), usage limits and the audit line.
  if (fn === "worker") for (const key of ["model_list", "tools", "limits", "audit"]) if (raw[key] !== undefined) out[key] = raw[key];
  if (dingtalk !== undefined) out.channels = { dingtalk };
  return JSON.stringify(out);
}

function envBytes(env: Record<string, string>): number {
  return Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
}

/** The full environment of one function; throws DeployError past FC's 4 KB limit. */
export function functionEnvironment(settings: DeploySettings, bot: BotConfig, fn: FunctionName): Record<string, string> {
  const t = settings.table;
  if (!t.endpoint)
    throw new DeployError(
      "the table endpoint is not set: set DINGCLAW_TABLE_ENDPOINT (provider.table.endpoint), e.g. your Tablestore instance's " +
        '"https://dingclaw.cn-hangzhou.ots.aliyuncs.com" or your PolarDB DynamoDB endpoint "http://pc-xxx.pg.polardb.rds.aliyuncs.com:5432"',
    );
  registerSecret(t.secretAccessKey);
  // Tablestore: the functions sign with their role's temporary credentials, so no table key is passed.
  const table: Record<string, string> =
    t.kind === "tablestore"
      ? { DINGCLAW_TABLE_KIND: "tablestore", DINGCLAW_TABLE_ENDPOINT: t.endpoint, DINGCLAW_TABLE_INSTANCE: t.instance ?? "", DINGCLAW_TABLE_NAME: t.name }
      : {
          DINGCLAW_TABLE_ENDPOINT: t.endpoint,
          DINGCLAW_TABLE_NAME: t.name,
          ...(t.region ? { AWS_REGION: t.region } : {}),
          ...(t.accessKeyId ? { AWS_ACCESS_KEY_ID: t.accessKeyId } : {}),
          ...(t.secretAccessKey ? { AWS_SECRET_ACCESS_KEY: t.secretAccessKey } : {}),
        };
  const env: Record<string, string> = {
    ...settings.environment,
    ...settings.functions[fn]?.environment,
    DINGCLAW_CONFIG_JSON: compactConfig(bot.raw, fn),
    ...table,
  };
  const reserved = Object.keys(env).filter((k) => k.startsWith("FC_") || !/^[A-Za-z][A-Za-z0-9_]*$/.test(k));
  if (reserved.length > 0)
    throw new DeployError(`environment of ${fn}: ${reserved.join(", ")} cannot be used (FC_* is reserved; names are letters, digits and _)`);
  const size = envBytes(env);
  if (size > FC_ENV_LIMIT_BYTES) {
    const largest = Object.entries(env)
      .map(([k, v]) => [k, Buffer.byteLength(k) + Buffer.byteLength(v)] as const)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, n]) => `${k} ${n} B`)
      .join(", ");
    throw new DeployError(
      `the environment of function ${fn} is ${size} bytes, over FC's ${FC_ENV_LIMIT_BYTES}-byte limit (largest: ${largest}): ` +
        "shorten the config (fewer model_list entries, a shorter system_prompt) or move values out of serverless.yml's environment",
    );
  }
  return env;
}
