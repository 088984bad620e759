// Host for `npm start`: the long-lived gateway (Stream mode + local HTTP callback). Thin: reads the
// environment and config, starts the core gateway (or, with no DingTalk app configured, the
// playground), and handles signals.
import { z } from "zod";
import { ConfigError, loadConfig, type AppConfig } from "./core/config.js";
import { setupGuide } from "./core/gateway/setup-guide.js";
import { startGateway } from "./core/gateway/start.js";
import { captureConsole, createLogger, describeError, type Logger } from "./core/log.js";
import { isLoopbackHost } from "./playground/loopback.js";

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(9000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DINGCLAW_CONFIG: z.string().default("./config.json"),
});

function fail(line: string, log: ReturnType<typeof createLogger>, fields: Record<string, unknown> = {}): never {
  log.error(line, fields);
  process.stderr.write(`dingclaw: ${line}\n`);
  process.exit(1);
}

interface Running {
  url: string;
  playgroundUrl?: string;
  dispatcher: { pending: number };
  close(drainMs?: number): Promise<{ drained: boolean }>;
}

/**
 * The gateway; without DingTalk credentials on a loopback address, the playground (the same gateway
 * core with a simulated DingTalk and a chat page), loaded lazily so a configured bot never loads it.
 */
async function start(config: AppConfig, log: Logger, env: z.infer<typeof EnvSchema>): Promise<Running> {
  if (config.dingtalk.credentials || !isLoopbackHost(env.HOST)) return startGateway({ config, log, port: env.PORT, host: env.HOST });
  const { startPlayground } = await import("./playground/start.js");
  const pg = await startPlayground({ config, port: env.PORT, host: env.HOST, configPath: env.DINGCLAW_CONFIG });
  return { url: pg.gateway.url, playgroundUrl: pg.url, dispatcher: pg.gateway.dispatcher, close: (ms) => pg.close(ms) };
}

async function main(): Promise<void> {
  const log = createLogger();
  captureConsole(log);
  const env = EnvSchema.safeParse(process.env);
  if (!env.success) fail(`bad environment: ${env.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`, log);

  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(`config error: ${err.problems.join("\n  ")}`, log);
    throw err;
  }
  for (const warning of config.warnings) log.warn(`config: ${warning}`);

  const gateway = await start(config, log, env.data).catch((err: unknown) => fail(`cannot start: ${describeError(err).message}`, log));
  const guide = setupGuide(config, gateway.url, env.data.DINGCLAW_CONFIG, gateway.playgroundUrl);
  if (guide) process.stderr.write(`${guide}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info("shutting down", { signal, pending: gateway.dispatcher.pending });
    void gateway.close(25_000).then(({ drained }) => {
      log.info("stopped", { drained });
      process.exit(0);
    });
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

void main();
