// Per-message traces for the playground's side panel: the core's typed trace events
// (core/trace-events.ts: claim, LLM attempts, outcome, latency split), the playground's signed
// POST /callback (status, ack time) and, as notes, the warnings and errors the gateway logged for the
// message. Events are grouped by msgId, or by requestId until a delivery links it to its message.
import * as z from "zod";
import type { TraceEvent } from "../core/trace-events.js";
import type { ChatId, Trace, TraceDelivery } from "./protocol.js";

/** A warning or error log line, shown verbatim as a note: its text is never interpreted. */
const Problem = z.looseObject({
  level: z.enum(["warn", "error"]),
  msg: z.string(),
  msgId: z.string().optional(),
  requestId: z.string().optional(),
  error: z.looseObject({ message: z.string() }).optional(),
  reason: z.string().optional(),
  detail: z.string().optional(),
});

type Change = (trace: Trace) => void;

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
  /** Changes for requests whose message is not known yet (e.g. a rejected signature). */
  private readonly orphans = new Map<string, Change[]>();

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
    const d = deliveryFor(trace, result.requestId);
    d.status = result.status;
    d.ackMs = result.ackMs;
    if (result.error) d.error = result.error;
    if (result.status === 401) d.signature = "failed";
    if (trace.state === "pending") trace.state = stateAfter(result.status, d);
    if (result.requestId) {
      this.msgOfRequest.set(result.requestId, msgId);
      const held = this.orphans.get(result.requestId);
      this.orphans.delete(result.requestId);
      for (const change of held ?? []) change(trace);
    }
    this.opts.onChange(trace);
  }

  /** One event of the core (see core/trace-events.ts); types the panel does not show are ignored. */
  event(e: TraceEvent): void {
    const change = changeFor(e);
    if (change) this.apply(e, change);
  }

  /** One parsed log record of the gateway: warnings and errors become the message's notes. */
  logged(record: unknown): void {
    const problem = Problem.safeParse(record);
    if (!problem.success) return;
    const p = problem.data;
    const why = p.error?.message ?? p.reason ?? p.detail;
    this.apply(p, (trace) => {
      if (trace.notes.length < MAX_NOTES) trace.notes.push(why ? `${p.msg}: ${why}` : p.msg);
    });
  }

  private apply(about: { requestId?: string; msgId?: string }, change: Change): void {
    if (about.msgId && about.requestId) this.msgOfRequest.set(about.requestId, about.msgId);
    const msgId = about.msgId ?? (about.requestId ? this.msgOfRequest.get(about.requestId) : undefined);
    const trace = msgId ? this.traces.get(msgId) : undefined;
    if (trace) {
      change(trace);
      this.opts.onChange(trace);
    } else if (!msgId && about.requestId) {
      const held = this.orphans.get(about.requestId) ?? [];
      held.push(change);
      this.orphans.set(about.requestId, held);
      if (this.orphans.size > MAX_ORPHANS) this.orphans.delete(this.orphans.keys().next().value!);
    }
  }
}

function changeFor(e: TraceEvent): Change | undefined {
  switch (e.type) {
    case "callback.rejected":
      return (trace) => {
        const d = deliveryFor(trace, e.requestId);
        d.signature = "failed";
        d.signatureReason = e.reason;
      };
    case "message.accepted":
      return (trace) => {
        deliveryFor(trace, e.requestId).claim = "accepted";
        if (trace.state === "pending") trace.state = "accepted";
      };
    case "message.duplicate":
      return (trace) => {
        const d = deliveryFor(trace, e.requestId);
        d.claim = "duplicate";
        d.claimState = e.state;
        if (trace.state === "pending") trace.state = "duplicate";
      };
    case "llm.attempt":
      return (trace) => {
        trace.attempts.push({ modelName: e.modelName, ok: e.ok, kind: e.kind, ms: e.ms, ...(e.status !== undefined ? { status: e.status } : {}) });
        if (!e.ok) return;
        trace.model = e.modelName;
        if (e.promptTokens !== undefined && e.completionTokens !== undefined) trace.tokens = { prompt: e.promptTokens, completion: e.completionTokens };
      };
    case "tool.call":
      return (trace) => {
        (trace.tools ??= []).push({ name: e.name, ok: e.ok, ms: e.ms, ...(e.error ? { error: e.error } : {}), ...(e.reused ? { reused: true } : {}) });
      };
    case "job.done":
      return (trace) => {
        const { outcome } = e;
        trace.state = "done";
        trace.queuedMs = e.queuedMs;
        trace.totalMs = e.totalMs;
        if (outcome.action !== "replied") {
          trace.kind = outcome.action;
          return;
        }
        trace.kind = outcome.kind;
        trace.route = outcome.route;
        trace.sendMs = outcome.sendMs;
        if (outcome.modelName) trace.model = outcome.modelName;
        if (outcome.card) trace.card = { outTrackId: outcome.card.outTrackId };
        if (outcome.llm) {
          trace.tokens = { prompt: outcome.llm.promptTokens, completion: outcome.llm.completionTokens };
          trace.llm = { totalMs: outcome.llm.totalMs, ...(outcome.llm.firstTokenMs !== undefined ? { firstTokenMs: outcome.llm.firstTokenMs } : {}) };
        }
      };
    case "job.failed":
      return (trace) => {
        trace.state = "failed";
      };
    default:
      return undefined;
  }
}

function deliveryFor(trace: Trace, requestId: string | undefined): TraceDelivery {
  const found = requestId ? trace.deliveries.find((d) => d.requestId === requestId) : undefined;
  if (found) return found;
  const d: TraceDelivery = { requestId, status: 0, ackMs: 0, signature: "ok" };
  trace.deliveries.push(d);
  return d;
}

function stateAfter(status: number, d: TraceDelivery): Trace["state"] {
  if (status === 200) return d.claim === "duplicate" ? "duplicate" : "accepted";
  if (status >= 500 || status === 0) return "failed";
  return "rejected";
}
