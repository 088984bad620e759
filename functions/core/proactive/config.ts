// The `schedules` section of config.json: posts an admin configures, each `{name, cron, timezone?,
// to: {users: [...]} | {group: "cid…"}, text? | prompt?}`. `text` is posted as is; `prompt` runs the
// agent and posts its answer. Cron expressions and time zones are checked here, so `serverless deploy`
// (which validates the config) refuses a bad one.
import * as z from "zod";
import { isTimeZone } from "../time-zone.js";
import { CronError, CronSchedule } from "./time.js";

/** Where a proactive message goes: staff ids (1:1 chats with the bot) or one group (openConversationId). */
export type Recipients = { users: string[] } | { group: string };

const staffIds = z.array(z.union([z.string(), z.number()]).transform(String).pipe(z.string().trim().min(1))).min(1, { error: "must list at least one staff id" });

export const RecipientsSchema = z.union(
  [z.strictObject({ users: staffIds }), z.strictObject({ group: z.string().trim().min(1, { error: "must not be empty" }) })],
  { error: 'must be {"users": ["staffId", …]} or {"group": "<openConversationId>"}' },
);

export const ScheduleSchema = z.looseObject({
  name: z
    .string()
    .trim()
    .min(1, { error: "must not be empty" })
    .max(64, { error: "must be at most 64 characters" })
    .refine((n) => !/[#\s]/.test(n), { error: "must not contain spaces or #" }),
  enabled: z.boolean().default(true),
  cron: z.string().trim(),
  timezone: z.string().trim().optional(),
  to: RecipientsSchema,
  text: z.string().trim().min(1).max(20_000).optional(),
  prompt: z.string().trim().min(1).max(4_000).optional(),
});

export interface ScheduleConfig {
  name: string;
  cron: string;
  timezone: string;
  to: Recipients;
  /** Exactly one of text and prompt. */
  text?: string;
  prompt?: string;
}

type Problem = (path: PropertyKey[], what: string) => string;

/** Checks each schedule's cron, zone and content; disabled ones are left out. */
export function resolveSchedules(raw: z.output<typeof ScheduleSchema>[], defaultZone: string, problems: string[], problem: Problem): ScheduleConfig[] {
  const out: ScheduleConfig[] = [];
  const names = new Set<string>();
  raw.forEach((s, i) => {
    const at = (field: string) => ["schedules", i, field];
    const before = problems.length;
    if (names.has(s.name)) problems.push(problem(at("name"), `"${s.name}" is used by another schedule`));
    names.add(s.name);
    const zone = s.timezone ?? defaultZone;
    if (!isTimeZone(zone)) problems.push(problem(at("timezone"), `"${zone}" is not a time zone`));
    else
      try {
        new CronSchedule(s.cron, zone);
      } catch (err) {
        if (!(err instanceof CronError)) throw err;
        problems.push(problem(at("cron"), err.message));
      }
    if (Boolean(s.text) === Boolean(s.prompt)) problems.push(problem(at("text"), 'needs either "text" (posted as is) or "prompt" (the assistant answers it), not both'));
    if (problems.length > before || !s.enabled) return;
    out.push({ name: s.name, cron: s.cron, timezone: zone, to: s.to, ...(s.text ? { text: s.text } : { prompt: s.prompt! }) });
  });
  return out;
}
