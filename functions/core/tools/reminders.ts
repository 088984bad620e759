// The reminder tools: `create_reminder` {text, at? | cron?, timezone?}, `list_reminders` {} and
// `cancel_reminder` {id}, over the reminder store and proactive/reminders.ts (which holds the rules).
// A reminder belongs to the chat it was set in; the limits are tools.reminders (admins are exempt).
import * as z from "zod";
import { callerOf } from "../access.js";
import type { AppConfig } from "../config.js";
import { cancelReminder, createReminder, reminderFacts, ReminderProblem, whereOf, type ReminderCaller } from "../proactive/reminders.js";
import { displayTime, isoInZone } from "../proactive/time.js";
import type { ReminderStore } from "../store/reminders.js";
import { ToolError, defineTool, type Tool, type ToolContext } from "./types.js";

export type RemindersToolConfig = Pick<AppConfig, "tools"> & { agent: Pick<AppConfig["agent"], "timezone">; dingtalk: Pick<AppConfig["dingtalk"], "admins"> };

function reminderCaller(ctx: ToolContext, config: RemindersToolConfig): ReminderCaller {
  return {
    ...callerOf(ctx.sender, config.dingtalk),
    ...(ctx.sender.nick ? { nick: ctx.sender.nick } : {}),
    conversation: { id: ctx.conversation.id, type: ctx.conversation.type },
    robotCode: ctx.robotCode,
  };
}

async function asToolError<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ReminderProblem) throw new ToolError(err.kind, err.message);
    throw err;
  }
}

export function reminderTools(store: ReminderStore, config: RemindersToolConfig): Tool[] {
  const zone = config.agent.timezone;
  const limits = config.tools.reminders;

  const create = defineTool({
    name: "create_reminder",
    description:
      "Sets a reminder that the bot sends later in this chat (to the user in a 1:1 chat, to the group in a group). " +
      "Give exactly one of `at` (once: ISO 8601 with the UTC offset, e.g. 2026-06-07T09:00:00+08:00; work it out from the current time in the system prompt) " +
      "or `cron` (repeating: 5 fields minute hour day-of-month month day-of-week, e.g. `0 18 * * 1-5` for every workday at 18:00). " +
      `\`timezone\` (IANA) only when the user names another zone; default ${zone}. Returns the reminder id and its next time.`,
    args: z.object({
      text: z.string().describe("What to remind of, as the reminder should read, e.g. 开周会"),
      at: z.string().optional().describe("Once: ISO 8601 date-time with offset"),
      cron: z.string().optional().describe("Repeating: 5-field cron expression"),
      timezone: z.string().optional().describe("IANA time zone for cron, when not the default"),
    }),
    sideEffects: true,
    timeoutMs: 10_000,
    status: (a) => `正在设置提醒：${a.text.slice(0, 30)}`,
    run: (args, ctx) =>
      asToolError(async () => {
        const caller = reminderCaller(ctx, config);
        const r = await createReminder(store, args, caller, { maxActive: caller.admin ? undefined : limits.maxPerUser, minIntervalMinutes: limits.minIntervalMinutes }, ctx.now(), zone);
        const next = r.nextAt!;
        const shownZone = "cron" in r.timing ? r.timing.timezone : zone;
        return {
          text: JSON.stringify({
            id: r.id,
            next: isoInZone(next, shownZone),
            next_display: displayTime(next, shownZone),
            ...("cron" in r.timing ? { cron: r.timing.cron, timezone: r.timing.timezone } : {}),
            delivered_to: "group" in r.to ? "this group" : "this user (1:1 chat)",
            note: "Tell the user the time and the id; /reminders lists reminders, /reminders cancel <id> cancels one.",
          }),
        };
      }),
  });

  const list = defineTool({
    name: "list_reminders",
    description: "Lists the reminders of this chat (id, text, next time, status; failed ones with the reason).",
    args: z.object({}),
    sideEffects: false,
    timeoutMs: 10_000,
    status: () => "正在查看提醒",
    run: async (_args, ctx) => {
      const caller = reminderCaller(ctx, config);
      const all = await store.listIn(whereOf(caller.conversation, caller.staffId, caller.id));
      return { text: JSON.stringify({ reminders: all.map((r) => reminderFacts(r, zone)) }) };
    },
  });

  const cancel = defineTool({
    name: "cancel_reminder",
    description: "Cancels a reminder of this chat by its id (from list_reminders). Only the person who set it, or an admin, may cancel it.",
    args: z.object({ id: z.string().min(1).describe("The reminder id, e.g. k3x9m2") }),
    sideEffects: true,
    timeoutMs: 10_000,
    status: (a) => `正在取消提醒：${a.id}`,
    run: (args, ctx) =>
      asToolError(async () => {
        const r = await cancelReminder(store, args.id, reminderCaller(ctx, config));
        return { text: JSON.stringify({ id: r.id, text: r.text, status: r.status }) };
      }),
  });

  return [create, list, cancel];
}
