// Calendar arithmetic in a named IANA time zone (agents.defaults.timezone): a moment's local date and
// time, day and month keys, and the moment a local day or month begins. Uses Intl only.

export interface LocalTime {
  year: number;
  /** 1-12. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether Intl knows the zone (e.g. "Asia/Shanghai", "UTC"). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time at `ms` in `timeZone`. */
export function localTime(ms: number, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== "literal") parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** How far the zone's clock is ahead of UTC at `ms` (UTC+8: 28,800,000). */
function offsetMs(ms: number, timeZone: string): number {
  const t = localTime(ms, timeZone);
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) - Math.floor(ms / 1000) * 1000;
}

/**
 * The moment the zone's clock shows this wall-clock time. Fields may overflow (day 32 is the next
 * month's first); a time skipped by a daylight-saving change maps to the moment just after the gap.
 */
export function zonedTime(t: Partial<LocalTime> & Pick<LocalTime, "year" | "month" | "day">, timeZone: string): number {
  const wall = Date.UTC(t.year, t.month - 1, t.day, t.hour ?? 0, t.minute ?? 0, t.second ?? 0);
  const first = wall - offsetMs(wall, timeZone);
  const second = wall - offsetMs(first, timeZone);
  return Math.max(first, second);
}

const pad = (n: number) => String(n).padStart(2, "0");

/** "YYYY-MM-DD" of the local day at `ms`. */
export function dayKey(ms: number, timeZone: string): string {
  const t = localTime(ms, timeZone);
  return `${t.year}-${pad(t.month)}-${pad(t.day)}`;
}

/** "YYYY-MM" of the local month at `ms`. */
export function monthKey(ms: number, timeZone: string): string {
  const t = localTime(ms, timeZone);
  return `${t.year}-${pad(t.month)}`;
}

/** When the local day after the one at `ms` begins (its 00:00). */
export function nextDayStart(ms: number, timeZone: string): number {
  const t = localTime(ms, timeZone);
  return zonedTime({ year: t.year, month: t.month, day: t.day + 1 }, timeZone);
}

/** When the local month after the one at `ms` begins (its first day, 00:00). */
export function nextMonthStart(ms: number, timeZone: string): number {
  const t = localTime(ms, timeZone);
  return zonedTime({ year: t.year, month: t.month + 1, day: 1 }, timeZone);
}
