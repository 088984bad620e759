// "Did you mean": unknown config keys that are another bot's spelling of ours (OpenClaw's camelCase
// `clientId`, `dmPolicy`, …, PicoClaw-style keys written in camelCase). Unknown keys stay harmless and
// ignored; these hints only say why a setting seems to have no effect.

/** Known keys per section, from the config schema. */
export interface KnownKeys {
  root: readonly string[];
  defaults: readonly string[];
  model: readonly string[];
  dingtalk: readonly string[];
}

/** Keys other DingTalk bots use under `channels.dingtalk`, and what dingclaw has instead. */
const DINGTALK_FOREIGN: Readonly<Record<string, { key: string; note?: string }>> = {
  appKey: { key: "client_id" },
  appSecret: { key: "client_secret" },
  dmPolicy: { key: "allow_from", note: "staff ids allowed to use the bot; empty allows everyone" },
  groupPolicy: { key: "allow_from", note: "staff ids allowed to use the bot; empty allows everyone" },
  groupAllowFrom: { key: "allow_from", note: "one list for 1:1 chats and groups" },
  requireMention: { key: "group_scope", note: "in groups dingclaw always answers only when @-mentioned" },
  enableAICard: { key: "card_mode", note: 'set "answer" and card_template_id' },
  accounts: { key: "client_id", note: "one app per config: put its client_id and client_secret directly under channels.dingtalk" },
};

const MODEL_FOREIGN: Readonly<Record<string, { key: string; note?: string }>> = {
  baseUrl: { key: "api_base" },
  baseURL: { key: "api_base" },
};

const ROOT_FOREIGN: Readonly<Record<string, { key: string; note?: string }>> = {
  models: { key: "model_list", note: 'a list of { "model_name", "model": "provider/model-id", "api_key" }' },
};

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function objectAt(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function hintsFor(
  section: Record<string, unknown> | undefined,
  path: string,
  known: readonly string[],
  foreign: Readonly<Record<string, { key: string; note?: string }>> = {},
): string[] {
  if (!section) return [];
  const out: string[] = [];
  for (const key of Object.keys(section)) {
    if (known.includes(key)) continue;
    const mapped = Object.hasOwn(foreign, key) ? foreign[key] : known.includes(snake(key)) ? { key: snake(key) } : undefined;
    if (mapped)
      out.push(`${path}${key} is not a dingclaw setting (ignored): did you mean \`${mapped.key}\`?${mapped.note ? ` (${mapped.note})` : ""}`);
  }
  return out;
}

/** One line per unknown key that looks like a known one spelled another bot's way. */
export function keyHints(input: Record<string, unknown>, known: KnownKeys): string[] {
  const channels = objectAt(input.channels);
  const hints = [
    ...hintsFor(input, "", known.root, ROOT_FOREIGN),
    ...hintsFor(objectAt(objectAt(input.agents)?.defaults), "agents.defaults.", known.defaults),
    ...hintsFor(objectAt(channels?.dingtalk), "channels.dingtalk.", known.dingtalk, DINGTALK_FOREIGN),
  ];
  if (channels && !channels.dingtalk && channels["dingtalk-connector"])
    hints.push("channels.dingtalk-connector is not a dingclaw setting (ignored): did you mean `channels.dingtalk`?");
  const models = Array.isArray(input.model_list) ? input.model_list : [];
  models.forEach((entry, i) => hints.push(...hintsFor(objectAt(entry), `model_list[${i}].`, known.model, MODEL_FOREIGN)));
  return hints;
}
