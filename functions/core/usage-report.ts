// What `/usage` and the admin report show. `/usage`: the sender's tokens and cost today and this month
// next to their limits, and their group's today. The month report (`/usage all`, `npm run usage`, the
// worker's {"usage":"YYYY-MM"} event): the org's totals by model, the top users and groups, and the
// DingTalk API calls against the monthly budget, as data (JSON) and as markdown.
import * as z from "zod";
import type { AppConfig } from "./config.js";
import { describeCost, formatTokens } from "./cost.js";
import { ApiUsageStore } from "./store/api-usage.js";
import { LlmUsageStore, type SubjectMonth } from "./store/llm-usage.js";
import type { Table } from "./store/table.js";

export const TOP = 10;

interface Spent {
  tokens: number;
  /** µCNY of the priced part. */
  cost: number;
  unpriced: number;
}

export interface UsageReport {
  month: string;
  timeZone: string;
  org: Spent & { input: number; output: number; turns: number; limit: number | null };
  models: Array<Spent & { name: string; input: number; output: number; calls: number }>;
  users: { count: number; top: Array<Spent & { id: string; name?: string; turns: number }> };
  groups: { count: number; top: Array<Spent & { id: string; name?: string; turns: number }> };
  /** DingTalk API calls this app made in the month (Beijing time), against api_monthly_budget. */
  dingtalk: { calls: number; budget: number; byApi: Record<string, number> } | null;
}

export interface ReportDeps {
  usage: Pick<LlmUsageStore, "org" | "users" | "groups" | "timeZone">;
  apiUsage?: Pick<ApiUsageStore, "monthOf">;
  config: Pick<AppConfig, "limits" | "dingtalk">;
}

const MONTH_ERROR = 'must be a month as "YYYY-MM" (example: "2026-12")';
export const MonthSchema = z.string().trim().regex(/^\d{4}-(0[1-9]|1[0-2])$/, { error: MONTH_ERROR });
const UsageEventSchema = z.object({ usage: MonthSchema });

/**
 * A function event asking for a month's report (`{"usage":"2026-12"}`, as `serverless invoke` sends
 * it): the month, a reason when `usage` is there but wrong, or undefined for any other event.
 */
export function parseUsageEvent(event: unknown): { month: string } | { error: string } | undefined {
  if (typeof event !== "object" || event === null || !("usage" in event)) return undefined;
  const parsed = UsageEventSchema.safeParse(event);
  return parsed.success ? { month: parsed.data.usage } : { error: `usage: ${MONTH_ERROR}` };
}

/** The report's sources for a host that has only the table and the config (npm run usage). */
export function reportDeps(table: Table, config: Pick<AppConfig, "limits" | "dingtalk" | "agent">): ReportDeps & { usage: LlmUsageStore } {
  const clientId = config.dingtalk.credentials?.clientId;
  return {
    usage: new LlmUsageStore(table, { timeZone: config.agent.timezone }),
    ...(clientId ? { apiUsage: new ApiUsageStore(table, { app: clientId }) } : {}),
    config,
  };
}

function top(list: SubjectMonth[], n: number): UsageReport["users"]["top"] {
  return [...list]
    .sort((a, b) => b.tokens - a.tokens || a.id.localeCompare(b.id))
    .slice(0, n)
    .map(({ id, name, tokens, cost, unpriced, turns }) => ({ id, ...(name ? { name } : {}), tokens, cost, unpriced, turns }));
}

/** The month's report ("YYYY-MM" in the org's zone) from the table: one read of the org item, one query per listing. */
export async function buildUsageReport(deps: ReportDeps, month: string, n = TOP): Promise<UsageReport> {
  const [org, users, groups, api] = await Promise.all([
    deps.usage.org(month),
    deps.usage.users(month),
    deps.usage.groups(month),
    deps.apiUsage?.monthOf(month),
  ]);
  const models = Object.entries(org.models)
    .map(([name, m]) => ({ name, tokens: m.input + m.output, input: m.input, output: m.output, cost: m.cost, unpriced: m.unpriced, calls: m.calls }))
    .sort((a, b) => b.tokens - a.tokens || a.name.localeCompare(b.name));
  const { tokens, input, output, cost, unpriced, turns } = org;
  return {
    month,
    timeZone: deps.usage.timeZone,
    org: { tokens, input, output, cost, unpriced, turns, limit: deps.config.limits.orgMonthlyTokens || null },
    models,
    users: { count: users.length, top: top(users, n) },
    groups: { count: groups.length, top: top(groups, n) },
    dingtalk: api ? { calls: api.calls, budget: deps.config.dingtalk.apiMonthlyBudget, byApi: api.byApi } : null,
  };
}

const spent = (s: Spent) => `${formatTokens(s.tokens)} tokens，费用 ${describeCost(s.cost, s.unpriced)}`;
const who = (s: { id: string; name?: string }) => (s.name ? `${s.name}（${s.id}）` : s.id);

/** The report as markdown (chat and terminal). */
export function formatUsageReport(r: UsageReport): string {
  const lines = [`**${r.month} 用量报告**（${r.timeZone}）`, ""];
  const limit = r.org.limit ? `，月上限 ${formatTokens(r.org.limit)} tokens（已用 ${Math.floor((r.org.tokens / r.org.limit) * 100)}%）` : "";
  lines.push(`全公司：${spent(r.org)}（输入 ${formatTokens(r.org.input)}，输出 ${formatTokens(r.org.output)}），${r.org.turns} 次对话${limit}`);
  if (r.models.length) {
    lines.push("", "**按模型**");
    for (const m of r.models) lines.push(`- ${m.name}：${spent(m)}，${m.calls} 次调用`);
  }
  const listing = (title: string, l: UsageReport["users"]) => {
    if (!l.count) return;
    lines.push("", `**${title}**（前 ${l.top.length} / 共 ${l.count}）`);
    for (const s of l.top) lines.push(`- ${who(s)}：${spent(s)}，${s.turns} 次对话`);
  };
  listing("用量最多的人", r.users);
  listing("用量最多的群", r.groups);
  if (r.dingtalk) lines.push("", `钉钉接口调用：${formatTokens(r.dingtalk.calls)} / ${formatTokens(r.dingtalk.budget)} 次（本月额度）`);
  if (!r.org.turns && !r.models.length) lines.push("", "这个月还没有 AI 用量记录。");
  return lines.join("\n");
}

export interface PersonalUsage {
  timeZone: string;
  today: Spent;
  month: Spent;
  group?: { today: Spent };
  org?: { tokens: number };
  limits: AppConfig["limits"];
  admin: boolean;
}

/** The sender's part of `/usage`. */
export function formatPersonalUsage(p: PersonalUsage): string {
  const cap = (limit: number, used: number, unit: string) => (limit > 0 ? `；上限 ${formatTokens(limit)} tokens/${unit}（已用 ${Math.floor((used / limit) * 100)}%）` : "");
  const l = p.admin ? { ...p.limits, userDailyTokens: 0, groupDailyTokens: 0, orgMonthlyTokens: 0, userMessagesPerMinute: 0 } : p.limits;
  const lines = [
    `**你的用量**（按 ${p.timeZone} 日历）`,
    `- 今天：${spent(p.today)}${cap(l.userDailyTokens, p.today.tokens, "天")}`,
    `- 本月：${spent(p.month)}`,
  ];
  if (l.userMessagesPerMinute > 0) lines.push(`- 每分钟最多 ${l.userMessagesPerMinute} 条消息`);
  if (p.group) lines.push(`- 本群今天：${spent(p.group.today)}${cap(l.groupDailyTokens, p.group.today.tokens, "天")}`);
  if (p.org && l.orgMonthlyTokens > 0) lines.push(`- 全公司本月：${formatTokens(p.org.tokens)} tokens${cap(l.orgMonthlyTokens, p.org.tokens, "月")}`);
  if (p.admin) lines.push("- 你是管理员，不受用量上限限制；发送 `/usage all` 查看全公司报告");
  return lines.join("\n");
}
