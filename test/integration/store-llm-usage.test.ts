// The LLM usage store on both backends: a turn's calls added to the org (by model), the user and the
// group with per-day figures in the org's zone; the per-minute message counter; month listings;
// forgetUser removes a user's details and keeps the anonymous totals.
import { describe, expect, it } from "vitest";
import { LlmUsageStore, type CallUsage } from "../../functions/core/store/llm-usage.js";
import { BACKENDS, useBackend } from "../helpers/backends.js";

const glm = (promptTokens: number, completionTokens: number, cost: number | undefined = promptTokens * 4 + completionTokens * 16): CallUsage => ({
  modelName: "glm",
  promptTokens,
  completionTokens,
  cost,
});

describe.each(BACKENDS)("%s", (kind) => {
  const db = useBackend(kind);
  const clock = { now: Date.parse("2026-12-31T23:30:00+08:00") };
  const store = () => new LlmUsageStore(db.table, { timeZone: "Asia/Shanghai", now: () => clock.now });

  it("adds a turn to the org by model, the user and the group, per local day", async () => {
    const s = store();
    await s.record({ user: { id: "u1", name: "张三" }, group: { id: "g1", name: "项目群" }, calls: [glm(100, 50), { modelName: "free", promptTokens: 10, completionTokens: 5, cost: undefined }] });
    await s.record({ user: { id: "u1" }, calls: [glm(200, 100)] });
    const user = await s.user("u1");
    expect(user).toMatchObject({ id: "u1", name: "张三", tokens: 465, input: 310, output: 155, cost: 400 + 800 + 800 + 1600, unpriced: 15, turns: 2 });
    expect(user.days).toEqual({ "31": { tokens: 465, cost: 3600, unpriced: 15 } });
    expect(await s.group("g1")).toMatchObject({ name: "项目群", tokens: 165, turns: 1, days: { "31": { tokens: 165, cost: 1200, unpriced: 15 } } });
    const org = await s.org("2026-12");
    expect(org).toMatchObject({ month: "2026-12", tokens: 465, turns: 2, cost: 3600, unpriced: 15 });
    expect(org.models).toEqual({ glm: { input: 300, output: 150, cost: 3600, unpriced: 0, calls: 2 }, free: { input: 10, output: 5, cost: 0, unpriced: 15, calls: 1 } });

    // 00:30 in Shanghai is a new day and a new month.
    clock.now += 3_600_000;
    expect(s.today()).toEqual({ month: "2027-01", day: "01" });
    await s.record({ user: { id: "u1" }, calls: [glm(1, 1)] });
    expect((await s.user("u1")).tokens).toBe(2);
    expect((await s.user("u1", "2026-12")).tokens).toBe(465);
    expect((await s.users("2026-12")).map((u) => u.id)).toEqual(["u1"]);
    expect((await s.groups("2027-01"))).toEqual([]);
  });

  it("takes at most `max` messages per minute, atomically, on the user's item", async () => {
    const s = store();
    clock.now = Date.parse("2027-02-01T09:00:10+08:00");
    await s.record({ user: { id: "rate" }, calls: [glm(5, 5)] });
    expect(await s.takeMessage("rate", 3)).toMatchObject({ allowed: true });
    const second = await s.takeMessage("rate", 3);
    expect(second.allowed && second.user.days["01"]?.tokens).toBe(10);
    expect(await s.takeMessage("rate", 3)).toMatchObject({ allowed: true });
    expect(await s.takeMessage("rate", 3)).toEqual({ allowed: false });
    clock.now += 60_000;
    const all = await Promise.all([1, 2, 3, 4, 5].map(() => s.takeMessage("rate", 3)));
    expect(all.filter((r) => r.allowed)).toHaveLength(3);
  });

  it("lists a month's users past one page", async () => {
    const s = store();
    clock.now = Date.parse("2027-03-03T12:00:00+08:00");
    await Promise.all(Array.from({ length: 25 }, (_, i) => s.record({ user: { id: `p${String(i).padStart(2, "0")}` }, calls: [glm(i + 1, 0)] })));
    const users = await s.users("2027-03");
    expect(users).toHaveLength(25);
    expect(users.reduce((n, u) => n + u.tokens, 0)).toBe((25 * 26) / 2);
  });

  it("forgets a user's details in every kept month and keeps the org's anonymous totals", async () => {
    const s = store();
    clock.now = Date.parse("2027-04-10T12:00:00+08:00");
    await s.record({ user: { id: "leaver", name: "李四" }, group: { id: "g-forget" }, calls: [glm(10, 10)] });
    clock.now = Date.parse("2027-05-10T12:00:00+08:00");
    await s.record({ user: { id: "leaver" }, calls: [glm(10, 10)] });
    await s.record({ user: { id: "stayer" }, calls: [glm(1, 1)] });
    expect(await s.forgetUser("leaver")).toBe(2);
    expect((await s.user("leaver")).tokens).toBe(0);
    expect((await s.user("leaver", "2027-04")).tokens).toBe(0);
    expect((await s.users("2027-04")).map((u) => u.id)).toEqual([]);
    expect((await s.user("stayer")).tokens).toBe(2);
    expect((await s.org("2027-04")).tokens).toBe(20);
    expect((await s.group("g-forget", "2027-04")).tokens).toBe(20);
    expect(await s.forgetUser("leaver")).toBe(0);
  });
});
