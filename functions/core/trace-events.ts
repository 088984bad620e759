// Typed events of a message's way through the core (callback checked, message claimed, LLM attempts,
// job finished), emitted beside the matching log lines for observers such as the playground's trace
// panel. Nobody listens in the FC hosts or `npm start`: emitting then costs one boolean check.
// To add an event: a member of TraceEvent (its `type` names it), `emitTrace` where it happens, and a
// `case` in the observers that care (others ignore types they do not know).
import { channel, subscribe, unsubscribe } from "node:diagnostics_channel";
import type { AgentOutcome } from "./agent.js";

/** Which message an event belongs to: `requestId` names one delivery of it (an HTTP callback or a Stream frame). */
interface About {
  requestId?: string;
  msgId?: string;
}

export type TraceEvent = About &
  (
    | { type: "callback.rejected"; reason: string }
    | { type: "message.accepted"; msgId: string; conversation: string; kind: string }
    | { type: "message.duplicate"; msgId: string; state: "in_progress" | "completed" }
    | {
        type: "llm.attempt";
        modelName: string;
        ok: boolean;
        /** "ok", or the error kind (rate_limit, timeout, …). */
        kind: string;
        ms: number;
        status?: number;
        firstTokenMs?: number;
        promptTokens?: number;
        completionTokens?: number;
      }
    | {
        type: "tool.call";
        name: string;
        ok: boolean;
        ms: number;
        /** Why it failed (bad_args, permission, timeout, …). */
        error?: string;
        /** The result came from an earlier attempt's journal or an identical call of this turn. */
        reused?: boolean;
      }
    | { type: "job.done"; msgId: string; outcome: AgentOutcome; queuedMs: number; totalMs: number }
    | { type: "job.failed"; attempts: number; error: string }
  );

const NAME = "dingclaw:trace";
const events = channel(NAME);

export function emitTrace(event: TraceEvent): void {
  if (events.hasSubscribers) events.publish(event);
}

/** Calls `listener` with every event until the returned function is called. A throwing listener is ignored. */
export function subscribeTrace(listener: (event: TraceEvent) => void): () => void {
  const onMessage = (message: unknown) => {
    try {
      listener(message as TraceEvent);
    } catch {
      // an observer's problem never reaches the message's path
    }
  };
  subscribe(NAME, onMessage);
  return () => void unsubscribe(NAME, onMessage);
}
