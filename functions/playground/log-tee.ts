// A logger whose every line (debug included) also reaches a sink as a parsed record — the playground's
// trace collector, for its notes — while only lines at or above `level` are printed.
import { createLogger, type Level, type Logger, type Threshold } from "../core/log.js";

const ORDER: Record<Threshold, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: Infinity };

export function teeLogger(opts: { out: (line: string) => void; level: Threshold; sink: (record: unknown) => void }): Logger {
  return createLogger({
    level: "debug",
    write: (line) => {
      let record: unknown;
      try {
        record = JSON.parse(line);
        opts.sink(record);
      } catch {
        // a sink problem never stops logging
      }
      const level = (record as { level?: unknown } | undefined)?.level;
      const rank = typeof level === "string" && level in ORDER ? ORDER[level as Level] : ORDER.error;
      if (rank >= ORDER[opts.level]) opts.out(line);
    },
  });
}
