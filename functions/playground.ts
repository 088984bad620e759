// Host for `npm run playground`: the gateway core with a simulated DingTalk and a chat page in the
// browser. Thin: reads the environment and config, starts the playground, handles signals.
import { DEFAULT_CONFIG_PATH } from "./core/env.js";
import { readHostSetup } from "./core/host-setup.js";
import { describeError } from "./core/log.js";
import { isLoopbackHost } from "./playground/loopback.js";
import { playgroundBanner } from "./playground/banner.js";
import { startPlayground } from "./playground/start.js";

function fail(line: string): never {
  process.stderr.write(`dingclaw playground: ${line}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const { env, log, config } = readHostSetup(fail);
  if (!isLoopbackHost(env.HOST)) log.warn("playground: HOST is not a loopback address; anyone who can reach it can use your models");

  const pg = await startPlayground({
    config,
    port: env.PORT,
    host: env.HOST,
    configPath: env.DINGCLAW_CONFIG ?? DEFAULT_CONFIG_PATH,
    level: env.LOG_LEVEL,
    cards: env.PLAYGROUND_CARDS !== "off",
  }).catch((err: unknown) => fail(`cannot start: ${describeError(err).message}`));
  process.stderr.write(`${playgroundBanner(pg.url, config)}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log.info("shutting down", { signal });
    void pg.close(10_000).then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

void main();
