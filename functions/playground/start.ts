// Starts the playground: the DingTalk double in-process as "DingTalk" for a generated app, the real
// gateway core pointed at it (with the playground's routes on the same port), the trace collector fed
// by the core's trace events (and, for notes, by a logger teed into it), and the page's event hub.
// The double is loaded lazily: only the playground needs it.
import type { AppConfig } from "../core/config.js";
import { startGateway, type Gateway } from "../core/gateway/start.js";
import type { Logger, Threshold } from "../core/log.js";
import type { Table } from "../core/store/table.js";
import { subscribeTrace } from "../core/trace-events.js";
import type { DingTalkDouble } from "./dingtalk/index.js";
import { buildAssets } from "./assets.js";
import { generateApp, modelHelp, playgroundConfig } from "./config.js";
import { EventHub } from "./events.js";
import { teeLogger } from "./log-tee.js";
import { playgroundRoutes } from "./routes.js";
import { PlaygroundService } from "./service.js";
import { TraceCollector } from "./trace.js";

export interface PlaygroundOptions {
  /** The user's config: its models, access rules and agent settings are used; its DingTalk app is not. */
  config: AppConfig;
  port: number;
  host: string;
  /** Named in the page's "configure a model" help. */
  configPath?: string;
  /** Where log lines go (default stdout). */
  write?: (line: string) => void;
  /** Lowest level printed (default info); the trace sees every level. */
  level?: Threshold;
  /** Answers stream into AI cards (default true). */
  cards?: boolean;
  /** Use this table instead of an embedded in-memory one. */
  table?: Table;
  fetch?: typeof fetch;
}

export interface Playground {
  /** The page, e.g. http://127.0.0.1:9000/playground */
  url: string;
  gateway: Gateway;
  double: DingTalkDouble;
  service: PlaygroundService;
  log: Logger;
  close(drainMs?: number): Promise<{ drained: boolean }>;
}

export async function startPlayground(opts: PlaygroundOptions): Promise<Playground> {
  const hub = new EventHub();
  const traces = new TraceCollector({ onChange: (trace) => hub.publish({ type: "trace", trace: structuredClone(trace) }, `trace:${trace.msgId}`) });
  const out = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const log = teeLogger({ out, level: opts.level ?? "info", sink: (record) => traces.logged(record) });

  const app = generateApp();
  const assets = await buildAssets();
  const { startDingTalkDouble } = await import("./dingtalk/index.js");
  const double = await startDingTalkDouble({ apps: [{ clientId: app.clientId, clientSecret: app.clientSecret, robotCode: app.robotCode }] });
  const config: AppConfig = playgroundConfig(opts.config, app, double.url, opts.cards ?? true);
  if (config.dingtalk.cards.templateId) double.cardTemplate(config.dingtalk.cards.templateId);

  const service = new PlaygroundService({
    app,
    double,
    config,
    modelHelp: modelHelp(opts.config, opts.configPath ?? "config.json"),
    hub,
    traces,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const unsubscribe = subscribeTrace((event) => traces.event(event));
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      config,
      log,
      port: opts.port,
      host: opts.host,
      ...(opts.table ? { table: opts.table } : { inMemory: true }),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      routes: () => playgroundRoutes(service, hub, assets),
    });
  } catch (err) {
    unsubscribe();
    await double.close();
    throw err;
  }
  service.gatewayUrl = gateway.url;
  const url = `${gateway.url}/playground`;
  log.info("playground ready", { url, dingtalk: "simulated (in-process double)", models: service.state().models.names });

  return {
    url,
    gateway,
    double,
    service,
    log,
    async close(drainMs = 25_000) {
      hub.close();
      const result = await gateway.close(drainMs);
      unsubscribe();
      await double.close();
      return result;
    },
  };
}
