// `npm run agent -- -m "text" [--model NAME]`: one turn against the configured model, no DingTalk
// (PicoClaw's `agent -m`). Streams the answer to stdout, a usage line to stderr; any failure is one
// secret-free line on stderr with a hint, exit 1.
import { parseArgs } from "node:util";
import { write } from "./cli-io.js";
import { ConfigError, loadConfig, MODEL_ENTRY_EXAMPLE, type AppConfig } from "./core/config.js";
import { readEnv } from "./core/env.js";
import { LlmClient, LlmError, type AttemptRecord, type ChatMessage, type LlmErrorKind } from "./core/llm/index.js";
import { createLogger, describeError, redact, silentLogger } from "./core/log.js";

const USAGE = `usage: npm run agent -- -m "your message" [--model MODEL_NAME]

  -m, --message TEXT   the message to send (one turn, no history)
      --model NAME     a model_name from model_list (default: agents.defaults.model_name)
  -h, --help           show this help

Config: DINGCLAW_CONFIG (default ./config.json); set LOG_LEVEL=debug for per-attempt logs on stderr.`;

/** "model_list[i]" for an endpoint of AppConfig.models, matching the raw file's order. */
function entryPath(config: AppConfig, endpoint: number): string {
  const ep = config.models[endpoint];
  if (!ep) return "model_list";
  const ordinal = config.models.slice(0, endpoint).filter((m) => m.name === ep.name).length;
  let seen = 0;
  const index = config.raw.model_list.findIndex((e) => e.model_name === ep.name && seen++ === ordinal);
  return index >= 0 ? `model_list[${index}]` : "model_list";
}

function hint(kind: LlmErrorKind, config: AppConfig, last: AttemptRecord | undefined): string {
  const at = last ? entryPath(config, last.endpoint) : "model_list";
  switch (kind) {
    case "auth":
      return `the provider rejected the API key; check ${at}.api_key`;
    case "quota":
      return `the account has no balance or quota left; top it up at the provider, or check ${at}.api_key`;
    case "network":
      return `cannot reach ${last?.baseURL ?? "the provider"}; check ${at}.api_base and your network`;
    case "timeout":
      return `no answer in ${config.agent.llmTimeoutMs} ms from ${last?.baseURL ?? "the provider"}; check ${at}.api_base or raise agents.defaults.llm_timeout_ms`;
    case "rate_limit":
      return "rate limited; try again later or add agents.defaults.model_fallbacks";
    case "moderation":
      return "the provider's content moderation rejected the message; try other wording";
    case "context_length":
      return "the message is too long for this model";
    case "bad_request":
      return `the provider refused the request; check ${at}.model`;
    case "server":
      return "the provider had an error; try again later or add agents.defaults.model_fallbacks";
    case "no_model":
      return `add an entry to model_list (example: ${MODEL_ENTRY_EXAMPLE})`;
    default:
      return `check ${at}.model and ${at}.api_base`;
  }
}

function failureLine(err: unknown, config: AppConfig | undefined): string {
  if (err instanceof ConfigError) return `config error: ${err.problems.join("; ")}`;
  if (err instanceof LlmError && config) {
    const last = err.attempts[err.attempts.length - 1];
    const where = last ? ` for model "${last.modelName}" (${last.provider}/${last.model})` : "";
    const status = last?.status ? ` HTTP ${last.status}` : "";
    const detail = last?.detail ? `: ${last.detail}` : err.kind === "no_model" ? `: ${err.message.replace(/^llm: /, "")}` : "";
    const tried = err.attempts.length > 1 ? ` after ${err.attempts.length} attempts` : "";
    return `error: ${err.kind}${status}${where}${tried}${detail} — ${hint(err.kind, config, last)}`;
  }
  return `error: ${describeError(err).message}`;
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        message: { type: "string", short: "m" },
        model: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (err) {
    await write(process.stderr, `${describeError(err).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    await write(process.stdout, `${USAGE}\n`);
    return 0;
  }
  const message = args.message?.trim();
  if (!message) {
    await write(process.stderr, `${USAGE}\n`);
    return 2;
  }

  let config: AppConfig | undefined;
  try {
    config = loadConfig(process.env);
    const names = [...new Set(config.models.map((m) => m.name))];
    if (args.model && !names.includes(args.model)) {
      await write(
        process.stderr,
        `error: --model "${args.model}" is no model_name in model_list (choices: ${names.join(", ") || "none"})\n`,
      );
      return 1;
    }
    const level = readEnv().LOG_LEVEL;
    const log = level ? createLogger({ level, write: (line) => process.stderr.write(`${line}\n`) }) : silentLogger;
    const llm = new LlmClient(config, { log });
    const messages: ChatMessage[] = [
      ...(config.agent.systemPrompt ? [{ role: "system" as const, content: config.agent.systemPrompt }] : []),
      { role: "user", content: message },
    ];
    let printed = "";
    const result = await llm.chat({
      messages,
      modelName: args.model,
      requestId: "agent-cli",
      onText: (text) => {
        if (!text.startsWith(printed)) return;
        process.stdout.write(text.slice(printed.length));
        printed = text;
      },
    });
    if (!printed.startsWith(result.text)) {
      const rest = result.text.startsWith(printed) ? result.text.slice(printed.length) : `\n${result.text}`;
      printed += rest;
      await write(process.stdout, rest);
    }
    await write(process.stdout, "\n");
    const u = result.usage;
    const secs = (result.totalMs / 1000).toFixed(1);
    await write(
      process.stderr,
      `model: ${result.modelName} (${result.provider}/${result.model}) · tokens: ${u.promptTokens} in + ${u.completionTokens} out = ${u.totalTokens}${u.estimated ? " (estimated)" : ""} · ${secs}s\n`,
    );
    return 0;
  } catch (err) {
    await write(process.stderr, `${redact(failureLine(err, config))}\n`);
    return 1;
  }
}

process.exit(await main(process.argv.slice(2)));
