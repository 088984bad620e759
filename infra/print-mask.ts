// `serverless print` shows the resolved serverless.yml: before it does, secret values in it are masked
// as every other command masks them. Secret: any value under a key that names a secret (the table's
// secretAccessKey, DINGTALK_CLIENT_SECRET, …), inside the inline bot config (client_secret, api_key)
// too, and any value registered as a secret.
import { redact } from "../functions/core/log.js";

const SECRET_KEY = /secret|token|password|passwd|api_?key|private_?key/i;
const CONFIG_JSON_KEY = /config_?json/i;
const MASK = "***";

function maskJsonText(text: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return redact(text);
  }
  return typeof value === "object" && value !== null ? JSON.stringify(masked(value)) : redact(text);
}

function masked(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    if (value === "") return value;
    if (SECRET_KEY.test(key)) return MASK;
    return CONFIG_JSON_KEY.test(key) ? maskJsonText(value) : redact(value);
  }
  if (Array.isArray(value)) return value.map((v) => masked(v));
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, k)]));
  return value;
}

/** Masks the secrets in the framework's resolved configuration, in place (print then shows this object). */
export function maskConfiguration(configuration: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(configuration)) configuration[key] = masked(value, key);
}
