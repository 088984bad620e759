// Times as people in the bot's time zone (agents.defaults.timezone) read them, on top of
// time-zone.ts, and 5-field cron expressions (croner) evaluated in a zone: the next occurrence, the
// latest one that is due, and the shortest gap between occurrences.
import { Cron } from "croner";
import { localTime } from "../time-zone.js";

const WEEKDAYS = "日一二三四五六";
const pad = (n: number) => String(n).padStart(2, "0");

/** "2024-06-07 18:00" in the zone. */
export function wallClock(ms: number, timeZone: string): string {
  const t = localTime(ms, timeZone);
  return `${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}`;
}

/** "2024-06-07 18:00（周五）" in the zone: how the bot shows a time to people. */
export function displayTime(ms: number, timeZone: string): string {
  const t = localTime(ms, timeZone);
  return `${wallClock(ms, timeZone)}（周${WEEKDAYS[new Date(Date.UTC(t.year, t.month - 1, t.day)).getUTCDay()]}）`;
}

/** The zone's UTC offset at that instant, "+08:00" (for ISO 8601 times the model can copy). */
export function offsetAt(ms: number, timeZone: string): string {
  const t = localTime(ms, timeZone);
  const minutes = Math.round((Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) - Math.floor(ms / 1000) * 1000) / 60_000);
  const a = Math.abs(minutes);
  return `${minutes < 0 ? "-" : "+"}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** The instant as ISO 8601 with the zone's offset, "2024-06-07T18:00:00+08:00". */
export function isoInZone(ms: number, timeZone: string): string {
  const t = localTime(ms, timeZone);
  return `${t.year}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${offsetAt(ms, timeZone)}`;
}

/** "2 小时 5 分钟", "45 分钟", "不到 1 分钟". */
export function durationText(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return "不到 1 分钟";
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  return [days ? `${days} 天` : "", hours ? `${hours} 小时` : "", rest ? `${rest} 分钟` : ""].filter(Boolean).join(" ");
}

/** A 5-field cron expression (minute hour day-of-month month day-of-week) in a time zone. */
export class CronSchedule {
  private readonly cron: Cron;

  /** Throws CronError with a readable reason when the expression is not valid. */
  constructor(
    readonly expression: string,
    readonly timeZone: string,
  ) {
    if (expression.trim().split(/\s+/).length !== 5)
      throw new CronError(`"${expression}" needs exactly 5 fields: minute hour day-of-month month day-of-week (example: "0 9 * * 1-5")`);
    try {
      // Vixie cron's rule: when both day fields are restricted, either one matching is enough.
      this.cron = new Cron(expression, { timezone: timeZone, paused: true, mode: "5-part", domAndDow: false });
    } catch (err) {
      throw new CronError(`"${expression}": ${err instanceof Error ? err.message.replace(/^CronPattern:\s*/, "") : String(err)}`);
    }
  }

  /** The first occurrence strictly after `afterMs`, or undefined when there is none. */
  next(afterMs: number): number | undefined {
    return this.cron.nextRun(new Date(afterMs))?.getTime();
  }

  /** The latest occurrence at or before `atMs`, or undefined. */
  latest(atMs: number): number | undefined {
    // previousRuns looks strictly before its reference; an occurrence exactly at `atMs` counts as due.
    return this.cron.previousRuns(1, new Date(atMs + 1))[0]?.getTime();
  }

  /** The shortest gap between the next `count` occurrences after `fromMs` (Infinity with fewer than two). */
  shortestGap(fromMs: number, count = 24): number {
    const runs = this.cron.nextRuns(count, new Date(fromMs)).map((d) => d.getTime());
    let gap = Infinity;
    for (let i = 1; i < runs.length; i++) gap = Math.min(gap, runs[i]! - runs[i - 1]!);
    return gap;
  }
}

export class CronError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CronError";
  }
}
