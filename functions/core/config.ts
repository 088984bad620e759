// Configuration: one zod schema for a PicoClaw-compatible config.json, environment overrides and
// defaults, resolved into the typed AppConfig every other module reads. Unknown fields are kept
// and ignored; every error names the field, what is wrong and an example of a right value.
import * as z from "zod";
import {
  ConfigError,
  CREDENTIAL_OVERRIDES,
  dingtalkCredentials,
  optionalText,
  readConfigInput,
  setPath,
  tableSettings,
  type DingTalkConfig,
  type TableSettings,
} from "./config-base.js";
import { readEnv, type Env, type EnvSource } from "./env.js";
import { keyHints, type KnownKeys } from "./config-hints.js";
import { PROVIDER_NAMES, providerBaseUrl } from "./llm/providers.js";
import { registerSecret } from "./log.js";
import { isTimeZone } from "./time-zone.js";
import { ScheduleSchema, resolveSchedules, type ScheduleConfig } from "./proactive/config.js";
import { ToolsSchema, resolveTools, type ToolsConfig } from "./tools/config.js";
import { isHttpUrl, trimSlashes } from "./url.js";

const EXAMPLES: Record<string, string> = {
  "model_list[].model_name": '"glm-4"',
  "model_list[].model": '"zhipu/glm-4.7"',
  "model_list[].api_key": '"<your provider API key>"',
  "model_list[].api_base": '"https://open.bigmodel.cn/api/paas/v4"',
  "model_list[].price": '{ "input": 4, "output": 16 }',
  "model_list[].price.input": "4",
  "model_list[].price.output": "16",
  "model_list[].allow_from": '["manager4711"]',
  "agents.defaults.model_name": '"glm-4"',
  "agents.defaults.model_fallbacks": '["qwen-plus", "deepseek"]',
  "agents.defaults.max_tokens": "2048",
  "agents.defaults.temperature": "0.7",
  "agents.defaults.max_history_tokens": "8000",
  "agents.defaults.conversation_ttl_days": "7",
  "agents.defaults.llm_timeout_ms": "60000",
  "agents.defaults.vision_model": '"qwen-vl"',
  "agents.defaults.max_tool_iterations": "8",
  "agents.defaults.turn_budget_ms": "180000",
  "agents.defaults.timezone": '"Asia/Shanghai"',
  "limits.user_daily_tokens": "200000",
  "limits.group_daily_tokens": "500000",
  "limits.org_monthly_tokens": "50000000",
  "limits.user_messages_per_minute": "10",
  "schedules[].name": '"daily-ai-news"',
  "schedules[].cron": '"0 9 * * 1-5"',
  "schedules[].timezone": '"Asia/Shanghai"',
  "schedules[].to": '{"group": "cidXXXXXXXX=="}',
  "schedules[].text": '"早上好，记得填写日报"',
  "tools.web.zhipu.api_key": '"<your Zhipu API key>"',
  "tools.dingtalk.contact_fields": '["email"]',
  "tools.mcp.servers[].name": '"docs"',
  "tools.mcp.servers[].url": '"https://mcp.example.com/mcp"',
  "channels.dingtalk.client_id": '"dingxxxxxxxxxxxxxx"',
  "channels.dingtalk.client_secret": '"<Client Secret from the DingTalk developer console>"',
  "channels.dingtalk.allow_from": '["manager4711"]',
  "channels.dingtalk.admins": '["manager4711"]',
  "channels.dingtalk.notify_token": '"<a long random string>"',
  "channels.dingtalk.mode": '"stream"',
  "channels.dingtalk.group_scope": '"conversation"',
  "channels.dingtalk.card_mode": '"answer"',
  "channels.dingtalk.card_template_id": '"8aebdfb9-28f4-4a98-98f5-396c3dde41a0.schema"',
  "channels.dingtalk.card_content_key": '"content"',
  "channels.dingtalk.card_update_interval_ms": "500",
  "channels.dingtalk.api_monthly_budget": "5000",
  "channels.dingtalk.card_max_bytes": "3000",
  "channels.dingtalk.api_qps": "15",
  "channels.dingtalk.file_max_bytes": "100000",
  "channels.dingtalk.image_max_bytes": "3145728",
  "channels.dingtalk.download_timeout_ms": "15000",
  "audit.include_content": "false",
};

/** One model_list entry that works, and the smallest config using it, as guides and errors show them. */
export const MODEL_ENTRY_EXAMPLE = '{ "model_name": "glm-4", "model": "zhipu/glm-4.7", "api_key": "..." }';
export const MODEL_CONFIG_EXAMPLE = [
  `{ "model_list": [ ${MODEL_ENTRY_EXAMPLE} ],`,
  '  "agents": { "defaults": { "model_name": "glm-4" } } }',
];

const httpUrl = z
  .string()
  .trim()
  .refine((v) => v === "" || isHttpUrl(v), { error: "must be an http(s) URL" })
  .optional()
  .transform((v) => (v ? trimSlashes(v) : undefined));

const staffIds = z.array(z.union([z.string(), z.number()]).transform(String)).default([]);

const ModelEntrySchema = z.looseObject({
  model_name: z.string().trim().min(1, { error: "must not be empty" }),
  model: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]+\/\S+$/, { error: 'must be "provider/model-id" with a slash' }),
  api_key: optionalText,
  api_base: httpUrl,
  vision: z.boolean().optional(),
  /** false: never offer this endpoint tools (e.g. a vision-only model). */
  tools: z.boolean().optional(),
  /** CNY per million tokens, as the provider bills them. */
  price: z
    .object({
      input: z.number().nonnegative({ error: "must be a number of CNY per million tokens, 0 or more" }),
      output: z.number().nonnegative({ error: "must be a number of CNY per million tokens, 0 or more" }),
    })
    .optional(),
  /** Staff ids who may use this entry; empty: everyone. */
  allow_from: staffIds,
});

const DefaultsSchema = z.looseObject({
  model_name: optionalText,
  model: optionalText,
  model_fallbacks: z.array(z.string().trim().min(1)).default([]),
  system_prompt: optionalText,
  max_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_history_tokens: z.number().int().min(256).default(8000),
  conversation_ttl_days: z.number().positive().max(365).default(7),
  llm_timeout_ms: z.number().int().min(1000).default(60_000),
  vision_model: optionalText,
  max_tool_iterations: z.number().int().min(1).max(50).default(8),
  /** The whole turn (every LLM round and tool call); keep it under the worker's timeout (300 s). */
  turn_budget_ms: z.number().int().min(10_000).max(900_000).default(180_000),
  /** IANA zone where a day starts at 00:00 (daily limits, dates the bot shows). */
  timezone: z
    .string()
    .trim()
    .refine(isTimeZone, { error: "must be an IANA time zone name" })
    .default("Asia/Shanghai"),
});

const DingTalkSchema = z.looseObject({
  enabled: z.boolean().default(true),
  client_id: optionalText,
  client_secret: optionalText,
  robot_code: optionalText,
  allow_from: staffIds,
  admins: staffIds,
  /** Bearer token of the gateway's POST /notify; unset: the route does not exist. */
  notify_token: optionalText,
  mode: z.enum(["stream", "http"]).default("stream"),
  group_scope: z.enum(["conversation", "sender"]).default("conversation"),
  card_mode: z.enum(["off", "answer"]).default("off"),
  card_template_id: optionalText,
  card_content_key: z.string().trim().min(1, { error: "must not be empty" }).max(100).default("content"),
  card_update_interval_ms: z.number().int().min(100, { error: "must be at least 100" }).default(500),
  // AI-card streaming update: "内容 size 单次不要超过 1 K，总大小建议不要超过 3 K" (AI卡片流式更新,
  // open.dingtalk.com/document/development/api-streamingupdate); markdown updates carry the whole text.
  card_max_bytes: z.number().int().min(300, { error: "must be at least 300" }).max(20_000).default(3000),
  api_monthly_budget: z.number().int().min(1).default(5000),
  // DingTalk's documented app limit is 20 calls per second per API (standard orgs); 15 leaves room
  // for windows that do not line up with DingTalk's.
  api_qps: z.number().int().min(1).max(1000).default(15),
  file_max_bytes: z.number().int().min(1).max(10_000_000).default(100_000),
  image_max_bytes: z.number().int().min(1).max(20_000_000).default(3_145_728),
  download_timeout_ms: z.number().int().min(1000).default(15_000),
});

const AuditSchema = z.looseObject({
  /** Put the user's message and the reply into each turn's audit line (default: never). */
  include_content: z.boolean().default(false),
});

const limit = (unit: string) => {
  const error = `must be a whole number of ${unit}, 0 for no limit`;
  return z.number().int({ error }).nonnegative({ error }).default(0);
};

/** Spending limits; 0 (or absent) means no limit. */
const LimitsSchema = z.looseObject({
  user_daily_tokens: limit("tokens"),
  group_daily_tokens: limit("tokens"),
  org_monthly_tokens: limit("tokens"),
  user_messages_per_minute: limit("messages"),
});

// `prefault({})`: a missing section is parsed as an empty one, so its defaults are the schema's own.
const ConfigSchema = z.looseObject({
  agents: z.looseObject({ defaults: DefaultsSchema.prefault({}) }).prefault({}),
  model_list: z.array(ModelEntrySchema).default([]),
  channels: z.looseObject({ dingtalk: DingTalkSchema.prefault({}) }).prefault({}),
  tools: ToolsSchema.optional(),
  schedules: z.array(ScheduleSchema).default([]),
  audit: AuditSchema.prefault({}),
  limits: LimitsSchema.prefault({}),
});

type RawConfig = z.output<typeof ConfigSchema>;

export interface ModelEndpoint {
  /** The `model_name` users and `/model` refer to; several endpoints may share it. */
  name: string;
  provider: string;
  /** The id sent to the provider: the part of `model` after the first slash. */
  model: string;
  baseURL: string;
  apiKey: string | undefined;
  vision: boolean;
  /** Whether requests to this endpoint may carry tools (model_list[].tools, default true). */
  tools: boolean;
  /** CNY per million prompt (input) and completion (output) tokens; absent: cost unknown. */
  price?: { input: number; output: number };
  /** Staff ids who may use this entry (admins always may); empty: everyone. */
  allowFrom: string[];
}

export interface LimitsConfig {
  /** Prompt + completion tokens per user per day (agents.defaults.timezone). */
  userDailyTokens: number;
  /** Per group conversation per day. */
  groupDailyTokens: number;
  /** The whole organisation per month. */
  orgMonthlyTokens: number;
  /** Messages that reach the model per user per minute. */
  userMessagesPerMinute: number;
}

export { ConfigError, type DingTalkConfig };

export interface AppConfig {
  dingtalk: {
    /** Absent when no credentials are configured (the gateway still starts and says what to set). */
    credentials: DingTalkConfig | undefined;
    allowFrom: string[];
    /** Staff ids with admin rights (see access.ts). */
    admins: string[];
    mode: "stream" | "http";
    groupScope: "conversation" | "sender";
    apiBase: string;
    oapiBase: string;
    /** Streaming AI cards for answers (reference §5); `mode: "off"` means markdown only. */
    cards: { mode: "off" | "answer"; templateId: string | undefined; contentKey: string; updateIntervalMs: number; maxBytes: number };
    /** POST /notify's bearer token (channels.dingtalk.notify_token or DINGCLAW_NOTIFY_TOKEN). */
    notifyToken: string | undefined;
    /** DingTalk OpenAPI calls per second for the whole app (every host and FC instance together). */
    apiQps: number;
    /** DingTalk API calls per month this app may spend (DingTalk's free tier: 5,000). */
    apiMonthlyBudget: number;
    /** Inbound media limits (pictures, files). */
    media: { fileMaxBytes: number; imageMaxBytes: number; downloadTimeoutMs: number };
  };
  agent: {
    primary: string | undefined;
    fallbacks: string[];
    systemPrompt: string | undefined;
    maxTokens: number | undefined;
    temperature: number | undefined;
    maxHistoryTokens: number;
    conversationTtlSeconds: number;
    llmTimeoutMs: number;
    /** The model_name used for turns with pictures when the current model has no vision. */
    visionModel: string | undefined;
    /** Rounds of tool calls per turn before the last answer without tools. */
    maxToolIterations: number;
    /** Time budget of a whole turn with tools, ms. */
    turnBudgetMs: number;
    /** IANA time zone of the org's calendar (time-zone.ts). */
    timezone: string;
  };
  tools: ToolsConfig;
  /** Token and message limits (config `limits`); 0: no limit. Admins are exempt. */
  limits: LimitsConfig;
  /** Scheduled posts (enabled ones). */
  schedules: ScheduleConfig[];
  models: ModelEndpoint[];
  /** The per-turn audit line (audit.ts). */
  audit: { includeContent: boolean };
  table: TableSettings;
  /** Problems that do not stop the bot (e.g. an unused entry with an unknown provider). */
  warnings: string[];
  /** Unknown keys that look like another bot's spelling of ours: one "did you mean" line each. */
  hints: string[];
  /** The config file that was looked for and does not exist (every setting then comes from the environment). */
  missingFile: string | undefined;
  /** The parsed file, unknown fields included, for features that read their own sections. */
  raw: RawConfig;
}

function pathText(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

function problem(path: readonly PropertyKey[], what: string): string {
  const example = EXAMPLES[pathText(path).replace(/\[\d+\]/g, "[]")];
  return `${pathText(path) || "(root)"}: ${what}${example ? ` (example: ${example})` : ""}`;
}

const ENV_OVERRIDES = [
  ...CREDENTIAL_OVERRIDES,
  ["DINGTALK_MODE", ["channels", "dingtalk", "mode"]],
  ["DINGCLAW_MODEL", ["agents", "defaults", "model_name"]],
  ["DINGCLAW_NOTIFY_TOKEN", ["channels", "dingtalk", "notify_token"]],
] as const;

/** `source`: the raw environment, for `${env:NAME}` references in the tools section. */
function resolve(raw: RawConfig, env: Env, source: EnvSource): Omit<AppConfig, "hints" | "missingFile"> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const defaults = raw.agents.defaults;

  const names = [...new Set(raw.model_list.map((m) => m.model_name))];
  const primary = defaults.model_name ?? defaults.model ?? names[0];
  const inUse = new Set<string>();
  if (primary && names.length > 0) {
    if (names.includes(primary)) inUse.add(primary);
    else
      problems.push(
        problem(["agents", "defaults", "model_name"], `"${primary}" names no model_list entry (choices: ${names.join(", ")})`),
      );
  }
  defaults.model_fallbacks.forEach((name, i) => {
    if (names.includes(name)) inUse.add(name);
    else
      problems.push(
        problem(
          ["agents", "defaults", "model_fallbacks", i],
          `"${name}" names no model_list entry (choices: ${names.join(", ") || "none"})`,
        ),
      );
  });

  const models: ModelEndpoint[] = [];
  raw.model_list.forEach((entry, i) => {
    const slash = entry.model.indexOf("/");
    const provider = entry.model.slice(0, slash).toLowerCase();
    const baseURL = entry.api_base ?? providerBaseUrl(provider);
    if (!baseURL) {
      const what = `unknown provider "${provider}" needs api_base (known: ${PROVIDER_NAMES.join(", ")})`;
      if (inUse.has(entry.model_name)) problems.push(problem(["model_list", i, "api_base"], what));
      else warnings.push(`model_list[${i}] ("${entry.model_name}") is unusable: ${what}`);
      return;
    }
    registerSecret(entry.api_key);
    models.push({
      name: entry.model_name,
      provider,
      model: entry.model.slice(slash + 1),
      baseURL,
      apiKey: entry.api_key,
      vision: entry.vision ?? false,
      tools: entry.tools ?? true,
      ...(entry.price ? { price: { input: entry.price.input, output: entry.price.output } } : {}),
      allowFrom: entry.allow_from,
    });
  });

  if (defaults.vision_model) {
    const path = ["agents", "defaults", "vision_model"];
    if (!names.includes(defaults.vision_model))
      problems.push(problem(path, `"${defaults.vision_model}" names no model_list entry (choices: ${names.join(", ") || "none"})`));
    else if (!raw.model_list.some((m) => m.model_name === defaults.vision_model && m.vision))
      problems.push(problem(path, `"${defaults.vision_model}" has no model_list entry with "vision": true`));
  }

  if (models.length > 0 && models.every((m) => m.allowFrom.length > 0))
    warnings.push("model_list: every entry has allow_from, so only the staff listed there (and admins) can be answered");

  const dt = raw.channels.dingtalk;
  if (dt.card_mode === "answer" && !dt.card_template_id)
    problems.push(problem(["channels", "dingtalk", "card_template_id"], 'is required when card_mode is "answer"'));
  const credentials = dingtalkCredentials(dt, problems, problem);

  const tools = resolveTools(raw.tools, source, warnings, problems, problem);
  const schedules = resolveSchedules(raw.schedules, defaults.timezone, problems, problem);
  registerSecret(dt.notify_token);

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    dingtalk: {
      credentials,
      allowFrom: dt.allow_from,
      admins: dt.admins,
      notifyToken: dt.notify_token,
      mode: dt.mode,
      groupScope: dt.group_scope,
      apiBase: env.DINGTALK_API_BASE,
      oapiBase: env.DINGTALK_OAPI_BASE,
      cards: {
        mode: dt.card_mode,
        templateId: dt.card_template_id,
        contentKey: dt.card_content_key,
        updateIntervalMs: dt.card_update_interval_ms,
        maxBytes: dt.card_max_bytes,
      },
      apiQps: dt.api_qps,
      apiMonthlyBudget: dt.api_monthly_budget,
      media: {
        fileMaxBytes: dt.file_max_bytes,
        imageMaxBytes: dt.image_max_bytes,
        downloadTimeoutMs: dt.download_timeout_ms,
      },
    },
    agent: {
      primary: models.some((m) => m.name === primary) ? primary : models[0]?.name,
      fallbacks: defaults.model_fallbacks.filter((n) => n !== primary),
      systemPrompt: defaults.system_prompt,
      maxTokens: defaults.max_tokens,
      temperature: defaults.temperature,
      maxHistoryTokens: defaults.max_history_tokens,
      conversationTtlSeconds: Math.round(defaults.conversation_ttl_days * 86_400),
      llmTimeoutMs: defaults.llm_timeout_ms,
      visionModel: defaults.vision_model,
      maxToolIterations: defaults.max_tool_iterations,
      turnBudgetMs: defaults.turn_budget_ms,
      timezone: defaults.timezone,
    },
    tools,
    limits: {
      userDailyTokens: raw.limits.user_daily_tokens,
      groupDailyTokens: raw.limits.group_daily_tokens,
      orgMonthlyTokens: raw.limits.org_monthly_tokens,
      userMessagesPerMinute: raw.limits.user_messages_per_minute,
    },
    schedules,
    models,
    audit: { includeContent: raw.audit.include_content },
    table: tableSettings(env),
    warnings,
    raw,
  };
}

/** Validates a config object (already read from JSON) with the environment's overrides applied. */
export function parseConfig(input: unknown, source: EnvSource = {}): AppConfig {
  return parseWithEnv(input, readEnv(source), source);
}

const KNOWN_KEYS: KnownKeys = {
  root: Object.keys(ConfigSchema.shape),
  defaults: Object.keys(DefaultsSchema.shape),
  model: Object.keys(ModelEntrySchema.shape),
  dingtalk: Object.keys(DingTalkSchema.shape),
};

function parseWithEnv(input: unknown, env: Env, source: EnvSource, missingFile?: string): AppConfig {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new ConfigError(['(root): must be a JSON object (example: {"model_list": [], "channels": {}})']);
  const hints = keyHints(input as Record<string, unknown>, KNOWN_KEYS);
  const merged = structuredClone(input) as Record<string, unknown>;
  for (const [name, path] of ENV_OVERRIDES) {
    const value = env[name];
    if (value) setPath(merged, [...path], value);
  }
  try {
    const parsed = ConfigSchema.safeParse(merged);
    if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => problem(i.path, i.message)));
    return { ...resolve(parsed.data, env, source), hints, missingFile };
  } catch (err) {
    if (err instanceof ConfigError && hints.length > 0) throw new ConfigError([...err.problems, ...hints]);
    throw err;
  }
}

/**
 * Loads the config: inline JSON from `DINGCLAW_CONFIG_JSON` (how FC functions get it), else the file
 * at `DINGCLAW_CONFIG` (default ./config.json). A missing default file means "all defaults".
 */
export function loadConfig(source: EnvSource = process.env): AppConfig {
  const env = readEnv(source);
  const { input, missingFile } = readConfigInput(env);
  return parseWithEnv(input, env, source, missingFile);
}
