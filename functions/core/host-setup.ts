// What a long-lived host (npm start, the playground) does first: read the environment, make the
// logger (capturing console), load the config and log its warnings and hints. A bad environment or
// config ends in the host's `fail` with one clear line.
import { ConfigError, loadConfig, type AppConfig } from "./config.js";
import { EnvError, readEnv, type Env } from "./env.js";
import { captureConsole, createLogger, type Logger } from "./log.js";

export function readHostSetup(fail: (line: string, log: Logger) => never): { env: Env; log: Logger; config: AppConfig } {
  let env: Env;
  try {
    env = readEnv();
  } catch (err) {
    if (err instanceof EnvError) fail(err.message, createLogger());
    throw err;
  }
  const log = createLogger({ level: env.LOG_LEVEL });
  captureConsole(log);
  let config: AppConfig;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(`config error: ${err.problems.join("\n  ")}`, log);
    throw err;
  }
  for (const warning of [...config.warnings, ...config.hints]) log.warn(`config: ${warning}`);
  return { env, log, config };
}
