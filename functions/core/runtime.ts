// Composition root for hosts that run the agent (FC worker, gateway, tests): builds the table stores,
// the LLM client and the DingTalk client from one AppConfig. The lean FC callback does not use it.
import type { AppConfig } from "./config.js";
import { DingTalkClient } from "./dingtalk/client.js";
import type { OutgoingMessage, ReplyTarget, SendResult } from "./dingtalk/outgoing.js";
import { LlmClient } from "./llm/client.js";
import type { Logger } from "./log.js";
import type { WorkerDeps } from "./process-job.js";
import { ConversationStore } from "./store/conversations.js";
import { IdempotencyStore } from "./store/idempotency.js";
import type { Table } from "./store/table.js";

export interface RuntimeOptions {
  log: Logger;
  now?: () => number;
  fetch?: typeof fetch;
  /** Backoff sleep for DingTalk retries (tests make it instant). */
  sleep?: (ms: number) => Promise<void>;
}

export interface Runtime extends WorkerDeps {
  config: AppConfig;
  table: Table;
  dingtalk: DingTalkClient | undefined;
}

export function createRuntime(config: AppConfig, table: Table, opts: RuntimeOptions): Runtime {
  const now = opts.now ?? Date.now;
  const credentials = config.dingtalk.credentials;
  const dingtalk = credentials
    ? new DingTalkClient({
        credentials,
        apiBase: config.dingtalk.apiBase,
        oapiBase: config.dingtalk.oapiBase,
        fetch: opts.fetch,
        now,
        sleep: opts.sleep,
        log: opts.log,
      })
    : undefined;
  const send = (target: ReplyTarget, message: OutgoingMessage): Promise<SendResult> => {
    if (!dingtalk) return Promise.reject(new Error("DingTalk credentials are not configured"));
    return dingtalk.send(target, message);
  };
  return {
    config,
    table,
    dingtalk,
    send,
    now,
    log: opts.log,
    idempotency: new IdempotencyStore(table, { now, log: opts.log }),
    conversations: new ConversationStore(table, {
      now,
      ttlSeconds: config.agent.conversationTtlSeconds,
      maxHistoryTokens: config.agent.maxHistoryTokens,
      log: opts.log,
    }),
    llm: new LlmClient(config, { log: opts.log, now, fetch: opts.fetch }),
  };
}
