// Notifications other systems push (`npm run notify`, the gateway's POST /notify, the FC `notify`
// function): one request shape `{to, text? | markdown?, title?, id?}`, parsed with zod, sent through
// sendProactive. A request with an `id` is claimed in the table first (the idempotency store, key
// `notify:<id>`), so the same id twice is sent once, and a retry after a crash midway resumes after
// the parts already delivered.
import * as z from "zod";
import type { DingTalkClient } from "../dingtalk/client.js";
import { describeError, type Logger } from "../log.js";
import type { Sleep } from "../retry.js";
import type { IdempotencyStore } from "../store/idempotency.js";
import { RecipientsSchema, type Recipients } from "./config.js";
import { ProactiveSendError, describeRecipients, sendProactive, type ProactiveMessage, type ProactiveResult } from "./send.js";

/** Longest text or markdown a notification may carry (about six DingTalk messages). */
export const MAX_NOTIFY_CHARS = 20_000;
/** Most staff ids one notification may address. */
export const MAX_NOTIFY_USERS = 200;

const content = z.string().trim().min(1, { error: "must not be empty" }).max(MAX_NOTIFY_CHARS, { error: `must be at most ${MAX_NOTIFY_CHARS} characters` });

export const NotifyRequestSchema = z
  .strictObject({
    to: RecipientsSchema.refine((to) => !("users" in to) || to.users.length <= MAX_NOTIFY_USERS, {
      error: `must list at most ${MAX_NOTIFY_USERS} staff ids`,
    }),
    text: content.optional(),
    markdown: content.optional(),
    title: z.string().trim().min(1, { error: "must not be empty" }).max(100, { error: "must be at most 100 characters" }).optional(),
    id: z
      .string()
      .trim()
      .regex(/^[\x21-\x7e]{1,128}$/, { error: "must be 1-128 printable ASCII characters without spaces (example: \"deploy-4711\")" })
      .optional(),
  })
  .check((ctx) => {
    const v = ctx.value;
    if (Boolean(v.text) === Boolean(v.markdown))
      ctx.issues.push({ code: "custom", input: v, path: ["text"], message: 'needs either "text" or "markdown", not both' });
    if (v.title && !v.markdown) ctx.issues.push({ code: "custom", input: v, path: ["title"], message: 'goes with "markdown" only' });
  });

export type NotifyRequest = z.output<typeof NotifyRequestSchema>;

/** The request, or one line saying what is wrong with it (field: problem). */
export function parseNotifyRequest(value: unknown): { ok: true; request: NotifyRequest } | { ok: false; reason: string } {
  const parsed = NotifyRequestSchema.safeParse(value);
  if (parsed.success) return { ok: true, request: parsed.data };
  const reason = parsed.error.issues
    .map((i) => {
      const field = i.path.map(String).join(".");
      return field ? `${field}: ${i.message}` : i.message;
    })
    .join("; ");
  return { ok: false, reason };
}

export function messageOf(request: NotifyRequest): ProactiveMessage {
  return request.markdown !== undefined ? { markdown: request.markdown, ...(request.title ? { title: request.title } : {}) } : { text: request.text! };
}

export interface NotifierDeps {
  /** Undefined when no DingTalk credentials are configured. */
  dingtalk: DingTalkClient | undefined;
  robotCode: string;
  /** Needed for requests with an `id` (the CLI has none). */
  idempotency?: IdempotencyStore;
  log: Logger;
  sleep?: Sleep;
}

/** What a notification came to. */
export type NotifyOutcome =
  | { status: "sent"; result: ProactiveResult; id?: string }
  /** The id was sent before: `sent` is where it went then. */
  | { status: "duplicate"; id: string; sent?: Recipients }
  /** Another request with this id is being sent right now (or one stopped midway; its lease runs out). */
  | { status: "in_progress"; id: string };

/** The notification could not be tried at all (no credentials, no table for an id). */
export class NotifyUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotifyUnavailableError";
  }
}

const Stored = z.object({ sent: RecipientsSchema.optional() });

/** Sends one notification; throws ProactiveSendError (DingTalk refused) or NotifyUnavailableError. */
export async function notify(request: NotifyRequest, deps: NotifierDeps): Promise<NotifyOutcome> {
  const client = deps.dingtalk;
  if (!client) throw new NotifyUnavailableError("DingTalk credentials are not configured (channels.dingtalk.client_id and client_secret)");
  const message = messageOf(request);
  const send = (opts: { done?: string[]; onStep?: (key: string) => Promise<void> }) =>
    sendProactive(client, request.to, message, { robotCode: deps.robotCode, ...(deps.sleep ? { sleep: deps.sleep } : {}), ...opts });
  const log = deps.log.child({ notifyId: request.id, to: describeRecipients(request.to) });
  if (request.id === undefined) {
    const result = await send({});
    log.info("notify: sent", { parts: result.parts, invalid: result.invalidStaffIds.length });
    return { status: "sent", result };
  }
  const store = deps.idempotency;
  if (!store) throw new NotifyUnavailableError("a notification with an id needs the table (to send each id once)");
  const id = request.id;
  const key = `notify:${id}`;
  const claim = await store.claim(key);
  if (claim.status === "completed") {
    const previous = parseStored(claim.replyId);
    log.info("notify: duplicate id, not sent again");
    return { status: "duplicate", id, ...(previous ? { sent: previous } : {}) };
  }
  if (claim.status === "in_progress") return { status: "in_progress", id };
  // The long lease, and what an earlier attempt that stopped midway already delivered.
  const held = await store.resume(key, claim.token);
  if (held.status !== "claimed") return held.status === "completed" ? { status: "duplicate", id } : { status: "in_progress", id };
  const steps = [...(held.progress?.sentParts ?? [])];
  try {
    const result = await send({
      done: steps,
      onStep: async (step) => {
        steps.push(step);
        await store.recordParts(key, claim.token, steps);
      },
    });
    await store.complete(key, claim.token, { replyId: JSON.stringify({ sent: result.delivered }), sentParts: steps });
    log.info("notify: sent", { parts: result.parts, invalid: result.invalidStaffIds.length, attempt: held.attempt });
    return { status: "sent", result, id };
  } catch (err) {
    // Nothing delivered: the id is free again. Something delivered: the record keeps the progress, so
    // a retry with the same id (once the lease runs out) sends only the rest.
    if (steps.length === 0) await store.release(key, claim.token).catch((e: unknown) => log.warn("notify: could not release the id", { error: describeError(e) }));
    throw err;
  }
}

function parseStored(replyId: string | undefined): Recipients | undefined {
  if (!replyId) return undefined;
  try {
    return Stored.parse(JSON.parse(replyId)).sent;
  } catch {
    return undefined;
  }
}

/** The JSON answer (route and FC function) and its HTTP status, for an outcome or an error. */
export function notifyAnswer(outcome: NotifyOutcome | { error: unknown }): { status: number; body: Record<string, unknown> } {
  if ("error" in outcome) {
    const err = outcome.error;
    if (err instanceof ProactiveSendError)
      return { status: err.retryable ? 503 : 502, body: { ok: false, error: err.message, code: err.code, retryable: err.retryable } };
    if (err instanceof NotifyUnavailableError) return { status: 503, body: { ok: false, error: err.message } };
    throw err;
  }
  switch (outcome.status) {
    case "sent": {
      const r = outcome.result;
      return {
        status: 200,
        body: {
          ok: true,
          ...(outcome.id ? { id: outcome.id } : {}),
          sent: r.delivered,
          to: describeRecipients(r.delivered),
          parts: r.parts,
          ...(r.invalidStaffIds.length ? { invalidStaffIds: r.invalidStaffIds } : {}),
          ...(r.flowControlledStaffIds.length ? { flowControlledStaffIds: r.flowControlledStaffIds } : {}),
          processQueryKeys: r.processQueryKeys,
        },
      };
    }
    case "duplicate":
      return { status: 200, body: { ok: true, id: outcome.id, duplicate: true, ...(outcome.sent ? { sent: outcome.sent, to: describeRecipients(outcome.sent) } : {}) } };
    case "in_progress":
      return {
        status: 409,
        body: { ok: false, id: outcome.id, error: `a notification with id "${outcome.id}" is being sent (or an attempt stopped midway): try again in a few minutes` },
      };
  }
}
