// Composition root for hosts that run the agent (FC worker, gateway, tests): builds the table stores,
// the LLM client and the DingTalk client from one AppConfig, plus the rich-message services: inbound
// media downloads, the API-call counter and governor, and streaming AI cards when card_mode is on.
// The lean FC callback does not use it.
import { AiCardService } from "./card-answer.js";
import type { AppConfig } from "./config.js";
import { DingTalkClient } from "./dingtalk/client.js";
import { LocalRateGate } from "./dingtalk/rate-gate.js";
import { MediaDownloader, allowPrivateFor, type ResolveHost } from "./dingtalk/download.js";
import type { OutgoingMessage, ReplyTarget, SendResult } from "./dingtalk/outgoing.js";
import { LlmClient } from "./llm/index.js";
import type { Logger } from "./log.js";
import type { WorkerDeps } from "./process-job.js";
import { CardGovernor } from "./quota.js";
import { ApiUsageStore } from "./store/api-usage.js";
import { CardRecordStore } from "./store/cards.js";
import { ConversationStore } from "./store/conversations.js";
import { IdempotencyStore } from "./store/idempotency.js";
import { TableRateGate } from "./store/rate-slots.js";
import type { Table } from "./store/table.js";
import { ToolJournalStore, buildToolRegistry, type ToolProvider, type ToolRegistry } from "./tools/index.js";

/** DingTalk APIs its monthly quota does not count (reference §3.3: contacts are exempt). */
const QUOTA_EXEMPT_APIS: ReadonlySet<string> = new Set(["contact.users.search", "topapi.v2.user.get", "topapi.v2.department.get"]);

export interface RuntimeOptions {
  log: Logger;
  now?: () => number;
  fetch?: typeof fetch;
  /** Backoff sleep for DingTalk retries (tests make it instant). */
  sleep?: (ms: number) => Promise<void>;
  /** Name resolution for media downloads (tests). */
  resolveHost?: ResolveHost;
  /** Tool sources beyond the built-ins and the configured MCP servers. */
  toolProviders?: ToolProvider[];
  /** Allow stdio MCP servers (long-lived hosts only: the gateway). */
  stdioMcp?: boolean;
  /**
   * Where the app's API rate (api_qps) is counted: "process" (the gateway: one process per app) or
   * "table" (FC: shared by every worker instance). Default "process".
   */
  rateGate?: "process" | "table";
}

export interface Runtime extends WorkerDeps {
  config: AppConfig;
  table: Table;
  dingtalk: DingTalkClient | undefined;
  /** The monthly DingTalk API counter (absent without credentials). */
  apiUsage: ApiUsageStore | undefined;
  governor: CardGovernor | undefined;
  tools: ToolRegistry;
}

export function createRuntime(config: AppConfig, table: Table, opts: RuntimeOptions): Runtime {
  const now = opts.now ?? Date.now;
  const log = opts.log;
  const credentials = config.dingtalk.credentials;
  const apiUsage = credentials ? new ApiUsageStore(table, { app: credentials.clientId, now, log }) : undefined;
  // The gate keeps real time (tests' moved clocks and instant sleeps are for other waits).
  const qps = config.dingtalk.apiQps;
  const gate = credentials
    ? opts.rateGate === "table"
      ? new TableRateGate(table, { app: credentials.clientId, qps, log })
      : new LocalRateGate({ qps })
    : undefined;
  const dingtalk = credentials
    ? new DingTalkClient({
        credentials,
        apiBase: config.dingtalk.apiBase,
        oapiBase: config.dingtalk.oapiBase,
        fetch: opts.fetch,
        now,
        sleep: opts.sleep,
        log,
        ...(apiUsage ? { onApiCall: (api: string) => (QUOTA_EXEMPT_APIS.has(api) ? undefined : apiUsage.record(api)) } : {}),
        ...(gate ? { gate } : {}),
      })
    : undefined;
  const send = (target: ReplyTarget, message: OutgoingMessage): Promise<SendResult> => {
    if (!dingtalk) return Promise.reject(new Error("DingTalk credentials are not configured"));
    return dingtalk.send(target, message);
  };
  const governor = apiUsage ? new CardGovernor({ usage: apiUsage, budget: config.dingtalk.apiMonthlyBudget, now, log }) : undefined;
  const cardsConfig = config.dingtalk.cards;
  const cards =
    dingtalk && governor && cardsConfig.mode === "answer" && cardsConfig.templateId
      ? new AiCardService({
          client: dingtalk,
          template: { templateId: cardsConfig.templateId, contentKey: cardsConfig.contentKey },
          updateIntervalMs: cardsConfig.updateIntervalMs,
          maxBytes: cardsConfig.maxBytes,
          governor,
          records: new CardRecordStore(table, { now }),
          now,
          log,
        })
      : undefined;
  const media = dingtalk
    ? new MediaDownloader(dingtalk, {
        timeoutMs: config.dingtalk.media.downloadTimeoutMs,
        allowPrivate: allowPrivateFor(config.dingtalk.apiBase),
        ...(opts.resolveHost ? { resolve: opts.resolveHost } : {}),
      })
    : undefined;
  const toolJournal = new ToolJournalStore(table, { now });
  return {
    config,
    table,
    dingtalk,
    tools: buildToolRegistry(config, { dingtalk, log, now, stdioMcp: opts.stdioMcp ?? false, ...(opts.toolProviders ? { providers: opts.toolProviders } : {}) }),
    toolJournal: (messageKey: string) => toolJournal.forMessage(messageKey),
    apiUsage,
    governor,
    send,
    now,
    log,
    ...(dingtalk ? { settle: () => dingtalk.countsSettled() } : {}),
    ...(media ? { media } : {}),
    ...(cards ? { cards } : {}),
    ...(governor ? { quota: governor } : {}),
    idempotency: new IdempotencyStore(table, { now, log }),
    conversations: new ConversationStore(table, {
      now,
      ttlSeconds: config.agent.conversationTtlSeconds,
      maxHistoryTokens: config.agent.maxHistoryTokens,
      log,
    }),
    llm: new LlmClient(config, { log, now, fetch: opts.fetch }),
  };
}
