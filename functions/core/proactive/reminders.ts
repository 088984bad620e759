// What a reminder means, apart from where it is stored: where one set in a chat belongs and is sent,
// when it fires (a moment with an offset, or a 5-field cron in a zone, within the limits), who may
// cancel it, and how it reads in /reminders, list_reminders and the message that delivers it.
import { isTimeZone } from "../time-zone.js";
import { ReminderLimitError, type NewReminder, type Reminder, type ReminderStore, type ReminderTiming } from "../store/reminders.js";
import type { Recipients } from "./config.js";
import { CronError, CronSchedule, displayTime, durationText, isoInZone } from "./time.js";

/** Longest reminder text (one message, always). */
export const MAX_REMINDER_TEXT = 500;
/** How far ahead a reminder may be set (its record must be rewritten within a year: store/items.ts). */
export const MAX_AHEAD_MS = 360 * 86_400_000;
/** A time this little in the past counts as now (the model reads the time to the minute). */
const PAST_GRACE_MS = 120_000;

export interface ReminderLimits {
  /** Active reminders per person; undefined: no limit (admins). */
  maxActive: number | undefined;
  minIntervalMinutes: number;
}

/** Who sets or cancels, and in which chat. */
export interface ReminderCaller {
  /** Staff id, else DingTalk's sender id. */
  id: string;
  staffId: string | undefined;
  nick?: string;
  admin: boolean;
  conversation: { id: string; type: "direct" | "group" };
  robotCode: string;
}

export type ReminderProblemKind = "bad_args" | "limit" | "permission" | "not_found";

/** A request that cannot be done, in words the model (or the person) can act on. */
export class ReminderProblem extends Error {
  constructor(
    readonly kind: ReminderProblemKind,
    message: string,
  ) {
    super(message);
    this.name = "ReminderProblem";
  }
}

/** The conversation a reminder belongs to. */
export function whereOf(conversation: ReminderCaller["conversation"], staffId: string | undefined, id: string): string {
  return conversation.type === "group" ? `group:${conversation.id}` : `dm:${staffId || id}`;
}

/** Where a reminder set here is sent: the group, or the setter's 1:1 chat (needs a staff id). */
function recipientsOf(caller: ReminderCaller): Recipients {
  if (caller.conversation.type === "group") return { group: caller.conversation.id };
  if (!caller.staffId) throw new ReminderProblem("permission", "无法主动给这个用户发消息（没有企业内的 staffId，例如外部联系人），所以不能设置提醒。");
  return { users: [caller.staffId] };
}

export interface ReminderRequest {
  text: string;
  at?: string | undefined;
  cron?: string | undefined;
  timezone?: string | undefined;
}

/** Checks a request and works out its first firing; throws ReminderProblem with what to change. */
export function planReminder(req: ReminderRequest, now: number, defaultZone: string, minIntervalMinutes: number): { timing: ReminderTiming; nextAt: number } {
  const zone = req.timezone?.trim() || defaultZone;
  if (!isTimeZone(zone)) throw new ReminderProblem("bad_args", `"${zone}" 不是有效的时区（IANA 名称，例如 Asia/Shanghai）。`);
  const text = req.text.trim();
  if (!text) throw new ReminderProblem("bad_args", "提醒内容 text 不能为空。");
  if (text.length > MAX_REMINDER_TEXT) throw new ReminderProblem("bad_args", `提醒内容最多 ${MAX_REMINDER_TEXT} 个字。`);
  const nowText = `现在是 ${isoInZone(now, zone)}`;
  if (Boolean(req.at) === Boolean(req.cron))
    throw new ReminderProblem("bad_args", `需要 at（一次性，ISO 8601 带时区偏移，例如 ${isoInZone(now + 3_600_000, zone)}）或 cron（重复，5 段，例如 "0 18 * * 1-5"）二者之一。`);
  if (req.at) {
    const at = req.at.trim();
    if (!/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(at) || Number.isNaN(Date.parse(at)))
      throw new ReminderProblem("bad_args", `at 需要 ISO 8601 格式并带时区偏移，例如 ${isoInZone(now + 3_600_000, zone)}（${nowText}）。`);
    const ms = Date.parse(at);
    if (ms < now - PAST_GRACE_MS) throw new ReminderProblem("bad_args", `${at} 已经过去了（${nowText}），请换一个将来的时间。`);
    if (ms > now + MAX_AHEAD_MS) throw new ReminderProblem("limit", `提醒最多只能设置在 ${Math.round(MAX_AHEAD_MS / 86_400_000)} 天以内。`);
    return { timing: { at: Math.max(ms, now) }, nextAt: Math.max(ms, now) };
  }
  let cron: CronSchedule;
  try {
    cron = new CronSchedule(req.cron!.trim(), zone);
  } catch (err) {
    if (err instanceof CronError) throw new ReminderProblem("bad_args", `cron 无效：${err.message}`);
    throw err;
  }
  const next = cron.next(now);
  if (next === undefined || next > now + MAX_AHEAD_MS)
    throw new ReminderProblem("bad_args", `cron "${cron.expression}" 在 ${Math.round(MAX_AHEAD_MS / 86_400_000)} 天内不会触发，请检查表达式。`);
  if (cron.shortestGap(now) < minIntervalMinutes * 60_000)
    throw new ReminderProblem("limit", `重复提醒的间隔最短 ${minIntervalMinutes} 分钟，"${cron.expression}" 太频繁了。`);
  return { timing: { cron: cron.expression, timezone: zone }, nextAt: next };
}

/** Creates a reminder in the caller's chat. */
export async function createReminder(store: ReminderStore, req: ReminderRequest, caller: ReminderCaller, limits: ReminderLimits, now: number, defaultZone: string): Promise<Reminder> {
  const to = recipientsOf(caller);
  const plan = planReminder(req, now, defaultZone, limits.minIntervalMinutes);
  const input: NewReminder = {
    owner: caller.id,
    ...(caller.nick ? { ownerNick: caller.nick } : {}),
    where: whereOf(caller.conversation, caller.staffId, caller.id),
    to,
    robotCode: caller.robotCode,
    text: req.text.trim(),
    ...plan,
  };
  try {
    return await store.create(input, limits.maxActive);
  } catch (err) {
    if (err instanceof ReminderLimitError)
      throw new ReminderProblem("limit", `每人最多 ${err.limit} 个进行中的提醒，已经到上限了；请先取消不需要的提醒。`);
    throw err;
  }
}

/** Cancels a reminder of the caller's chat: only its setter or an admin may. */
export async function cancelReminder(store: ReminderStore, id: string, caller: ReminderCaller): Promise<Reminder> {
  const where = whereOf(caller.conversation, caller.staffId, caller.id);
  const wanted = id.trim().toLowerCase();
  for (let round = 0; round < 5; round++) {
    const r = await store.find(where, wanted);
    if (!r) throw new ReminderProblem("not_found", `这个对话里没有编号为 ${wanted} 的提醒（发送 /reminders 查看）。`);
    if (r.owner !== caller.id && !caller.admin) throw new ReminderProblem("permission", `提醒 ${r.id} 是${r.ownerNick ?? "别人"}设置的，只有设置人或管理员可以取消。`);
    if (r.status !== "active") throw new ReminderProblem("not_found", `提醒 ${r.id} 已经${STATUS_WORDS[r.status]}，无需取消。`);
    const saved = await store.save(r, { ...r, status: "cancelled" });
    if (saved) return saved;
  }
  throw new Error("the reminder kept changing while it was being cancelled");
}

const STATUS_WORDS: Record<Reminder["status"], string> = { active: "进行中", done: "完成", failed: "发送失败", cancelled: "取消" };

/** "每个 cron 0 18 * * 1-5" or "一次" plus the time, for lists. */
function whenText(r: Reminder, zone: string): string {
  const repeat = "cron" in r.timing ? `重复（cron \`${r.timing.cron}\`${r.timing.timezone !== zone ? `，${r.timing.timezone}` : ""}）` : "一次";
  if (r.status === "active" && r.nextAt !== undefined) return `${repeat}，下次 ${displayTime(r.nextAt, zoneOf(r, zone))}`;
  return repeat;
}

const zoneOf = (r: Reminder, zone: string) => ("cron" in r.timing ? r.timing.timezone : zone);

/** One line per reminder for /reminders. */
export function reminderLine(r: Reminder, zone: string, group: boolean): string {
  const by = group && r.ownerNick ? ` · ${r.ownerNick} 设置` : "";
  const state = r.status === "failed" ? ` · ❌ 发送失败${r.error ? `：${r.error}` : ""}` : r.status === "active" ? "" : ` · 已${STATUS_WORDS[r.status]}`;
  return `- \`${r.id}\` ${r.text} · ${whenText(r, zone)}${by}${state}`;
}

/** What list_reminders returns to the model. */
export function reminderFacts(r: Reminder, zone: string): Record<string, unknown> {
  return {
    id: r.id,
    text: r.text,
    status: r.status,
    ...("cron" in r.timing ? { cron: r.timing.cron, timezone: r.timing.timezone } : {}),
    ...(r.nextAt !== undefined && r.status === "active" ? { next: isoInZone(r.nextAt, zoneOf(r, zone)) } : {}),
    ...(r.ownerNick ? { set_by: r.ownerNick } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

/** The message a firing delivers; says how late it is when it comes late. */
export function reminderMessage(r: Reminder, occurrence: number, now: number, zone: string): { markdown: string; title: string } {
  const late = lateNote(occurrence, now, zoneOf(r, zone));
  const by = "group" in r.to && r.ownerNick ? `\n\n—— ${r.ownerNick} 设置的提醒` : "";
  return { title: `⏰ 提醒：${r.text.slice(0, 30)}`, markdown: `⏰ **提醒**：${r.text}${by}${late}` };
}

/** A firing later than this says so. */
const LATE_NOTE_AFTER_MS = 3 * 60_000;

/** "（原定 09:00，晚了 2 小时）" after a late firing's text; empty when it is on time. */
export function lateNote(occurrence: number, now: number, zone: string): string {
  return now - occurrence >= LATE_NOTE_AFTER_MS ? `\n\n（原定 ${displayTime(occurrence, zone)}，晚了 ${durationText(now - occurrence)}）` : "";
}

/** `/reminders` (this chat's reminders) and `/reminders cancel <id>`, answered without the LLM. */
export async function remindersCommand(store: ReminderStore | undefined, cancelId: string | undefined, caller: ReminderCaller, zone: string): Promise<string> {
  if (!store) return "这里没有开启提醒功能。";
  if (cancelId) {
    try {
      const r = await cancelReminder(store, cancelId, caller);
      return `已取消提醒 \`${r.id}\`：${r.text}`;
    } catch (err) {
      if (err instanceof ReminderProblem) return err.message;
      throw err;
    }
  }
  const group = caller.conversation.type === "group";
  const all = await store.listIn(whereOf(caller.conversation, caller.staffId, caller.id));
  if (all.length === 0) return `这个对话还没有提醒。直接告诉我就能设置，例如“明天上午9点提醒我开周会”“每个工作日18:00提醒我写日报”。`;
  return [`**这个对话的提醒**（${displayZone(zone)}）`, "", ...all.map((r) => reminderLine(r, zone, group)), "", "取消：`/reminders cancel 编号`"].join("\n");
}

const displayZone = (zone: string) => (zone === "Asia/Shanghai" ? "北京时间" : zone);
