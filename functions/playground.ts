// Host for `npm run playground`: the gateway core with a simulated DingTalk and a chat page in the
// browser. Thin: reads the environment and config, starts the playground, handles signals.
import { z } from "zod";
import { ConfigError, loadConfig } from "./core/config.js";
import { captureConsole, createLogger, describeError } from "./core/log.js";
import { isLoopbackHost } from "./playground/loopback.js";
import { playgroundBanner } from "./playground/banner.js";
import { startPlayground } from "./playground/start.js";

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(9000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DINGCLAW_CONFIG: z.string().default("./config.json"),
  PLAYGROUND_CARDS: z.enum(["on", "off"], { error: 'must be "on" or "off"' }).default("on"),
});

function fail(line: string): never {
  process.stderr.write(`dingclaw playground: ${line}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const log = createLogger();
  captureConsole(log);
  const env = EnvSchema.safeParse(process.env);
  if (!env.success) fail(`bad environment: ${env.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(`config error: ${err.problems.join("\n  ")}`);
    throw err;
  }
  for (const warning of config.warnings) log.warn(`config: ${warning}`);
  if (!isLoopbackHost(env.data.HOST)) log.warn("playground: HOST is not a loopback address; anyone who can reach it can use your models");

  const pg = await startPlayground({
    config,
    port: env.data.PORT,
    host: env.data.HOST,
    configPath: env.data.DINGCLAW_CONFIG,
    cards: env.data.PLAYGROUND_CARDS === "on",
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
