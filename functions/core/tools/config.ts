// The `tools` section of config.json (PicoClaw's shape where it has one): `tools.web.<provider>` search
// providers, `tools.web_fetch`, `tools.dingtalk` (find_colleague and its contact-field policy) and
// `tools.mcp.servers` (a list, or PicoClaw's map of name → server), `tools.reminders` (limits per user). Entries we do not support load
// with a warning; secrets (API keys, header values) are registered so no log line shows them.
import * as z from "zod";
import { registerSecret } from "../log.js";
import { isHttpUrl, trimSlashes } from "../url.js";

export const SEARCH_PROVIDERS = ["zhipu", "bocha", "tavily"] as const;
export type SearchProviderName = (typeof SEARCH_PROVIDERS)[number];

/** PicoClaw's names for the same providers. */
const PROVIDER_ALIASES: Record<string, SearchProviderName> = { glm_search: "zhipu", glm: "zhipu", zhipu: "zhipu", bocha: "bocha", tavily: "tavily" };

/** Fields of a colleague beyond name, title, departments and userId that `contact_fields` may allow. */
export const CONTACT_FIELDS = ["mobile", "email", "org_email", "telephone", "job_number", "work_place"] as const;
export type ContactField = (typeof CONTACT_FIELDS)[number];

const url = z
  .string()
  .trim()
  .refine(isHttpUrl, { error: "must be an http(s) URL" })
  .transform(trimSlashes);

const SearchEntrySchema = z.looseObject({
  enabled: z.boolean().default(false),
  api_key: z.string().trim().optional(),
  api_base: url.optional(),
  base_url: url.optional(),
  max_results: z.number().int().min(1).max(20).default(5),
  /** Zhipu only: search_std (default), search_pro, search_pro_sogou, search_pro_quark. */
  search_engine: z.string().trim().min(1).optional(),
});

const McpServerSchema = z
  .looseObject({
    name: z.string().trim().regex(/^[A-Za-z0-9_-]{1,30}$/, { error: "must be 1-30 letters, digits, _ or -" }).optional(),
    enabled: z.boolean().default(true),
    url: url.optional(),
    type: z.enum(["http", "streamable-http", "sse", "stdio"]).optional(),
    headers: z.record(z.string(), z.string()).default({}),
    command: z.string().trim().min(1).optional(),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}),
    allow: z.array(z.string().min(1)).optional(),
    timeout_ms: z.number().int().min(500).max(120_000).optional(),
  })
  .refine((s) => Boolean(s.url) !== Boolean(s.command), { error: 'needs either "url" or "command" (not both)' });

export const ToolsSchema = z.looseObject({
  web: z.record(z.string(), z.unknown()).default({}),
  web_fetch: z.looseObject({ enabled: z.boolean().default(true), max_bytes: z.number().int().min(1000).max(5_000_000).optional() }).optional(),
  dingtalk: z
    .looseObject({
      enabled: z.boolean().default(true),
      contact_fields: z.array(z.enum(CONTACT_FIELDS)).default([]),
    })
    .optional(),
  mcp: z
    .looseObject({
      enabled: z.boolean().default(true),
      servers: z.union([z.array(McpServerSchema), z.record(z.string(), McpServerSchema)]).default([]),
    })
    .optional(),
  reminders: z
    .looseObject({
      enabled: z.boolean().default(true),
      max_per_user: z.number().int().min(1).max(500).default(20),
      min_interval_minutes: z.number().int().min(1).max(10_080).default(60),
    })
    .optional(),
});

export interface SearchProviderConfig {
  name: SearchProviderName;
  apiKey: string;
  /** Base URL without a trailing slash; the provider adds its path. */
  apiBase: string;
  maxResults: number;
  searchEngine?: string;
}

export interface McpServerConfig {
  name: string;
  transport: "http" | "sse" | "stdio";
  url?: string;
  /** With `${env:NAME}` already replaced. */
  headers: Record<string, string>;
  command?: string;
  args: string[];
  env: Record<string, string>;
  /** Only these tools are offered; undefined: all. */
  allow?: string[];
  timeoutMs: number;
}

export interface ToolsConfig {
  /** Enabled search providers in the order they are tried. */
  search: SearchProviderConfig[];
  webFetch: { enabled: boolean; maxBytes: number };
  dingtalk: { enabled: boolean; contactFields: ContactField[] };
  mcp: McpServerConfig[];
  /** Reminder tools: active reminders a person may have, and the shortest recurrence. */
  reminders: { enabled: boolean; maxPerUser: number; minIntervalMinutes: number };
}

export const DEFAULT_SEARCH_BASES: Record<SearchProviderName, string> = {
  zhipu: "https://open.bigmodel.cn/api/paas/v4",
  bocha: "https://api.bochaai.com",
  tavily: "https://api.tavily.com",
};

const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

export type Problem = (path: PropertyKey[], what: string) => string;

/** Resolves the parsed section; problems that make a section unusable are warnings, never fatal. */
export function resolveTools(
  raw: z.output<typeof ToolsSchema> | undefined,
  env: Record<string, string | undefined>,
  warnings: string[],
  problems: string[],
  problem: Problem,
): ToolsConfig {
  const search: SearchProviderConfig[] = [];
  for (const [key, value] of Object.entries(raw?.web ?? {})) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) continue; // PicoClaw's `proxy`, `enabled`, …
    const name = PROVIDER_ALIASES[key];
    const parsed = SearchEntrySchema.safeParse(value);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((i) => problem(["tools", "web", key, ...i.path], i.message)));
      continue;
    }
    if (!name) {
      if (parsed.data.enabled) warnings.push(`tools.web.${key}: search provider not supported here (supported: ${SEARCH_PROVIDERS.join(", ")}); ignored`);
      continue;
    }
    if (!parsed.data.enabled) continue;
    if (!parsed.data.api_key) {
      warnings.push(`tools.web.${key}: enabled but api_key is empty; the provider is not used`);
      continue;
    }
    registerSecret(parsed.data.api_key);
    if (search.some((s) => s.name === name)) continue;
    search.push({
      name,
      apiKey: parsed.data.api_key,
      apiBase: parsed.data.api_base ?? parsed.data.base_url ?? DEFAULT_SEARCH_BASES[name],
      maxResults: parsed.data.max_results,
      ...(parsed.data.search_engine ? { searchEngine: parsed.data.search_engine } : {}),
    });
  }

  const mcp: McpServerConfig[] = [];
  const servers = raw?.mcp?.servers ?? [];
  const list = Array.isArray(servers) ? servers.map((s, i) => [i, s.name, s] as const) : Object.entries(servers).map(([k, s]) => [k, s.name ?? k, s] as const);
  if (raw?.mcp?.enabled !== false) {
    for (const [at, name, s] of list) {
      const where = `tools.mcp.servers${typeof at === "number" ? `[${at}]` : `.${at}`}`;
      if (!s.enabled) continue;
      if (!name || !/^[A-Za-z0-9_-]{1,30}$/.test(name)) {
        problems.push(problem(["tools", "mcp", "servers", at, "name"], "must be 1-30 letters, digits, _ or - (it prefixes the tool names)"));
        continue;
      }
      if (mcp.some((m) => m.name === name)) {
        problems.push(problem(["tools", "mcp", "servers", at, "name"], `"${name}" is used by another server`));
        continue;
      }
      const missing: string[] = [];
      const headers = Object.fromEntries(
        Object.entries(s.headers).map(([h, v]) => [
          h,
          v.replace(ENV_REF, (_, envName: string) => {
            const found = env[envName];
            if (found === undefined || found === "") missing.push(envName);
            return found ?? "";
          }),
        ]),
      );
      if (missing.length > 0) {
        warnings.push(`${where} ("${name}"): environment variable ${missing.join(", ")} is not set; the server is not used`);
        continue;
      }
      for (const v of Object.values(headers)) registerSecret(v);
      for (const v of Object.values(s.env)) registerSecret(v);
      const transport = s.command ? "stdio" : s.type === "sse" ? "sse" : "http";
      mcp.push({
        name,
        transport,
        ...(s.url ? { url: s.url } : {}),
        headers,
        ...(s.command ? { command: s.command } : {}),
        args: s.args,
        env: s.env,
        ...(s.allow ? { allow: s.allow } : {}),
        timeoutMs: s.timeout_ms ?? 10_000,
      });
    }
  }

  return {
    search,
    webFetch: { enabled: raw?.web_fetch?.enabled ?? true, maxBytes: raw?.web_fetch?.max_bytes ?? 2_000_000 },
    dingtalk: { enabled: raw?.dingtalk?.enabled ?? true, contactFields: raw?.dingtalk?.contact_fields ?? [] },
    mcp,
    reminders: {
      enabled: raw?.reminders?.enabled ?? true,
      maxPerUser: raw?.reminders?.max_per_user ?? 20,
      minIntervalMinutes: raw?.reminders?.min_interval_minutes ?? 60,
    },
  };
}
