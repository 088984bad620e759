// The few lines `npm run playground` prints once the page is up.
import type { AppConfig } from "../core/config.js";

export function playgroundBanner(url: string, config: AppConfig): string {
  const models = [...new Set(config.models.map((m) => m.name))];
  const lines = [
    `dingclaw playground: open ${url}`,
    "  DingTalk is simulated in-process (a generated app; nothing is sent to DingTalk).",
    models.length
      ? `  Models from your config: ${models.join(", ")} (calls are real and billed by the provider).`
      : "  No model configured: the page says what to add to model_list; /help, /new and /model work meanwhile.",
  ];
  const rule = "─".repeat(72);
  return [rule, ...lines, rule].join("\n");
}
