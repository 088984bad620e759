// Idempotency records per inbound message (`msg#<robotCode:msgId>`) and per scheduled firing
// (`fire#<…>`), after AWS Powertools: a conditional
// claim puts IN_PROGRESS with a lease and a fencing token; a crashed attempt's lease can be taken over;
// COMPLETED keeps the reply id for a day and means the reply went out (the completion records it, with
// the reply's parts); `sent` survives takeovers so a reply is never sent twice. The record is also the
// message's AI card record: each attempt that may make a card counts itself in `cardOpens` with its
// claim renewal, and `cardFinalized` is written with the parts recorded after the card was finalized.
import { randomUUID } from "node:crypto";
import * as z from "zod/mini";
import "../zod-messages.js";
import { silentLogger, type Logger } from "../log.js";
import { absent, and, compare, eq, exists, ne, or, type Condition, type Fields, type ItemKey, type ItemTable } from "./items.js";
import type { Table } from "./table.js";

export type ClaimResult =
  | { status: "claimed"; token: string; attempt: number; progress?: SendProgress }
  | { status: "in_progress" }
  | { status: "completed"; replyId?: string };

/** What earlier attempts already delivered for a message. */
export interface SendProgress {
  /** The whole reply went out. */
  sent: boolean;
  replyId?: string;
  /** Digests of the reply's parts delivered so far, in order. */
  sentParts: string[];
  /**
   * The message's AI card (its id is derived from the message): `opened` when an earlier attempt may
   * have made it, `finalized` once an attempt recorded it finalized; absent when no earlier attempt could.
   */
  card?: "opened" | "finalized";
}

export interface ResumeOptions {
  /** This attempt may answer with an AI card: counted in the renewal, so later attempts finish that card. */
  card?: boolean;
}

export interface IdempotencyStoreOptions {
  now?: () => number;
  /** How long the worker's hold on a claim is exclusive before another attempt may take it over; default 180 s. */
  leaseMs?: number;
  /**
   * How long a fresh claim (callback, before the worker resumes it) is exclusive; default 30 s. Short,
   * so a claim left behind by a callback that died before dispatching does not block redeliveries long.
   */
  claimLeaseMs?: number;
  /** How long a COMPLETED record (and an unfinished one) is kept; default 1 day. */
  completedTtlSeconds?: number;
  /** The records' partition prefix: "msg" for inbound messages (default), "fire" for scheduled firings. */
  prefix?: string;
  log?: Logger;
}

/** The token no longer holds the claim: another attempt took it over (or it was released/completed by someone else). */
export class ClaimLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClaimLostError";
  }
}

const IN_PROGRESS = "IN_PROGRESS";
const COMPLETED = "COMPLETED";
/** Rounds of write-then-read before a contended claim gives up as "in_progress" (another writer is active). */
const MAX_ROUNDS = 5;

const RecordSchema = z.looseObject({
  status: z.enum([IN_PROGRESS, COMPLETED]),
  token: z.string(),
  attempt: z.catch(z.int().check(z.positive()), 1),
  leaseUntil: z.catch(z.number(), 0),
  sent: z.catch(z.boolean(), false),
  sentParts: z.catch(z.array(z.string()), []),
  replyId: z.catch(z.optional(z.string()), undefined),
  cardOpens: z.catch(z.int().check(z.nonnegative()), 0),
  cardFinalized: z.catch(z.boolean(), false),
  expiresAt: z.number(),
});
type StoredRecord = z.output<typeof RecordSchema>;

/** The record is held by `token` and still in progress. */
const heldBy = (token: string): Condition => and(eq("token", token), eq("status", IN_PROGRESS));

export class IdempotencyStore {
  private readonly now: () => number;
  private readonly leaseMs: number;
  private readonly claimLeaseMs: number;
  private readonly completedTtlSeconds: number;
  private readonly log: Logger;
  private readonly items: ItemTable;
  private readonly prefix: string;

  constructor(table: Table, opts: IdempotencyStoreOptions = {}) {
    this.prefix = opts.prefix ?? "msg";
    this.now = opts.now ?? Date.now;
    this.items = table.items(this.now);
    this.leaseMs = opts.leaseMs ?? 180_000;
    this.claimLeaseMs = Math.min(opts.claimLeaseMs ?? 30_000, this.leaseMs);
    this.completedTtlSeconds = opts.completedTtlSeconds ?? 86_400;
    this.log = opts.log ?? silentLogger;
  }

  /**
   * First sight of a message: claims it unless another attempt holds a live lease or it is already done.
   * One token per call, so a write of ours whose answer was lost (the SDK retried it into a failed
   * condition) is recognised as ours on the read that follows, not mistaken for another attempt's claim.
   * A caller that saw an earlier claim fail (its write may still have landed) passes that claim's token
   * again, so the landed write is recognised as its own.
   */
  async claim(key: string, token: string = randomUUID()): Promise<ClaimResult> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (await this.create(key, token, this.claimLeaseMs)) return { status: "claimed", token, attempt: 1 };
      const rec = await this.read(key);
      if (!rec) continue;
      if (rec.status === COMPLETED) return completed(rec);
      if (rec.token === token) return { status: "claimed", token, attempt: rec.attempt };
      if (rec.leaseUntil > this.now()) return { status: "in_progress" };
      if (await this.takeOver(key, rec, token, this.claimLeaseMs)) {
        this.log.info("idempotency: took over an expired claim", { attempt: rec.attempt + 1 });
        return { status: "claimed", token, attempt: rec.attempt + 1 };
      }
    }
    return { status: "in_progress" };
  }

  /**
   * The worker re-acquires the claim it was handed (possibly as a retry of the same job): succeeds while
   * the record holds `token` (the lease is renewed, attempt unchanged), or over an expired lease or a
   * missing record (the record then holds `token`, attempt + 1). Reports completed/in_progress otherwise.
   * A successful resume carries what earlier attempts already delivered (`progress`); with `card`, the
   * same write counts this attempt among those that may make the message's AI card.
   */
  async resume(key: string, token: string, opts: ResumeOptions = {}): Promise<ClaimResult> {
    const own = opts.card ? 1 : 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const renewed = await this.renew(key, token, own);
      if (renewed) return { status: "claimed", token, attempt: renewed.attempt, progress: progressOf(renewed, own) };
      const rec = await this.read(key);
      if (!rec) {
        if (await this.create(key, token, this.leaseMs, own)) return { status: "claimed", token, attempt: 1, progress: { sent: false, sentParts: [] } };
        continue;
      }
      if (rec.status === COMPLETED) return completed(rec);
      if (rec.token === token) continue;
      if (rec.leaseUntil > this.now()) return { status: "in_progress" };
      if (await this.takeOver(key, rec, token, this.leaseMs, own))
        return { status: "claimed", token, attempt: rec.attempt + 1, progress: progressOf(rec, 0) };
    }
    return { status: "in_progress" };
  }

  /**
   * Records the digests of the reply parts delivered so far, so a retry after a crash between two
   * parts resumes after the last delivered one; `cardFinalized`: the message's AI card was finalized
   * (the parts are what follows it). Throws ClaimLostError for a stale token.
   */
  async recordParts(key: string, token: string, digests: string[], opts: { cardFinalized?: boolean } = {}): Promise<void> {
    const ok = await this.update(key, { sentParts: digests, ...(opts.cardFinalized ? { cardFinalized: true } : {}) }, heldBy(token));
    if (!ok) throw await this.lost(key, "recordParts");
  }

  /**
   * Keeps the claim but lets another attempt take it over from `untilMs` on (a failed scheduled send
   * is tried again then, with what it already delivered). Throws ClaimLostError for a stale token.
   */
  async postpone(key: string, token: string, untilMs: number): Promise<void> {
    const ok = await this.update(key, { leaseUntil: untilMs, expiresAt: this.recordExpiry(untilMs) }, heldBy(token));
    if (!ok) throw await this.lost(key, "postpone");
  }

  /** Whether a reply already went out for this message (a COMPLETED record counts as sent). */
  async wasSent(key: string): Promise<{ sent: boolean; replyId?: string }> {
    const rec = await this.read(key);
    if (!rec) return { sent: false };
    return { sent: rec.sent || rec.status === COMPLETED, ...(rec.replyId ? { replyId: rec.replyId } : {}) };
  }

  /**
   * Marks the message done and keeps the record `completedTtlSeconds`. Idempotent for the same token.
   * `sent`: the reply went out just now (its id and the digests of its parts): recorded in the same
   * write, so no later attempt sends it again. Throws ClaimLostError for a stale token.
   */
  async complete(key: string, token: string, sent: { replyId?: string; sentParts?: string[] } = {}): Promise<void> {
    const now = this.now();
    const ok = await this.items.update(
      this.itemKey(key),
      {
        set: {
          status: COMPLETED,
          expiresAt: Math.floor(now / 1000) + this.completedTtlSeconds,
          updatedAt: now,
          replyId: sent.replyId,
          ...(sent.sentParts ? { sent: true, sentParts: sent.sentParts } : {}),
        },
        remove: ["leaseUntil"],
      },
      { if: and(eq("token", token), or(eq("status", IN_PROGRESS), eq("status", COMPLETED))) },
    );
    if (!ok) throw await this.lost(key, "complete");
  }

  /**
   * `/forget`: drops what a COMPLETED record keeps about its reply (its id and the digests of its
   * parts); the record itself stays until it expires, so a late redelivery is still answered by nothing.
   * A record still in progress is left alone. Resolves true when a record was scrubbed.
   */
  forgetReply(key: string): Promise<boolean> {
    return this.items.update(this.itemKey(key), { set: { updatedAt: this.now() }, remove: ["replyId", "sentParts"] }, { if: eq("status", COMPLETED) });
  }

  /**
   * Failure before sending: deletes the record so a redelivery can run. A no-op when `token` no longer
   * holds the claim. If the reply was in fact already sent, the record is completed instead.
   */
  async release(key: string, token: string): Promise<void> {
    const deleted = await this.items.delete(this.itemKey(key), { if: and(heldBy(token), ne("sent", true)) });
    if (deleted) return;
    const rec = await this.read(key);
    if (rec && rec.status === IN_PROGRESS && rec.token === token && rec.sent) {
      this.log.info("idempotency: release after the reply was sent; completing instead");
      await this.complete(key, token).catch((err: unknown) => {
        if (!(err instanceof ClaimLostError)) throw err;
      });
    }
  }

  /** Puts a fresh IN_PROGRESS record over a missing or expired one (`cardOpens`: 1 when this attempt may make a card). */
  private create(key: string, token: string, leaseMs: number, cardOpens = 0): Promise<boolean> {
    const now = this.now();
    const fields = {
      status: IN_PROGRESS,
      token,
      attempt: 1,
      leaseUntil: now + leaseMs,
      sent: false,
      ...(cardOpens ? { cardOpens } : {}),
      expiresAt: this.recordExpiry(now),
      updatedAt: now,
    };
    return this.items.put(this.itemKey(key), fields, { if: absent });
  }

  /** Replaces the token of an IN_PROGRESS record whose lease expired, if it still holds the token we saw. */
  private takeOver(key: string, rec: StoredRecord, token: string, leaseMs: number, cardOpens = 0): Promise<boolean> {
    const now = this.now();
    return this.items.update(
      this.itemKey(key),
      {
        set: { token, attempt: rec.attempt + 1, leaseUntil: now + leaseMs, expiresAt: this.recordExpiry(now), updatedAt: now },
        ...(cardOpens ? { add: { cardOpens } } : {}),
      },
      { if: and(heldBy(rec.token), compare("leaseUntil", "<=", now)) },
    );
  }

  /** Renews the lease while the live record holds `token`; resolves to the record as written, or undefined if it does not. */
  private async renew(key: string, token: string, cardOpens: number): Promise<StoredRecord | undefined> {
    const now = this.now();
    const item = await this.items.update(
      this.itemKey(key),
      {
        set: { leaseUntil: now + this.leaseMs, expiresAt: this.recordExpiry(now), updatedAt: now },
        ...(cardOpens ? { add: { cardOpens } } : {}),
      },
      { if: and(heldBy(token), exists), returnItem: true },
    );
    return item ? this.parse(key, item) : undefined;
  }

  /** A conditional update that also stamps `updatedAt`. */
  private update(key: string, set: Fields, condition: Condition): Promise<boolean> {
    return this.items.update(this.itemKey(key), { set: { ...set, updatedAt: this.now() } }, { if: condition });
  }

  /** The live record, or undefined when missing or expired. */
  private async read(key: string): Promise<StoredRecord | undefined> {
    const item = await this.items.get(this.itemKey(key));
    return item ? this.parse(key, item) : undefined;
  }

  private parse(key: string, item: Record<string, unknown>): StoredRecord {
    const rec = RecordSchema.safeParse(item);
    if (!rec.success) throw new Error(`idempotency record for ${key} is malformed (${rec.error.issues[0]?.path.join(".") ?? "?"})`);
    return rec.data;
  }

  private async lost(key: string, action: string): Promise<ClaimLostError> {
    const rec = await this.read(key).catch(() => undefined);
    const state = rec ? `${rec.status.toLowerCase()}, attempt ${rec.attempt}` : "no record";
    return new ClaimLostError(`${action}: the claim on ${key} is no longer held by this attempt (${state})`);
  }

  /** Unfinished records outlive their lease so a late redelivery still sees `sent`. */
  private recordExpiry(now: number): number {
    return Math.floor(now / 1000) + Math.max(this.completedTtlSeconds, Math.ceil(this.leaseMs / 1000));
  }

  private itemKey(key: string): ItemKey {
    return { pk: `${this.prefix}#${key}`, sk: this.prefix };
  }
}

/** What earlier attempts delivered; `own`: the card opens this attempt's own write added to `rec`. */
function progressOf(rec: StoredRecord, own: number): SendProgress {
  const card = rec.cardFinalized ? "finalized" : rec.cardOpens > own ? "opened" : undefined;
  return { sent: rec.sent, sentParts: rec.sentParts, ...(rec.replyId ? { replyId: rec.replyId } : {}), ...(card ? { card } : {}) };
}

function completed(rec: StoredRecord): ClaimResult {
  return { status: "completed", ...(rec.replyId ? { replyId: rec.replyId } : {}) };
}
