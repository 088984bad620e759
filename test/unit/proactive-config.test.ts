// Time zones, cron in a zone, and the config keys of reminders, schedules and notifications.
import { describe, expect, it } from "vitest";
import { isAdmin } from "../../functions/core/access.js";
import { ConfigError, parseConfig } from "../../functions/core/config.js";
import { CronError, CronSchedule, displayTime, durationText, isoInZone } from "../../functions/core/proactive/time.js";
import { systemPrompt } from "../../functions/core/replies.js";
import type { InboundMessage } from "../../functions/core/dingtalk/inbound.js";

const problems = (input: unknown): string[] => {
  try {
    parseConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe("time in a zone", () => {
  // 2024-06-07 is a Friday; 12:00 UTC is 20:00 in Shanghai.
  const friday = Date.parse("2024-06-07T12:00:00Z");

  it("shows instants as people in the zone read them", () => {
    expect(displayTime(friday, "Asia/Shanghai")).toBe("2024-06-07 20:00（周五）");
    expect(displayTime(friday, "Europe/Berlin")).toBe("2024-06-07 14:00（周五）");
    expect(isoInZone(friday, "Asia/Shanghai")).toBe("2024-06-07T20:00:00+08:00");
    expect(isoInZone(friday, "UTC")).toBe("2024-06-07T12:00:00+00:00");
    expect(durationText(2 * 3_600_000 + 5 * 60_000)).toBe("2 小时 5 分钟");
    expect(durationText(20_000)).toBe("不到 1 分钟");
  });

  it("evaluates cron in the zone: next, latest due, shortest gap", () => {
    const workdays = new CronSchedule("0 18 * * 1-5", "Asia/Shanghai");
    // Friday 20:00 Shanghai → next is Monday 18:00 Shanghai (10:00 UTC).
    expect(new Date(workdays.next(friday)!).toISOString()).toBe("2024-06-10T10:00:00.000Z");
    expect(new Date(workdays.latest(friday)!).toISOString()).toBe("2024-06-07T10:00:00.000Z");
    // An occurrence exactly at the reference is due, and "next" is strictly after it.
    const at = Date.parse("2024-06-07T10:00:00Z");
    expect(workdays.latest(at)).toBe(at);
    expect(workdays.next(at)).toBe(Date.parse("2024-06-10T10:00:00Z"));
    expect(new CronSchedule("*/5 * * * *", "UTC").shortestGap(friday)).toBe(5 * 60_000);
    expect(new CronSchedule("0 9 * * *", "UTC").shortestGap(friday)).toBe(86_400_000);
  });

  it("names what is wrong with a cron expression", () => {
    expect(() => new CronSchedule("0 0 0 * * *", "UTC")).toThrow(CronError);
    expect(() => new CronSchedule("0 0 0 * * *", "UTC")).toThrow(/exactly 5 fields/);
    expect(() => new CronSchedule("61 * * * *", "UTC")).toThrow(/minute/);
  });

  it("the system prompt carries the current time in the configured zone", () => {
    const msg = { conversation: { type: "direct", id: "c" }, sender: { id: "u", nick: "张三" } } as InboundMessage;
    expect(systemPrompt(undefined, msg, friday)).toContain("当前北京时间：2024-06-07 20:00（周五），UTC 偏移 +08:00");
    expect(systemPrompt(undefined, msg, friday, "Europe/Berlin")).toContain("当前Europe/Berlin 时间：2024-06-07 14:00（周五），UTC 偏移 +02:00");
  });
});

describe("config: timezone, admins, notify_token, schedules, reminder limits", () => {
  it("has defaults", () => {
    const c = parseConfig({});
    expect(c.agent.timezone).toBe("Asia/Shanghai");
    expect(c.dingtalk.admins).toEqual([]);
    expect(c.dingtalk.notifyToken).toBeUndefined();
    expect(c.schedules).toEqual([]);
    expect(c.tools.reminders).toEqual({ enabled: true, maxPerUser: 20, minIntervalMinutes: 60 });
  });

  it("reads them, the token also from DINGCLAW_NOTIFY_TOKEN", () => {
    const c = parseConfig(
      {
        agents: { defaults: { timezone: "Europe/Berlin" } },
        channels: { dingtalk: { admins: ["boss", 42] } },
        tools: { reminders: { max_per_user: 5, min_interval_minutes: 30 } },
        schedules: [
          { name: "daily", cron: "0 9 * * 1-5", to: { group: "cidG==" }, text: "早上好" },
          { name: "news", cron: "30 8 * * *", timezone: "Asia/Shanghai", to: { users: ["u1", 2] }, prompt: "今日 AI 新闻摘要" },
          { name: "off", enabled: false, cron: "0 9 * * *", to: { group: "cidG==" }, text: "x" },
        ],
      },
      { DINGCLAW_NOTIFY_TOKEN: "tok-from-env" },
    );
    expect(c.dingtalk.admins).toEqual(["boss", "42"]);
    expect(isAdmin(c.dingtalk, "boss")).toBe(true);
    expect(isAdmin(c.dingtalk, "someone")).toBe(false);
    expect(isAdmin(c.dingtalk, undefined)).toBe(false);
    expect(c.dingtalk.notifyToken).toBe("tok-from-env");
    expect(c.tools.reminders).toEqual({ enabled: true, maxPerUser: 5, minIntervalMinutes: 30 });
    expect(c.schedules).toEqual([
      { name: "daily", cron: "0 9 * * 1-5", timezone: "Europe/Berlin", to: { group: "cidG==" }, text: "早上好" },
      { name: "news", cron: "30 8 * * *", timezone: "Asia/Shanghai", to: { users: ["u1", "2"] }, prompt: "今日 AI 新闻摘要" },
    ]);
  });

  it("names every bad schedule field with an example", () => {
    expect(problems({ agents: { defaults: { timezone: "Beijing" } } })).toEqual([
      'agents.defaults.timezone: must be an IANA time zone name (example: "Asia/Shanghai")',
    ]);
    const found = problems({
      schedules: [
        { name: "a", cron: "0 25 * * *", to: { group: "g" }, text: "x" },
        { name: "a", cron: "0 9 * * *", to: { group: "g" }, text: "x", prompt: "y" },
        { name: "b", cron: "0 9 * * *", timezone: "Nowhere/City", to: { users: [] }, text: "x" },
      ],
    });
    expect(found).toEqual([expect.stringMatching(/^schedules\[2\]\.to\.users: must list at least one staff id/)]);
    const more = problems({
      schedules: [
        { name: "a", cron: "0 25 * * *", to: { group: "g" }, text: "x" },
        { name: "a", cron: "0 9 * * *", to: { group: "g" }, text: "x", prompt: "y" },
        { name: "b", cron: "0 9 * * *", timezone: "Nowhere/City", to: { group: "g" } },
      ],
    });
    expect(more).toEqual([
      expect.stringMatching(/^schedules\[0\]\.cron: "0 25 \* \* \*": .*hour.*\(example: "0 9 \* \* 1-5"\)$/),
      'schedules[1].name: "a" is used by another schedule (example: "daily-ai-news")',
      'schedules[1].text: needs either "text" (posted as is) or "prompt" (the assistant answers it), not both (example: "早上好，记得填写日报")',
      'schedules[2].timezone: "Nowhere/City" is not a time zone (example: "Asia/Shanghai")',
      'schedules[2].text: needs either "text" (posted as is) or "prompt" (the assistant answers it), not both (example: "早上好，记得填写日报")',
    ]);
  });
});
