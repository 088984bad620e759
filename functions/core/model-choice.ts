// Which model answers a turn: the conversation's `/model` choice or the primary, among the models the
// user may use (model_list[].allow_from; else the first usable fallback or entry); for a turn with
// pictures, that model if it has a usable `vision: true` endpoint, else the configured vision model
// (agents.defaults.vision_model, or the first usable vision entry) for this turn only.
import type { AppConfig, ModelEndpoint } from "./config.js";

export type ModelChoice =
  | { ok: true; modelName: string | undefined; needsVision: boolean; switchedForVision: boolean }
  | { ok: false; reason: "no_vision_model" | "no_usable_model" };

type Models = Pick<AppConfig, "agent" | "models">;
/** Whether the user may use an endpoint (access.ts mayUseEndpoint); default: every one. */
export type MayUse = (endpoint: ModelEndpoint) => boolean;

const everyone: MayUse = () => true;

/** Whether the user may use some endpoint named `name` (with vision when asked). */
export function isUsable(config: Models, name: string | undefined, mayUse: MayUse = everyone, vision = false): boolean {
  return config.models.some((m) => m.name === name && (!vision || m.vision) && mayUse(m));
}

/** The model_names the user may use, in model_list order. */
export function usableNames(config: Models, mayUse: MayUse = everyone): string[] {
  return [...new Set(config.models.filter(mayUse).map((m) => m.name))];
}

/** The user's default: the primary when usable, else the first usable fallback, else the first usable entry. */
export function defaultModel(config: Models, mayUse: MayUse = everyone): string | undefined {
  const { primary, fallbacks } = config.agent;
  return [primary, ...fallbacks, ...usableNames(config, mayUse)].find((n) => isUsable(config, n, mayUse));
}

/** The configured vision model: `vision_model`, else the first model_list name with a usable vision endpoint. */
export function visionModelOf(config: Models, mayUse: MayUse = everyone): string | undefined {
  if (config.agent.visionModel && isUsable(config, config.agent.visionModel, mayUse, true)) return config.agent.visionModel;
  return config.models.find((m) => m.vision && mayUse(m))?.name;
}

export function chooseModel(config: Models, conversationModel: string | undefined, needsVision: boolean, mayUse: MayUse = everyone): ModelChoice {
  const restricted = config.models.some((m) => !mayUse(m));
  const fallback = restricted ? defaultModel(config, mayUse) : undefined;
  if (restricted && !fallback) return { ok: false, reason: "no_usable_model" };
  const chosen = isUsable(config, conversationModel, mayUse) ? conversationModel : fallback;
  if (!needsVision) return { ok: true, modelName: chosen, needsVision: false, switchedForVision: false };
  const current = chosen ?? config.agent.primary;
  if (isUsable(config, current, mayUse, true)) return { ok: true, modelName: current, needsVision: true, switchedForVision: false };
  const vision = visionModelOf(config, mayUse);
  if (!vision) return { ok: false, reason: "no_vision_model" };
  return { ok: true, modelName: vision, needsVision: true, switchedForVision: true };
}
