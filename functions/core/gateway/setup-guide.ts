// The one-screen guide the gateway prints when something essential is not configured yet.
import type { AppConfig } from "../config.js";

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
      '  { "model_list": [ { "model_name": "glm-4", "model": "zhipu/glm-4.7", "api_key": "..." } ],',
      '    "agents": { "defaults": { "model_name": "glm-4" } } }',
      "  providers: zhipu, qwen, deepseek, moonshot, openai (or any OpenAI-compatible api_base).",
    );
  if (missing.length === 0) return undefined;
  const lines = [
    "dingclaw is running, but it is not fully configured yet.",
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
