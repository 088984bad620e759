// The playground's view of the user's config: the same models, access rules and agent settings, but a
// generated DingTalk app that only exists in the in-process DingTalk double (HTTP mode, AI cards on)
// and an embedded table (never the configured remote one).
import { randomBytes } from "node:crypto";
import { MODEL_CONFIG_EXAMPLE, type AppConfig } from "../core/config.js";
import { PROVIDER_NAMES } from "../core/llm/providers.js";
import { registerSecret } from "../core/log.js";

export const PLAYGROUND_CLIENT_ID = "dingplayground";
export const PLAYGROUND_CARD_TEMPLATE = "dingclaw-playground.schema";

export interface PlaygroundApp {
  clientId: string;
  /** Generated per run; stays on the server (never in a page, an API answer or a log line). */
  clientSecret: string;
  robotCode: string;
}

export function generateApp(): PlaygroundApp {
  const clientSecret = randomBytes(24).toString("base64url");
  registerSecret(clientSecret);
  return { clientId: PLAYGROUND_CLIENT_ID, clientSecret, robotCode: PLAYGROUND_CLIENT_ID };
}

/**
 * The config the playground's gateway runs with. AI cards: the configured template when card_mode is
 * "answer", else a playground template (so streaming shows) unless `cards` is false.
 */
export function playgroundConfig(config: AppConfig, app: PlaygroundApp, doubleUrl: string, cards: boolean): AppConfig {
  const own = config.dingtalk.cards;
  const templateId = own.mode === "answer" && own.templateId ? own.templateId : PLAYGROUND_CARD_TEMPLATE;
  return {
    ...config,
    dingtalk: {
      ...config.dingtalk,
      credentials: { clientId: app.clientId, clientSecret: app.clientSecret, robotCode: app.robotCode },
      mode: "http",
      apiBase: doubleUrl,
      oapiBase: doubleUrl,
      cards: cards ? { ...own, mode: "answer", templateId } : { ...own, mode: "off" },
    },
    table: { ...config.table, endpoint: undefined },
  };
}

/** What the page shows when no model is configured: exactly what to add, and where. */
export function modelHelp(config: AppConfig, configPath: string): string[] | undefined {
  if (config.models.length > 0) return undefined;
  return [
    `No LLM is configured yet. Add a model_list to ${configPath} (or DINGCLAW_CONFIG_JSON), for example:`,
    ...MODEL_CONFIG_EXAMPLE,
    `Providers: ${PROVIDER_NAMES.join(", ")}, or any OpenAI-compatible api_base.`,
    "Then restart `npm run playground`. Meanwhile /help, /new and /model work.",
  ];
}
