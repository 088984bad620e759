// LlmClient: one chat over the fallback chain (start model, then agents.defaults.model_fallbacks),
// rotating between endpoints that share a model_name and skipping those the request may not use
// (allow_from), one OpenAI SDK instance per endpoint.
import OpenAI from "openai";
import type { AppConfig, ModelEndpoint } from "../config.js";
import { silentLogger, type Logger } from "../log.js";
import { emitTrace } from "../trace-events.js";
import { runAttempt } from "./attempt.js";
import { FINAL_KINDS, LlmError, classifyError, detailOf, statusOf } from "./errors.js";
import { estimatePromptTokens, estimateTokens } from "./tokens.js";
import { flattenToolMessages } from "./tool-calls.js";
import type { AttemptRecord, ChatRequest, ChatResult, Usage } from "./types.js";

export interface LlmClientOptions {
  log?: Logger;
  now?: () => number;
  fetch?: typeof fetch;
}

type LlmConfig = Pick<AppConfig, "models" | "agent">;

export class LlmClient {
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly fetchImpl: typeof fetch | undefined;
  private readonly sdk = new Map<number, OpenAI>();
  private readonly rotation = new Map<string, number>();

  constructor(
    private readonly config: LlmConfig,
    opts: LlmClientOptions = {},
  ) {
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? (() => performance.now());
    this.fetchImpl = opts.fetch;
  }

  /** Ordered model_names a chat starting at `modelName` (default: the primary) would try. */
  chain(modelName?: string): string[] {
    const known = new Set(this.config.models.map((m) => m.name));
    const start = modelName && known.has(modelName) ? modelName : this.config.agent.primary;
    const names: string[] = [];
    for (const name of [start, ...this.config.agent.fallbacks])
      if (name && known.has(name) && !names.includes(name)) names.push(name);
    return names;
  }

  async chat(req: ChatRequest): Promise<ChatResult> {
    const started = this.now();
    const log = req.requestId ? this.log.child({ requestId: req.requestId }) : this.log;
    if (req.modelName && !this.config.models.some((m) => m.name === req.modelName))
      log.warn("llm: unknown model_name, using the default chain", { modelName: req.modelName });
    const names = this.chain(req.modelName);
    const attempts: AttemptRecord[] = [];
    let last: { kind: LlmError["kind"]; status?: number; modelName: string; detail: string } | undefined;
    let tried = 0;

    for (const name of names) {
      for (const index of this.endpointsFor(name, req)) {
        const ep = this.config.models[index]!;
        if (req.signal?.aborted) throw this.abortedError(attempts);
        tried++;
        const t0 = this.now();
        const tools = ep.tools && req.tools?.length ? req.tools : undefined;
        try {
          const answer = await runAttempt({
            client: this.sdkFor(index, ep),
            model: ep.model,
            messages: tools ? req.messages : flattenToolMessages(req.messages),
            ...(tools ? { tools } : {}),
            onText: req.onText ? this.guard(req.onText, log) : undefined,
            timeoutMs: this.config.agent.llmTimeoutMs,
            maxTokens: this.config.agent.maxTokens,
            temperature: this.config.agent.temperature,
            signal: req.signal,
            now: this.now,
            chatStarted: started,
          });
          const ms = Math.round(this.now() - t0);
          attempts.push({ ...this.where(ep, index), kind: "ok", ms });
          const usage: Usage = answer.usage ?? {
            promptTokens: estimatePromptTokens(req.messages),
            completionTokens: estimateTokens(answer.text),
            totalTokens: 0,
            estimated: true,
          };
          if (usage.estimated) usage.totalTokens = usage.promptTokens + usage.completionTokens;
          log.info("llm attempt", {
            modelName: ep.name,
            provider: ep.provider,
            model: ep.model,
            kind: "ok",
            ms,
            firstTokenMs: answer.firstTokenMs,
            ...(answer.toolCalls ? { toolCalls: answer.toolCalls.length } : {}),
            promptTokens: usage.promptTokens,
            completionTokens: usage.completionTokens,
            usageEstimated: usage.estimated,
          });
          emitTrace({
            type: "llm.attempt",
            requestId: req.requestId,
            modelName: ep.name,
            ok: true,
            kind: "ok",
            ms,
            firstTokenMs: answer.firstTokenMs,
            promptTokens: usage.promptTokens,
            completionTokens: usage.completionTokens,
          });
          return {
            text: answer.text,
            ...(answer.toolCalls ? { toolCalls: answer.toolCalls } : {}),
            ...(answer.reasoning ? { reasoning: answer.reasoning } : {}),
            modelName: ep.name,
            provider: ep.provider,
            model: ep.model,
            usage,
            attempts,
            ...(answer.firstTokenMs !== undefined ? { firstTokenMs: answer.firstTokenMs } : {}),
            totalMs: Math.round(this.now() - started),
            ...(answer.finishReason ? { finishReason: answer.finishReason } : {}),
          };
        } catch (err) {
          if (err instanceof LlmError && err.aborted) throw this.abortedError(attempts);
          const kind = classifyError(err);
          const status = statusOf(err);
          const detail = detailOf(err);
          const ms = Math.round(this.now() - t0);
          attempts.push({ ...this.where(ep, index), kind, ...(status !== undefined ? { status } : {}), ms, detail });
          log.warn("llm attempt failed", {
            modelName: ep.name,
            provider: ep.provider,
            model: ep.model,
            kind,
            status,
            ms,
            detail,
          });
          emitTrace({ type: "llm.attempt", requestId: req.requestId, modelName: ep.name, ok: false, kind, ms, status });
          last = { kind, status, modelName: ep.name, detail };
          if (FINAL_KINDS.has(kind)) break;
        }
      }
      if (last && FINAL_KINDS.has(last.kind)) break;
    }

    if (!last) {
      const what = req.needsVision
        ? "no vision-capable model (vision: true) is configured"
        : req.mayUse && this.config.models.length > 0
          ? "no model this user may use (allow_from)"
          : "no model is configured";
      throw new LlmError("no_model", `llm: ${what}${names.length ? ` in chain ${names.join(" → ")}` : ""}`, {
        attempts,
      });
    }
    const prefix = FINAL_KINDS.has(last.kind) || tried === 1 ? "" : `all ${tried} attempts failed; last: `;
    throw new LlmError(
      last.kind,
      `llm: ${prefix}${last.modelName} ${last.kind}${last.status ? ` (HTTP ${last.status})` : ""}: ${last.detail}`,
      { ...(last.status !== undefined ? { status: last.status } : {}), modelName: last.modelName, attempts },
    );
  }

  /** Indices of the endpoints named `name` the request may use, starting at this client's round-robin position. */
  private endpointsFor(name: string, req: Pick<ChatRequest, "needsVision" | "mayUse">): number[] {
    const indices: number[] = [];
    this.config.models.forEach((m, i) => {
      if (m.name === name && (!req.needsVision || m.vision) && (!req.mayUse || req.mayUse(m))) indices.push(i);
    });
    if (indices.length < 2) return indices;
    const turn = this.rotation.get(name) ?? 0;
    this.rotation.set(name, turn + 1);
    const start = turn % indices.length;
    return [...indices.slice(start), ...indices.slice(0, start)];
  }

  /** Creates every endpoint's SDK client ahead of the first call (see warm-up.ts). */
  prepareClients(): void {
    this.config.models.forEach((ep, index) => this.sdkFor(index, ep));
  }

  private sdkFor(index: number, ep: ModelEndpoint): OpenAI {
    let client = this.sdk.get(index);
    if (!client) {
      // Every option that the SDK would otherwise read from OPENAI_* env vars is set explicitly, so a
      // key or organisation meant for one endpoint can never reach another.
      client = new OpenAI({
        apiKey: ep.apiKey ?? "",
        baseURL: ep.baseURL,
        organization: null,
        project: null,
        webhookSecret: null,
        maxRetries: 0,
        timeout: this.config.agent.llmTimeoutMs * 2,
        logLevel: "off",
        // A redirect could carry the key elsewhere; an API endpoint has no reason to redirect.
        fetchOptions: { redirect: "error" },
        ...(ep.apiKey ? {} : { defaultHeaders: { Authorization: null } }),
        ...(this.fetchImpl ? { fetch: this.fetchImpl } : {}),
      });
      this.sdk.set(index, client);
    }
    return client;
  }

  private where(ep: ModelEndpoint, index: number) {
    return { modelName: ep.name, provider: ep.provider, model: ep.model, endpoint: index, baseURL: ep.baseURL };
  }

  private guard(onText: (t: string) => void, log: Logger): (t: string) => void {
    return (text) => {
      try {
        onText(text);
      } catch (err) {
        log.warn("llm: onText callback threw", { err });
      }
    };
  }

  private abortedError(attempts: AttemptRecord[]): LlmError {
    return new LlmError("other", "llm: aborted by the caller", { attempts, aborted: true });
  }
}
