// Which model answers a turn: the conversation's `/model` choice or the primary; for a turn with
// pictures, that model if it has a `vision: true` endpoint, else the configured vision model
// (agents.defaults.vision_model, or the first vision entry) for this turn only.
import type { AppConfig } from "./config.js";

export type ModelChoice =
  | { ok: true; modelName: string | undefined; needsVision: boolean; switchedForVision: boolean }
  | { ok: false; reason: "no_vision_model" };

type Models = Pick<AppConfig, "agent" | "models">;

const hasVision = (config: Models, name: string | undefined) => config.models.some((m) => m.name === name && m.vision);

/** The configured vision model: `vision_model`, else the first model_list name with a vision endpoint. */
export function visionModelOf(config: Models): string | undefined {
  if (config.agent.visionModel && hasVision(config, config.agent.visionModel)) return config.agent.visionModel;
  return config.models.find((m) => m.vision)?.name;
}

export function chooseModel(config: Models, conversationModel: string | undefined, needsVision: boolean): ModelChoice {
  const chosen = conversationModel && config.models.some((m) => m.name === conversationModel) ? conversationModel : undefined;
  if (!needsVision) return { ok: true, modelName: chosen, needsVision: false, switchedForVision: false };
  const current = chosen ?? config.agent.primary;
  if (hasVision(config, current)) return { ok: true, modelName: current, needsVision: true, switchedForVision: false };
  const vision = visionModelOf(config);
  if (!vision) return { ok: false, reason: "no_vision_model" };
  return { ok: true, modelName: vision, needsVision: true, switchedForVision: true };
}
