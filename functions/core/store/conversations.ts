// Conversations: one item per scope (`conv#<scopeKey>`) with the recent turns, summary, model and usage,
// written by optimistic locking on `version` so concurrent messages never lose a turn. Writes for one key
// from this process are queued and coalesced into one conditional update per round.
import * as z from "zod";
import { silentLogger, type Logger } from "../log.js";
import { backoffDelay, realSleep, retry, type Backoff } from "../retry.js";
import { absent, and, eq, exists, missing, type ItemKey, type ItemTable } from "./items.js";
import { trimToBudget, type Turn } from "./history.js";
import type { Table } from "./table.js";

export { estimateTokens, trimToBudget, turnTokens, type Turn, type TurnToolCall } from "./history.js";

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export interface Conversation {
  key: string;
  /** Ordered by `at` (ties keep arrival order), trimmed to the token budget. */
  turns: Turn[];
  model?: string;
  summary?: string;
  usage: Usage;
  /** The item's version; 0 when the conversation does not exist (or has expired). */
  version: number;
  exists: boolean;
}

export interface ConversationStoreOptions {
  now?: () => number;
  /** Idle expiry: every write moves `expiresAt` to now + ttlSeconds. */
  ttlSeconds: number;
  /** History budget in estimated tokens; the newest turns are kept. */
  maxHistoryTokens: number;
  /** Conditional-write attempts per round before giving up with ConversationConflictError; default 60. */
  maxAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  log?: Logger;
}

/** Too many concurrent writers kept winning the race for one conversation. */
export class ConversationConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConversationConflictError";
  }
}

/** Longest turn content kept (UTF-16 units); longer content is cut so an item stays far below 400 KB. */
export const MAX_TURN_CHARS = 50_000;
/** Longest stored tool result per call, and most calls kept per turn. */
export const MAX_TOOL_RESULT_CHARS = 2_000;
export const MAX_TOOL_CALLS_PER_TURN = 12;
export const MAX_SUMMARY_CHARS = 20_000;
/** Size cap for the stored turns (JSON bytes, a slight overestimate of DynamoDB's item size). */
export const MAX_TURNS_BYTES = 300_000;
/** Full-jitter exponential backoff after a lost race: up to 10, 20, 40 … ms, at most 2 s. */
const RACE_BACKOFF: Backoff = { baseMs: 10, maxMs: 2000, jitter: "full" };

/** This attempt's conditional write lost to another writer. */
class LostRace extends Error {}

const TurnSchema = z.object({
  role: z.enum(["user", "assistant"]),
  content: z.string(),
  at: z.number().finite(),
  msgId: z.string().optional(),
  sender: z.string().optional(),
  tools: z.array(z.object({ name: z.string(), args: z.string(), result: z.string() })).optional(),
});

const count = z.number().finite().nonnegative().catch(0);
const StoredSchema = z.looseObject({
  turns: z
    .array(z.unknown())
    .catch([])
    .transform((items) =>
      items.flatMap((t) => {
        const r = TurnSchema.safeParse(t);
        return r.success ? [r.data] : [];
      }),
    ),
  model: z.string().optional().catch(undefined),
  summary: z.string().optional().catch(undefined),
  promptTokens: count.default(0),
  completionTokens: count.default(0),
  version: z.number().int().nonnegative().optional().catch(undefined),
});

/** What the table holds for a key (an expired conversation is not found), so a write can name the version it replaces. */
interface Snapshot {
  found: boolean;
  version: number | undefined;
  turns: Turn[];
  model: string | undefined;
  summary: string | undefined;
  usage: Usage;
}

type Op =
  | { kind: "append"; turns: Turn[]; usage: Usage | undefined; summary: string | undefined }
  | { kind: "reset" }
  | { kind: "model"; model: string | undefined };

interface Pending {
  op: Op;
  resolve: (c: Conversation) => void;
  reject: (err: unknown) => void;
}

/**
 * Write queues shared by every store on the same Table object with the same clock and settings, so all
 * writers to one conversation in this process coalesce, whichever store instance they use.
 */
const sharedQueues = new WeakMap<Table, WeakMap<() => number, Map<string, Pending[]>>>();

function queuesFor(table: Table, now: () => number): Map<string, Pending[]> {
  let byClock = sharedQueues.get(table);
  if (!byClock) sharedQueues.set(table, (byClock = new WeakMap()));
  let queues = byClock.get(now);
  if (!queues) byClock.set(now, (queues = new Map<string, Pending[]>()));
  return queues;
}

const emptyUsage = (): Usage => ({ promptTokens: 0, completionTokens: 0 });

/** What a loaded conversation says the table holds (one that did not exist: no item, written with an "absent" condition). */
function snapshotOf(c: Conversation): Snapshot {
  if (!c.exists) return { found: false, version: undefined, turns: [], model: undefined, summary: undefined, usage: emptyUsage() };
  return { found: true, version: c.version, turns: [...c.turns], model: c.model, summary: c.summary, usage: { ...c.usage } };
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${text.slice(0, cut)}…`;
}

function checkTurn(turn: Turn): Turn {
  const t = TurnSchema.safeParse(turn);
  if (!t.success) throw new TypeError(`invalid turn: ${t.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`);
  const { role, content, at, msgId, sender, tools } = t.data;
  const calls = tools?.slice(-MAX_TOOL_CALLS_PER_TURN).map((c) => ({ name: c.name, args: clip(c.args, MAX_TOOL_RESULT_CHARS), result: clip(c.result, MAX_TOOL_RESULT_CHARS) }));
  return {
    role,
    content: clip(content, MAX_TURN_CHARS),
    at,
    ...(msgId ? { msgId } : {}),
    ...(sender ? { sender } : {}),
    ...(calls?.length ? { tools: calls } : {}),
  };
}

function checkUsage(u: Usage | undefined): Usage | undefined {
  if (!u) return undefined;
  const ok = (n: number) => Number.isFinite(n) && n >= 0;
  if (!ok(u.promptTokens) || !ok(u.completionTokens)) throw new TypeError("invalid usage: token counts must be finite and >= 0");
  return { promptTokens: Math.round(u.promptTokens), completionTokens: Math.round(u.completionTokens) };
}

/** Merges new turns into ordered ones: ordered by `at`, ties in arrival order; a turn whose msgId and role are already present is a replay and is skipped. */
function merge(existing: Turn[], incoming: Turn[]): { turns: Turn[]; added: number } {
  const seen = new Set(existing.flatMap((t) => (t.msgId ? [`${t.role}\n${t.msgId}`] : [])));
  const fresh = incoming.filter((t) => {
    if (!t.msgId) return true;
    const id = `${t.role}\n${t.msgId}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  if (fresh.length === 0) return { turns: existing, added: 0 };
  return { turns: [...existing, ...fresh].sort((a, b) => a.at - b.at), added: fresh.length };
}

function turnsBytes(turns: Turn[]): number[] {
  return turns.map((t) => Buffer.byteLength(JSON.stringify(t)) + 16);
}

export class ConversationStore {
  private readonly now: () => number;
  private readonly ttlSeconds: number;
  private readonly maxHistoryTokens: number;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly queues: Map<string, Pending[]>;
  private readonly items: ItemTable;

  constructor(table: Table, opts: ConversationStoreOptions) {
    this.now = opts.now ?? Date.now;
    this.items = table.items(this.now);
    this.ttlSeconds = opts.ttlSeconds;
    this.maxHistoryTokens = opts.maxHistoryTokens;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 60);
    this.sleep = opts.sleep ?? realSleep;
    this.random = opts.random ?? Math.random;
    this.log = opts.log ?? silentLogger;
    this.queues = queuesFor(table, this.now);
  }

  /** The conversation, or an empty one (version 0, exists false) when missing or expired. */
  async load(key: string): Promise<Conversation> {
    return this.view(key, await this.read(key));
  }

  /**
   * Adds turns (kept ordered by `at`), adds `usage` to the counters, optionally replaces the summary.
   * `basedOn`: the conversation as loaded earlier; the first write tries it instead of reading again
   * (a stale one only costs a lost race and a re-read).
   */
  async append(key: string, turns: Turn[], opts: { usage?: Usage; summary?: string; basedOn?: Conversation } = {}): Promise<Conversation> {
    const op: Op = {
      kind: "append",
      turns: turns.map(checkTurn),
      usage: checkUsage(opts.usage),
      summary: opts.summary === undefined ? undefined : clip(opts.summary, MAX_SUMMARY_CHARS),
    };
    return this.enqueue(key, op, opts.basedOn ? snapshotOf(opts.basedOn) : undefined);
  }

  /**
   * `/new`: a fresh context. Drops the turns and the summary; keeps the selected model (a user's choice
   * for this chat) and the usage counters (an account of what was spent, for `/usage`).
   */
  async reset(key: string): Promise<void> {
    await this.enqueue(key, { kind: "reset" });
  }

  /** Selects a model for this conversation; `undefined` returns to the configured default. */
  setModel(key: string, model: string | undefined): Promise<Conversation> {
    const m = model?.trim();
    return this.enqueue(key, { kind: "model", model: m ? m : undefined });
  }

  /**
   * `/forget`: deletes the conversation (turns, summary, model, usage). Conditional on the version it
   * read, so what it returns is exactly what was deleted; undefined when there was none. A turn written
   * at the same moment may survive in a fresh conversation, like a message sent after the deletion.
   */
  async erase(key: string): Promise<Conversation | undefined> {
    const attempt = async (): Promise<Conversation | undefined> => {
      const snap = await this.read(key);
      if (!snap.found) return undefined;
      const condition = snap.version === undefined ? and(exists, missing("version")) : eq("version", snap.version);
      if (!(await this.items.delete(this.itemKey(key), { if: condition }))) throw new LostRace();
      return this.view(key, snap);
    };
    return this.untilWon(attempt, "delete");
  }

  private enqueue(key: string, op: Op, known?: Snapshot): Promise<Conversation> {
    const slot = `${this.ttlSeconds}|${this.maxHistoryTokens}|${this.maxAttempts}|${key}`;
    return new Promise<Conversation>((resolve, reject) => {
      const queue = this.queues.get(slot);
      if (queue) {
        queue.push({ op, resolve, reject });
        return;
      }
      const fresh: Pending[] = [{ op, resolve, reject }];
      this.queues.set(slot, fresh);
      void this.drain(slot, key, fresh, known);
    });
  }

  /**
   * Writes queued operations for one key, one round at a time: ops queued during a round form the next,
   * and ops queued while a round retries after a lost race join that round.
   */
  private async drain(slot: string, key: string, queue: Pending[], first?: Snapshot): Promise<void> {
    let known = first;
    while (queue.length > 0) {
      const batch = queue.splice(0, queue.length);
      try {
        const { conversation, snapshot } = await this.write(key, batch, queue, known);
        known = snapshot;
        for (const p of batch) p.resolve(conversation);
      } catch (err) {
        known = undefined;
        for (const p of batch) p.reject(err);
      }
    }
    this.queues.delete(slot);
  }

  /** One round: read (unless this round's predecessor just wrote), apply, conditional write; on a lost race back off, re-read, retry. */
  private async write(
    key: string,
    batch: Pending[],
    queue: Pending[],
    known: Snapshot | undefined,
  ): Promise<{ conversation: Conversation; snapshot: Snapshot }> {
    let snap = known ?? (await this.read(key));
    const attempt = async (n: number): Promise<{ conversation: Conversation; snapshot: Snapshot }> => {
      if (n > 1) {
        batch.push(...queue.splice(0, queue.length));
        snap = await this.read(key);
      }
      const ops = batch.map((p) => p.op);
      if (!snap.found && ops.every((o) => o.kind === "reset")) return { conversation: this.view(key, snap), snapshot: snap };
      const next = this.apply(snap, ops);
      const version = await this.put(key, snap, next, this.now());
      if (version === undefined) throw new LostRace();
      return {
        conversation: { key, ...next, version, exists: true },
        snapshot: { found: true, version, turns: [...next.turns], model: next.model, summary: next.summary, usage: { ...next.usage } },
      };
    };
    return this.untilWon(attempt, "write");
  }

  /** Runs `attempt` until it does not lose a race (backing off in between), at most maxAttempts times. */
  private async untilWon<T>(attempt: (n: number) => Promise<T>, action: "write" | "delete"): Promise<T> {
    try {
      return await retry(attempt, {
        attempts: this.maxAttempts,
        retryable: (err) => err instanceof LostRace,
        delayMs: (n) => backoffDelay(n, RACE_BACKOFF, this.random),
        sleep: this.sleep,
      });
    } catch (err) {
      if (!(err instanceof LostRace)) throw err;
      this.log.warn(`conversation: ${action} gave up after conflicts`, { attempts: this.maxAttempts });
      throw new ConversationConflictError(`conversation ${action} lost ${this.maxAttempts} races in a row; try again`);
    }
  }

  private apply(snap: Snapshot, ops: Op[]): Omit<Conversation, "key" | "version" | "exists"> {
    let turns = snap.turns;
    let model = snap.model;
    let summary = snap.summary;
    const usage = { ...snap.usage };
    for (const op of ops) {
      if (op.kind === "reset") {
        turns = [];
        summary = undefined;
      } else if (op.kind === "model") {
        model = op.model;
      } else {
        const merged = merge(turns, op.turns);
        turns = merged.turns;
        if (op.summary !== undefined) summary = op.summary || undefined;
        if (op.usage && (merged.added > 0 || op.turns.length === 0)) {
          usage.promptTokens += op.usage.promptTokens;
          usage.completionTokens += op.usage.completionTokens;
        }
      }
    }
    turns = trimToBudget(turns, this.maxHistoryTokens);
    const sizes = turnsBytes(turns);
    let bytes = sizes.reduce((a, b) => a + b, 0);
    let start = 0;
    while (bytes > MAX_TURNS_BYTES && start < turns.length - 1) bytes -= sizes[start++]!;
    if (start > 0) turns = turns.slice(start);
    return { turns, usage, ...(model ? { model } : {}), ...(summary ? { summary } : {}) };
  }

  /** One conditional update; resolves to the new version, or undefined when another write won the race. */
  private async put(
    key: string,
    snap: Snapshot,
    next: Omit<Conversation, "key" | "version" | "exists">,
    now: number,
  ): Promise<number | undefined> {
    const version = (snap.version ?? 0) + 1;
    const condition = !snap.found ? absent : snap.version === undefined ? and(exists, missing("version")) : eq("version", snap.version);
    const ok = await this.items.update(
      this.itemKey(key),
      {
        set: {
          turns: next.turns.map(({ role, content, at, msgId, sender, tools }) => ({ role, content, at, msgId, sender, tools: tools?.map((t) => ({ ...t })) })),
          promptTokens: next.usage.promptTokens,
          completionTokens: next.usage.completionTokens,
          version,
          updatedAt: now,
          expiresAt: Math.floor(now / 1000) + this.ttlSeconds,
          model: next.model,
          summary: next.summary,
        },
        remove: [...(next.model ? [] : ["model"]), ...(next.summary ? [] : ["summary"])],
      },
      { if: condition },
    );
    return ok ? version : undefined;
  }

  private async read(key: string): Promise<Snapshot> {
    const item = await this.items.get(this.itemKey(key));
    if (!item) return { found: false, version: undefined, turns: [], model: undefined, summary: undefined, usage: emptyUsage() };
    const s = StoredSchema.parse(item);
    return {
      found: true,
      version: s.version,
      turns: s.turns.sort((a, b) => a.at - b.at),
      model: s.model,
      summary: s.summary,
      usage: { promptTokens: s.promptTokens, completionTokens: s.completionTokens },
    };
  }

  private view(key: string, snap: Snapshot): Conversation {
    if (!snap.found) return { key, turns: [], usage: emptyUsage(), version: 0, exists: false };
    return {
      key,
      turns: snap.turns,
      usage: snap.usage,
      version: snap.version ?? 0,
      exists: true,
      ...(snap.model ? { model: snap.model } : {}),
      ...(snap.summary ? { summary: snap.summary } : {}),
    };
  }

  private itemKey(key: string): ItemKey {
    return { pk: `conv#${key}`, sk: "conv" };
  }
}
