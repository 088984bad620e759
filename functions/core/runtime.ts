// Composition root for hosts that run the agent (FC worker, gateway, tests): builds the table stores,
// the LLM client and the DingTalk client from one AppConfig, plus the rich-message services: inbound
// media downloads, the API-call counter and governor, and streaming AI cards when card_mode is on.
// The lean FC callback does not use it.
import { AiCardService } from "./card-answer.js";
import type { AppConfig } from "./config.js";
import { createAppClient, type AppClientOptions } from "./app-client.js";
import type { DingTalkClient } from "./dingtalk/client.js";
import { MediaDownloader, allowPrivateFor, type ResolveHost } from "./dingtalk/download.js";
import type { OutgoingMessage, ReplyTarget, SendResult } from "./dingtalk/outgoing.js";
import type { PersonalData } from "./forget.js";
import { LlmClient } from "./llm/index.js";
import type { WorkerDeps } from "./process-job.js";
import { CardGovernor } from "./quota.js";
import type { ApiUsageStore } from "./store/api-usage.js";
import { CoalescedAdds } from "./store/coalesced-adds.js";
import { ConversationStore } from "./store/conversations.js";
import { ForgetRequestStore } from "./store/forget-requests.js";
import { IdempotencyStore } from "./store/idempotency.js";
import { LlmUsageStore } from "./store/llm-usage.js";
import { ReminderStore } from "./store/reminders.js";
import type { Table } from "./store/table.js";
import { ToolJournalStore, buildToolRegistry, type ToolProvider, type ToolRegistry } from "./tools/index.js";

/** How long usage counts wait for the job's end before they are written anyway (a host that never settles). */
const USAGE_HOLD_MS = 1000;

export interface RuntimeOptions extends AppClientOptions {
  /** Name resolution for media downloads (tests). */
  resolveHost?: ResolveHost;
  /** Tool sources beyond the built-ins and the configured MCP servers. */
  toolProviders?: ToolProvider[];
  /** Allow stdio MCP servers (long-lived hosts only: the gateway). */
  stdioMcp?: boolean;
}

export interface Runtime extends WorkerDeps {
  config: AppConfig;
  llm: LlmClient;
  table: Table;
  dingtalk: DingTalkClient | undefined;
  /** The monthly DingTalk API counter (absent without credentials). */
  apiUsage: ApiUsageStore | undefined;
  governor: CardGovernor | undefined;
  usage: LlmUsageStore;
  tools: ToolRegistry;
  reminders: ReminderStore;
}

export function createRuntime(config: AppConfig, table: Table, opts: RuntimeOptions): Runtime {
  const now = opts.now ?? Date.now;
  const log = opts.log;
  // The usage counters (DingTalk API calls, LLM usage) wait for the job's end (`settle`, or the agent
  // after its reply) and go out together: a turn's API calls and its org LLM usage share one item.
  const usageAdds = new CoalescedAdds(table.items(now), { holdMs: USAGE_HOLD_MS });
  const app = createAppClient(config, table, { ...opts, usageAdds });
  const dingtalk = app?.dingtalk;
  const apiUsage = app?.apiUsage;
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
  const reminders = new ReminderStore(table, { now });
  const idempotency = new IdempotencyStore(table, { now, log });
  const conversations = new ConversationStore(table, {
    now,
    ttlSeconds: config.agent.conversationTtlSeconds,
    maxHistoryTokens: config.agent.maxHistoryTokens,
    log,
  });
  // What /forget deletes besides the user's conversations: each store keeping data about a person adds its entry.
  const usage = new LlmUsageStore(table, { timeZone: config.agent.timezone, now, adds: usageAdds });
  const personalData: PersonalData[] = [
    { name: "reminders", label: "你设置的提醒（包括在群里设置的）", erase: (person) => reminders.deleteAllFor(person.id) },
    { name: "usage", label: "你的 AI 用量明细（全公司和群的总量不含你的身份，会保留）", erase: (person) => usage.forgetUser(person.id) },
  ];
  return {
    config,
    table,
    dingtalk,
    reminders,
    tools: buildToolRegistry(config, { dingtalk, reminders, log, now, stdioMcp: opts.stdioMcp ?? false, ...(opts.toolProviders ? { providers: opts.toolProviders } : {}) }),
    toolJournal: (messageKey: string) => toolJournal.forMessage(messageKey),
    apiUsage,
    usage,
    governor,
    send,
    now,
    log,
    settle: async () => {
      const flushed = usageAdds.flush();
      await Promise.all([flushed, dingtalk?.countsSettled()]);
    },
    ...(media ? { media } : {}),
    ...(cards ? { cards } : {}),
    ...(governor ? { quota: governor } : {}),
    idempotency,
    conversations,
    forget: { requests: new ForgetRequestStore(table, { now }), conversations, journal: toolJournal, idempotency, personalData },
    llm: new LlmClient(config, { log, now, fetch: opts.fetch }),
  };
}
