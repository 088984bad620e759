// Test helper: the whole outside world in one process — a DingTalk double, an LLM double, a real
// dynalite table — plus an AppConfig and a core Runtime wired to them, for agent and worker tests.
//
//   const w = await startWorld({ config: { agents: { defaults: { model_fallbacks: ["backup"] } } } });
//   const body = w.message({ text: "你好" });        // callback body with a live session webhook
//   await handleMessage(w.parse(body), w.runtime);
//   w.dt.sent()  /  w.llm.chatRequests()  /  await w.close()
import { parseConfig, type AppConfig } from "../../functions/core/config.js";
import { parseCallback, type InboundMessage } from "../../functions/core/dingtalk/inbound.js";
import { ingest } from "../../functions/core/ingest.js";
import type { Job } from "../../functions/core/job.js";
import { createLogger, type Logger } from "../../functions/core/log.js";
import { processJob, type JobOutcome } from "../../functions/core/process-job.js";
import { createRuntime, type Runtime } from "../../functions/core/runtime.js";
import { startDingTalkDouble, type DingTalkDouble, type DingTalkDoubleOptions } from "../doubles/dingtalk/index.js";
import { startLlmDouble, type LlmDouble } from "../doubles/llm/server.js";
import { startTestTable, type TestTable } from "./dynalite.js";
import { callbackBody, type MessageOptions } from "./messages.js";

export const CLIENT_ID = "dingtestbot";
export const CLIENT_SECRET = "test-client-secret-0001";
export const LLM_KEY = "sk-llm-test-key-0001";
export const BACKUP_KEY = "sk-llm-backup-key-0002";

export interface WorldOptions {
  /**
   * Merged over the default config (primary "glm" on the LLM double, fallback "backup" defined but
   * unused); a function gets the LLM double's base URL (for model_list entries of its own).
   */
  config?: Record<string, unknown> | ((llmUrl: string) => Record<string, unknown>);
  /** Options of the DingTalk double (e.g. Stream redelivery). */
  dingtalk?: Omit<DingTalkDoubleOptions, "apps">;
  /** Where log lines go; default: collected in `lines`. */
  write?: (line: string) => void;
}

export interface World {
  dt: DingTalkDouble;
  llm: LlmDouble;
  db: TestTable;
  config: AppConfig;
  runtime: Runtime;
  log: Logger;
  /** Every log line written through `log`. */
  lines: string[];
  /** The environment a host process needs to reach this world. */
  env: Record<string, string>;
  /** The JSON config a host process can load (DINGCLAW_CONFIG_JSON). */
  configJson: string;
  /** A callback body whose session webhook lives on the DingTalk double. */
  message(o?: MessageOptions & { webhookTtlMs?: number }): Record<string, unknown>;
  parse(body: Record<string, unknown>): InboundMessage;
  /** The real message path: the message is claimed (ingest), then its job runs (processJob) on `rt` (default: `runtime`). */
  deliver(o?: MessageOptions, rt?: Runtime): Promise<JobOutcome>;
  close(): Promise<void>;
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === "object" && !Array.isArray(v) && b && typeof b === "object" && !Array.isArray(b)
        ? merge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export async function startWorld(opts: WorldOptions = {}): Promise<World> {
  const dt = await startDingTalkDouble({ ...opts.dingtalk, apps: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }] });
  const llm = await startLlmDouble({ keys: [LLM_KEY, BACKUP_KEY] });
  const db = await startTestTable();
  const rawConfig = merge(
    {
      agents: { defaults: { model_name: "glm" } },
      model_list: [
        { model_name: "glm", model: "zhipu/glm-4.7", api_key: LLM_KEY, api_base: llm.url },
        { model_name: "backup", model: "deepseek/deepseek-chat", api_key: BACKUP_KEY, api_base: llm.url },
      ],
      channels: { dingtalk: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET } },
    },
    typeof opts.config === "function" ? opts.config(llm.url) : (opts.config ?? {}),
  );
  const env = {
    DINGTALK_API_BASE: dt.url,
    DINGTALK_OAPI_BASE: dt.url,
    ...db.env,
  };
  const config = parseConfig(rawConfig, env);
  const lines: string[] = [];
  const log = createLogger({ level: "debug", write: opts.write ?? ((l) => lines.push(l)) });
  const runtime = createRuntime(config, db.table, { log, sleep: () => Promise.resolve() });
  const world: World = {
    dt,
    llm,
    db,
    config,
    runtime,
    log,
    lines,
    env,
    configJson: JSON.stringify(rawConfig),
    message(o = {}) {
      const type = o.type ?? "direct";
      const staffId = o.staffId === undefined ? "staff001" : o.staffId;
      const conversationId = o.conversationId ?? (type === "group" ? "cidGroup001==" : `cidDirect${staffId ?? "ext"}==`);
      const hook = dt.sessionWebhookFor(
        { conversationId, conversationType: type, staffId: staffId ?? undefined, robotCode: CLIENT_ID },
        { ttlMs: o.webhookTtlMs ?? 5_400_000 },
      );
      return callbackBody({
        robotCode: CLIENT_ID,
        sessionWebhook: hook.url,
        sessionWebhookExpiredTime: hook.expiresAt,
        ...o,
        conversationId,
      });
    },
    parse(body) {
      const r = parseCallback(body);
      if (!r.ok) throw new Error(`test message does not parse: ${r.reason}`);
      return r.message;
    },
    async deliver(o = {}, rt = runtime) {
      const body = world.message(o);
      const jobs: Job[] = [];
      const dispatch = (job: Job) => (jobs.push(job), Promise.resolve());
      const accepted = await ingest(world.parse(body), body, { ...rt, robotCode: CLIENT_ID, dispatch });
      if (accepted.status !== "accepted") throw new Error(`message not accepted: ${accepted.status}`);
      return processJob(jobs[0], rt);
    },
    async close() {
      await Promise.allSettled([dt.close(), llm.close(), db.close()]);
    },
  };
  return world;
}
