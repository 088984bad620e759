// Calendar arithmetic in a time zone: day and month keys, where a local day or month begins (also
// across a daylight-saving change), and which zone names are accepted.
import { describe, expect, it } from "vitest";
import { dayKey, isTimeZone, localTime, monthKey, nextDayStart, nextMonthStart, zonedTime } from "../../functions/core/time-zone.js";

const SH = "Asia/Shanghai";

describe("time zones", () => {
  it("gives the local day and month: 16:30 UTC on Dec 31 is already Jan 1 in Shanghai", () => {
    const t = Date.parse("2026-12-31T16:30:00Z");
    expect(dayKey(t, SH)).toBe("2027-01-01");
    expect(monthKey(t, SH)).toBe("2027-01");
    expect(dayKey(t, "UTC")).toBe("2026-12-31");
    expect(localTime(t, SH)).toEqual({ year: 2027, month: 1, day: 1, hour: 0, minute: 30, second: 0 });
  });

  it("finds the next local midnight and the first of the next month", () => {
    const t = Date.parse("2026-12-31T15:59:59Z"); // 23:59:59 in Shanghai
    expect(new Date(nextDayStart(t, SH)).toISOString()).toBe("2026-12-31T16:00:00.000Z");
    expect(new Date(nextMonthStart(t, SH)).toISOString()).toBe("2026-12-31T16:00:00.000Z");
    expect(new Date(nextMonthStart(Date.parse("2026-02-10T00:00:00Z"), "UTC")).toISOString()).toBe("2026-03-01T00:00:00.000Z");
  });

  it("handles a day that is 23 hours long (New York, 8 March 2026)", () => {
    const ny = "America/New_York";
    const t = Date.parse("2026-03-08T06:00:00Z"); // 01:00 EST
    expect(new Date(nextDayStart(t, ny)).toISOString()).toBe("2026-03-09T04:00:00.000Z"); // 00:00 EDT
    expect(new Date(zonedTime({ year: 2026, month: 3, day: 8, hour: 12 }, ny)).toISOString()).toBe("2026-03-08T16:00:00.000Z");
  });

  it("accepts IANA names and refuses others", () => {
    expect(isTimeZone("Asia/Shanghai")).toBe(true);
    expect(isTimeZone("UTC")).toBe(true);
    expect(isTimeZone("Beijing")).toBe(false);
  });
});
