// Host for `npm start`, loaded by its entry functions/gateway.ts: the long-lived gateway (Stream mode +
// local HTTP callback). Thin: reads the environment and config, starts the core gateway (or, with no
// DingTalk app configured, the playground), and handles signals.
import type { AppConfig } from "./core/config.js";
import { DEFAULT_CONFIG_PATH, type Env } from "./core/env.js";
import { setupGuide } from "./core/gateway/setup-guide.js";
import { startGateway } from "./core/gateway/start.js";
import { readHostSetup } from "./core/host-setup.js";
import { describeError, type Logger } from "./core/log.js";
import { isLoopbackHost } from "./playground/loopback.js";

function fail(line: string, log: Logger): never {
  log.error(line);
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
async function start(config: AppConfig, log: Logger, env: Env): Promise<Running> {
  if (config.dingtalk.credentials || !isLoopbackHost(env.HOST)) return startGateway({ config, log, port: env.PORT, host: env.HOST });
  const { startPlayground } = await import("./playground/start.js");
  const pg = await startPlayground({ config, port: env.PORT, host: env.HOST, configPath: env.DINGCLAW_CONFIG ?? DEFAULT_CONFIG_PATH, level: env.LOG_LEVEL });
  return { url: pg.gateway.url, playgroundUrl: pg.url, dispatcher: pg.gateway.dispatcher, close: (ms) => pg.close(ms) };
}

async function main(): Promise<void> {
  const { env, log, config } = readHostSetup(fail);

  const gateway = await start(config, log, env).catch((err: unknown) => fail(`cannot start: ${describeError(err).message}`, log));
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

  // Printed once the process stops cleanly on a signal.
  const guide = setupGuide(config, gateway.url, env.DINGCLAW_CONFIG ?? DEFAULT_CONFIG_PATH, gateway.playgroundUrl);
  if (guide) process.stderr.write(`${guide}\n`);
}

void main();
