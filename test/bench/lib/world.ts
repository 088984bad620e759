// The outside world for the worker and gateway benches, in the bench process: the DingTalk double and
// the LLM double (watched by an HttpTimeline), the config both functions load, and callback bodies
// whose session webhooks live on the double. The table is a dynalite process of its own (see run.ts).
import { startDingTalkDouble, type DingTalkDouble } from "../../doubles/dingtalk/index.js";
import { startLlmDouble, type LlmDouble, type Reply } from "../../doubles/llm/server.js";
import { callbackBody } from "../../helpers/messages.js";
import { HttpTimeline } from "./http-timing.js";

export const CLIENT_ID = "dingbenchbot";
export const CLIENT_SECRET = "bench-client-secret-0001";
export const LLM_KEY = "sk-bench-llm-key-0001";

export interface BenchWorld {
  dt: DingTalkDouble;
  llm: LlmDouble;
  timeline: HttpTimeline;
  configJson: string;
  /** Environment for a function or gateway process (add the table). */
  env: Record<string, string>;
  /** A 1:1 message from `staffId` whose session webhook is on the double; `tag` goes into the text. */
  message(staffId: string, text: string): { body: Record<string, unknown>; session: string };
  close(): Promise<void>;
}

/** The AI card template the bench's app streams answers into (`cards: true`). */
export const CARD_TEMPLATE = "bench-answer-card.schema";

/** `cards`: answers stream into AI cards (card_mode "answer", the template registered on the double). */
export async function startBenchWorld(defaultReply: Reply = {}, opts: { cards?: boolean } = {}): Promise<BenchWorld> {
  const dt = await startDingTalkDouble({ apps: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }] });
  if (opts.cards) dt.cardTemplate(CARD_TEMPLATE);
  const llm = await startLlmDouble({ keys: [LLM_KEY], defaultReply });
  const timeline = new HttpTimeline();
  timeline.watch(dt.port);
  timeline.watch(llm.port);
  const config = {
    agents: { defaults: { model_name: "glm" } },
    model_list: [{ model_name: "glm", model: "zhipu/glm-4.7", api_key: LLM_KEY, api_base: llm.url }],
    channels: {
      dingtalk: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, ...(opts.cards ? { card_mode: "answer", card_template_id: CARD_TEMPLATE } : {}) },
    },
  };
  return {
    dt,
    llm,
    timeline,
    configJson: JSON.stringify(config),
    env: { DINGTALK_API_BASE: dt.url, DINGTALK_OAPI_BASE: dt.url, DINGCLAW_CONFIG_JSON: JSON.stringify(config) },
    message(staffId, text) {
      const conversationId = `cidBench${staffId}==`;
      const hook = dt.sessionWebhookFor({ conversationId, conversationType: "direct", staffId, robotCode: CLIENT_ID }, { ttlMs: 5_400_000 });
      const body = callbackBody({
        robotCode: CLIENT_ID,
        staffId,
        text,
        conversationId,
        sessionWebhook: hook.url,
        sessionWebhookExpiredTime: hook.expiresAt,
      });
      return { body, session: new URL(hook.url).searchParams.get("session") ?? "" };
    },
    async close() {
      timeline.close();
      await Promise.allSettled([dt.close(), llm.close()]);
    },
  };
}
