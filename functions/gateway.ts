// Host for `npm start`: the long-lived gateway (Stream mode + local HTTP callback). Thin: reads the
// environment and config, starts the core gateway, and handles signals.
import { z } from "zod";
import { ConfigError, loadConfig } from "./core/config.js";
import { setupGuide } from "./core/gateway/setup-guide.js";
import { startGateway } from "./core/gateway/start.js";
import { captureConsole, createLogger, describeError } from "./core/log.js";

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

  const gateway = await startGateway({ config, log, port: env.data.PORT, host: env.data.HOST }).catch((err: unknown) =>
    fail(`cannot start: ${describeError(err).message}`, log),
  );
  const guide = setupGuide(config, gateway.url, env.data.DINGCLAW_CONFIG);
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
