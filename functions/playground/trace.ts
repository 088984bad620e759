// Per-message traces for the playground's side panel, built from the gateway's own log records
// (grouped by msgId, or by requestId until the msgId is known) and from the playground's signed
// POST /callback (status, ack time): signature, claim, route, model, tokens and the latency split.
import { z } from "zod";
import type { ChatId, Trace, TraceDelivery } from "./protocol.js";

const num = z.number().finite();
const LogLine = z.looseObject({
  level: z.string().optional(),
  msg: z.string(),
  msgId: z.string().optional(),
  requestId: z.string().optional(),
});
const Accepted = z.looseObject({ requestId: z.string().optional() });
const Duplicate = z.looseObject({ requestId: z.string().optional(), state: z.string().optional() });
const Rejected = z.looseObject({ reason: z.string().optional() });
const Attempt = z.looseObject({ modelName: z.string(), kind: z.string(), ms: num, status: num.optional() });
const AttemptOk = z.looseObject({ promptTokens: num.optional(), completionTokens: num.optional() });
const CardDelivered = z.looseObject({ outTrackId: z.string() });
const JobDone = z.looseObject({
  action: z.string(),
  kind: z.string().optional(),
  route: z.string().optional(),
  model: z.string().optional(),
  llm: z
    .looseObject({ firstTokenMs: num.optional(), totalMs: num, promptTokens: num, completionTokens: num })
    .optional(),
  sendMs: num.optional(),
  queuedMs: num.optional(),
  totalMs: num.optional(),
});
const ErrorField = z.looseObject({ error: z.looseObject({ message: z.string() }).optional(), reason: z.string().optional() });

type LogRecord = z.infer<typeof LogLine> & { [k: string]: unknown };

export interface TraceStart {
  msgId: string;
  chat: ChatId;
  user: string;
  preview: string;
  sentAt: number;
}

export interface DeliveryResult {
  requestId: string | undefined;
  status: number;
  ackMs: number;
  error?: string;
}

const MAX_NOTES = 20;
const MAX_ORPHANS = 500;

export class TraceCollector {
  private readonly traces = new Map<string, Trace>();
  private readonly msgOfRequest = new Map<string, string>();
  /** Records that name a request whose message is not known yet (e.g. "callback rejected"). */
  private readonly orphans = new Map<string, LogRecord[]>();

  constructor(private readonly opts: { onChange: (trace: Trace) => void; max?: number }) {}

  get(msgId: string): Trace | undefined {
    return this.traces.get(msgId);
  }

  list(): Trace[] {
    return [...this.traces.values()];
  }

  /** A message the playground is about to post. */
  start(s: TraceStart): Trace {
    const trace: Trace = { ...s, state: "pending", deliveries: [], attempts: [], notes: [] };
    this.traces.set(s.msgId, trace);
    const max = this.opts.max ?? 500;
    if (this.traces.size > max) this.traces.delete(this.traces.keys().next().value!);
    this.opts.onChange(trace);
    return trace;
  }

  /** What the gateway answered to one signed POST /callback for this message. */
  delivery(msgId: string, result: DeliveryResult): void {
    const trace = this.traces.get(msgId);
    if (!trace) return;
    const d = this.deliveryFor(trace, result.requestId);
    d.status = result.status;
    d.ackMs = result.ackMs;
    if (result.error) d.error = result.error;
    if (result.status === 401) d.signature = "failed";
    if (trace.state === "pending") trace.state = stateAfter(result.status, d);
    if (result.requestId) {
      this.msgOfRequest.set(result.requestId, msgId);
      const held = this.orphans.get(result.requestId);
      this.orphans.delete(result.requestId);
      for (const r of held ?? []) this.apply(trace, r);
    }
    this.opts.onChange(trace);
  }

  /** One parsed log line of the gateway. */
  ingest(raw: unknown): void {
    const parsed = LogLine.safeParse(raw);
    if (!parsed.success) return;
    const record = parsed.data as LogRecord;
    if (record.msgId && record.requestId) this.msgOfRequest.set(record.requestId, record.msgId);
    const msgId = record.msgId ?? (record.requestId ? this.msgOfRequest.get(record.requestId) : undefined);
    const trace = msgId ? this.traces.get(msgId) : undefined;
    if (trace) {
      this.apply(trace, record);
      this.opts.onChange(trace);
    } else if (!msgId && record.requestId) {
      const held = this.orphans.get(record.requestId) ?? [];
      held.push(record);
      this.orphans.set(record.requestId, held);
      if (this.orphans.size > MAX_ORPHANS) this.orphans.delete(this.orphans.keys().next().value!);
    }
  }

  private deliveryFor(trace: Trace, requestId: string | undefined): TraceDelivery {
    const found = requestId ? trace.deliveries.find((d) => d.requestId === requestId) : undefined;
    if (found) return found;
    const d: TraceDelivery = { requestId, status: 0, ackMs: 0, signature: "ok" };
    trace.deliveries.push(d);
    return d;
  }

  private apply(trace: Trace, r: LogRecord): void {
    switch (r.msg) {
      case "callback rejected": {
        const d = this.deliveryFor(trace, r.requestId);
        d.signature = "failed";
        const reason = Rejected.safeParse(r);
        if (reason.success && reason.data.reason) d.signatureReason = reason.data.reason;
        return;
      }
      case "message accepted": {
        const a = Accepted.parse(r);
        this.deliveryFor(trace, a.requestId).claim = "accepted";
        if (trace.state === "pending") trace.state = "accepted";
        return;
      }
      case "duplicate delivery dropped": {
        const dup = Duplicate.parse(r);
        const d = this.deliveryFor(trace, dup.requestId);
        d.claim = "duplicate";
        if (dup.state) d.claimState = dup.state;
        if (trace.state === "pending") trace.state = "duplicate";
        return;
      }
      case "llm attempt":
      case "llm attempt failed": {
        const a = Attempt.safeParse(r);
        if (!a.success) return;
        const ok = r.msg === "llm attempt";
        trace.attempts.push({
          modelName: a.data.modelName,
          ok,
          kind: a.data.kind,
          ms: a.data.ms,
          ...(a.data.status !== undefined ? { status: a.data.status } : {}),
        });
        if (ok) {
          trace.model = a.data.modelName;
          const t = AttemptOk.parse(r);
          if (t.promptTokens !== undefined && t.completionTokens !== undefined)
            trace.tokens = { prompt: t.promptTokens, completion: t.completionTokens };
        } else if (trace.notes.length < MAX_NOTES)
          trace.notes.push(`llm attempt failed: ${a.data.modelName} ${a.data.kind}${a.data.status !== undefined ? ` (HTTP ${a.data.status})` : ""}`);
        return;
      }
      case "dingtalk: answer card delivered": {
        const c = CardDelivered.safeParse(r);
        if (c.success) trace.card = { outTrackId: c.data.outTrackId };
        return;
      }
      case "job done": {
        const j = JobDone.safeParse(r);
        if (!j.success) return;
        const done = j.data;
        trace.state = "done";
        trace.kind = done.action === "replied" ? done.kind : done.action;
        if (done.route) trace.route = done.route;
        if (done.model) trace.model = done.model;
        if (done.llm) {
          trace.tokens = { prompt: done.llm.promptTokens, completion: done.llm.completionTokens };
          trace.llm = { totalMs: done.llm.totalMs, ...(done.llm.firstTokenMs !== undefined ? { firstTokenMs: done.llm.firstTokenMs } : {}) };
        }
        if (done.sendMs !== undefined) trace.sendMs = done.sendMs;
        if (done.queuedMs !== undefined) trace.queuedMs = done.queuedMs;
        if (done.totalMs !== undefined) trace.totalMs = done.totalMs;
        return;
      }
      case "job failed after all retries":
        trace.state = "failed";
        this.note(trace, r);
        return;
      default:
        if (r.level === "warn" || r.level === "error") this.note(trace, r);
    }
  }

  private note(trace: Trace, r: LogRecord): void {
    if (trace.notes.length >= MAX_NOTES) return;
    const detail = ErrorField.safeParse(r);
    const why = detail.success ? (detail.data.error?.message ?? detail.data.reason) : undefined;
    trace.notes.push(why ? `${r.msg}: ${why}` : r.msg);
  }
}

function stateAfter(status: number, d: TraceDelivery): Trace["state"] {
  if (status === 200) return d.claim === "duplicate" ? "duplicate" : "accepted";
  if (status >= 500 || status === 0) return "failed";
  return "rejected";
}
