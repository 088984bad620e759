// The one-screen guide the gateway prints when something essential is not configured yet: what is
// missing, whether the config file exists at all, and keys that look like another bot's spelling.
import { MODEL_CONFIG_EXAMPLE, type AppConfig } from "../config.js";
import { PROVIDER_NAMES } from "../llm/providers.js";

/** `playgroundUrl`: where the browser playground runs (started when DingTalk is not configured). */
export function setupGuide(config: AppConfig, url: string, configPath: string, playgroundUrl?: string): string | undefined {
  const missing: string[] = [];
  if (!config.dingtalk.credentials)
    missing.push(
      "DingTalk app (developer console → your app → 凭证与基础信息):",
      `  channels.dingtalk.client_id / client_secret in ${configPath}`,
      "  or the environment: DINGTALK_CLIENT_ID=ding... DINGTALK_CLIENT_SECRET=...",
      "  then enable the robot with message receiving mode “Stream 模式” (no public URL needed).",
    );
  if (config.models.length === 0)
    missing.push(
      "An LLM (model_list in the config):",
      ...MODEL_CONFIG_EXAMPLE.map((line) => `  ${line}`),
      `  providers: ${PROVIDER_NAMES.join(", ")} (or any OpenAI-compatible api_base).`,
    );
  if (missing.length === 0) return undefined;
  const lines = [
    "dingclaw is running, but it is not fully configured yet.",
    ...(config.missingFile ? ["", `There is no config file: ${config.missingFile} does not exist (README.md → Configuration has one to start from).`] : []),
    ...(config.hints.length ? ["", "In your config:", ...config.hints.map((h) => `  ${h}`)] : []),
    "",
    ...missing,
    "",
    `HTTP endpoints are up: POST ${url}/callback, GET ${url}/healthz`,
    ...(playgroundUrl ? [`Try the bot in your browser now (DingTalk simulated, nothing to set up): ${playgroundUrl}`] : []),
    "Check a model with: npm run agent -- -m \"你好\"  ·  README.md → Configuration",
  ];
  const rule = "─".repeat(72);
  return [rule, ...lines.map((l) => `  ${l}`), rule].join("\n");
}
