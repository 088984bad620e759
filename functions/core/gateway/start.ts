// The long-lived gateway behind `npm start`: the table (embedded by default), the HTTP callback and
// health endpoint, POST /notify (with a notify token), the Stream-mode connection, an in-process
// dispatcher in place of FC's queue, and the scheduler (reminders, schedules) ticking in-process.
import type { AppConfig } from "../config.js";
import { StreamConnection, type StreamOptions } from "../dingtalk/stream.js";
import { handleCallback } from "../http-callback.js";
import type { IngestDeps } from "../ingest.js";
import { LocalDispatcher, type LocalDispatcherOptions, type Opening } from "../local-dispatch.js";
import type { Logger } from "../log.js";
import { processJob, type WorkerDeps } from "../process-job.js";
import { notifyRoute } from "../proactive/notify-http.js";
import { SchedulerLoop } from "../proactive/scheduler.js";
import { runFiringJob, schedulerOf, type FiringJob } from "../proactive/wiring.js";
import { createRuntime, type Runtime } from "../runtime.js";
import { openTable, type Table } from "../store/table.js";
import { StreamIngest } from "../stream-frame.js";
import { warmUp } from "../warm-up.js";
import { json, startHttpServer, type Route } from "./http-server.js";

export interface GatewayOptions {
  config: AppConfig;
  log: Logger;
  port: number;
  host: string;
  /** Use this table instead of opening the configured one (tests). */
  table?: Table;
  /** Embedded store in memory instead of files under DINGCLAW_DATA_DIR. */
  inMemory?: boolean;
  fetch?: typeof fetch;
  stream?: Partial<Pick<StreamOptions, "maxBackoffMs" | "reconnectDelayMs">>;
  dispatcher?: Partial<Omit<LocalDispatcherOptions, "run" | "log">>;
  /** The clock of the runtime and the scheduler (tests move it). */
  now?: () => number;
  /** How often the scheduler checks for due reminders and schedules (default 10 s); false: not at all. */
  scheduler?: { intervalMs?: number } | false;
  /** More routes (e.g. the playground). */
  routes?: (gateway: Omit<Gateway, "close">) => Route[];
}

export interface Gateway {
  url: string;
  runtime: Runtime;
  dispatcher: LocalDispatcher;
  /** Where claimed firings run. */
  firings: LocalDispatcher<FiringJob>;
  /** Absent without DingTalk credentials (nothing could be sent) or when turned off. */
  scheduler: SchedulerLoop | undefined;
  stream: StreamConnection | undefined;
  ingestDeps: IngestDeps;
  /** Stops taking messages, lets in-flight ones finish (bounded), closes everything. */
  close(drainMs?: number): Promise<{ drained: boolean }>;
}

/** The job's LLM client: its first request ends the job's opening stretch. */
function leavingAtFirstChat(llm: Runtime["llm"], opening: Opening): WorkerDeps["llm"] {
  return {
    chat: (req) => {
      opening.leave();
      return llm.chat(req);
    },
  };
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const { config, log } = opts;
  const table = opts.table ?? (await openTable(config.table, { inMemory: opts.inMemory, log }));
  if (!opts.table) await table.ensure({ log });
  const runtime = createRuntime(config, table, { log, fetch: opts.fetch, stdioMcp: true, ...(opts.now ? { now: opts.now } : {}) });
  // With the embedded store a job's start (parsing, table reads, the prompt) is CPU on this process: in a
  // burst, taking a few jobs at a time through it to their LLM request sends the first requests out
  // sooner and spreads the answers, so the work after them overlaps instead of queueing at the end
  // (with a remote table the start mostly waits on the network, and every job starts at once).
  const dispatcher = new LocalDispatcher({
    ...(table.embedded ? { openingConcurrency: 8 } : {}),
    ...opts.dispatcher,
    log,
    run: (job, opening) => processJob(job, { ...runtime, llm: leavingAtFirstChat(runtime.llm, opening) }),
  });
  const firings = new LocalDispatcher<FiringJob>({ ...opts.dispatcher, log, run: (job) => runFiringJob(job, runtime) });
  const credentials = config.dingtalk.credentials;
  const scheduler =
    credentials && opts.scheduler !== false
      ? new SchedulerLoop({ tick: schedulerOf(runtime, firings.dispatch), intervalMs: Math.min(opts.scheduler?.intervalMs ?? 10_000, 10_000), now: runtime.now, log })
      : undefined;
  const ingestDeps: IngestDeps = {
    idempotency: runtime.idempotency,
    dispatch: dispatcher.dispatch,
    robotCode: credentials?.robotCode ?? "",
    now: runtime.now,
    log,
  };

  const frames = new StreamIngest(ingestDeps);
  const stream =
    credentials && config.dingtalk.mode === "stream"
      ? new StreamConnection({
          ...opts.stream,
          credentials,
          apiBase: config.dingtalk.apiBase,
          log,
          fetch: opts.fetch,
          onMessage: (frame) => frames.handle(frame),
        })
      : undefined;

  const core: Omit<Gateway, "close" | "url"> = { runtime, dispatcher, firings, scheduler, stream, ingestDeps };
  const routes: Route[] = [
    {
      method: "POST",
      path: "/callback",
      maxBodyBytes: 1024 * 1024,
      handle: (req) =>
        handleCallback(
          { method: req.method, headers: req.headers, body: req.body, requestId: req.requestId },
          { ...ingestDeps, secret: credentials?.clientSecret },
        ),
    },
    {
      method: "GET",
      path: "/healthz",
      handle: () =>
        json(200, {
          ok: true,
          dingtalk: credentials ? (stream ? `stream:${stream.state}` : "http") : "not configured",
          models: [...new Set(config.models.map((m) => m.name))],
          table: table.embedded ? "embedded" : "remote",
          pending: dispatcher.pending,
        }),
    },
  ];
  const notifyToken = config.dingtalk.notifyToken;
  if (notifyToken)
    routes.push(notifyRoute(notifyToken, { dingtalk: runtime.dingtalk, robotCode: credentials?.robotCode ?? "", idempotency: runtime.idempotency, log }));
  const http = await startHttpServer({ routes, port: opts.port, host: opts.host, log });
  routes.push(...(opts.routes?.({ ...core, url: http.url }) ?? []));
  log.info("gateway listening", { url: http.url, table: table.embedded ? "embedded" : table.endpoint, mode: stream ? "stream" : "http" });
  stream?.start();
  scheduler?.start();
  // Once connected, so that its CPU never delays the connection.
  let warming: Promise<void> | undefined;
  void (stream?.ready ?? Promise.resolve()).then(() => {
    warming = warmUp({ timeZone: config.agent.timezone, tools: runtime.tools, llm: runtime.llm, items: table.items(runtime.now), log });
  });

  return {
    ...core,
    url: http.url,
    async close(drainMs = 25_000) {
      await scheduler?.stop();
      await warming;
      await stream?.stop();
      await http.close();
      const [drained] = await Promise.all([dispatcher.close(drainMs), firings.close(drainMs)]);
      await runtime.tools.close();
      if (!opts.table) await table.close();
      return { drained };
    },
  };
}
