// Structured logging: one JSON object per line (FC and SLS parse them), with every registered
// secret masked in the final line, whatever field or error message it hid in.
import { formatWithOptions } from "node:util";

export const LEVELS = ["debug", "info", "warn", "error"] as const;
export type Level = (typeof LEVELS)[number];
/** What LOG_LEVEL accepts: a level, or "silent" for no lines at all. */
export const THRESHOLDS = [...LEVELS, "silent"] as const;
export type Threshold = (typeof THRESHOLDS)[number];
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const MIN_SECRET_LENGTH = 6;
const secrets = new Set<string>();

/** Registers values that must never appear in any log line (client secrets, API keys, tokens). */
export function registerSecret(value: string | undefined | null): void {
  if (!value || value.length < MIN_SECRET_LENGTH) return;
  secrets.add(value);
  secrets.add(JSON.stringify(value).slice(1, -1));
}

/** Replaces every registered secret in `text` with `***`. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join("***");
  return out;
}

/** A plain, secret-free description of any thrown value, for logs and user-facing errors. */
export function describeError(err: unknown): { name: string; message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: redact(err.message),
      ...(typeof code === "string" || typeof code === "number" ? { code: String(code) } : {}),
    };
  }
  return { name: "Error", message: redact(String(err)) };
}

function serialise(value: unknown): unknown {
  return value instanceof Error ? describeError(value) : value;
}

export interface LoggerOptions {
  level?: Threshold;
  write?: (line: string) => void;
  base?: LogFields;
}

/** `level`: the lowest level written (default info; hosts pass LOG_LEVEL). */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = opts.level === "silent" ? Infinity : ORDER[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const make = (base: LogFields): Logger => {
    const emit = (level: Level, msg: string, fields?: LogFields) => {
      if (ORDER[level] < min) return;
      const record: LogFields = { level, time: new Date().toISOString(), msg, ...base };
      if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) record[k] = serialise(v);
      let line: string;
      try {
        line = JSON.stringify(record);
      } catch {
        line = JSON.stringify({ level, time: record.time, msg, note: "fields not serialisable" });
      }
      write(redact(line));
    };
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(opts.base ?? {});
}

/** A logger that drops everything, for tests and library defaults. */
export const silentLogger: Logger = createLogger({ write: () => {} });

/**
 * Routes console.* (used by third-party libraries such as the Stream SDK) through `log`, so that
 * every line a host writes stays one JSON object, secrets masked.
 */
export function captureConsole(log: Logger): void {
  const route = (level: Level) => (...args: unknown[]) =>
    log[level](formatWithOptions({ breakLength: Infinity }, ...args), { source: "console" });
  console.log = route("info");
  console.info = route("info");
  console.debug = route("debug");
  console.warn = route("warn");
  console.error = route("error");
}
