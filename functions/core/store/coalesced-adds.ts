// Counter items written with atomic ADDs, one write in flight per item: adds made while an item's
// write is in flight wait and go out together in its next write (summed; `set` fields take the latest
// values), so many jobs at once in one process make a few writes per counter item, not one per job.
// Without `holdMs` a lone add is written at once; with it, adds wait until `flush()` (a job's end) or
// `holdMs`, so counters of different stores on one item (a turn's LLM usage and its DingTalk API calls)
// go out in one write. Used by the DingTalk API-call and LLM usage counters.
import type { Fields, ItemKey, ItemTable } from "./items.js";

interface Pending {
  add: Record<string, number>;
  set: Fields;
  /** Settles once these adds are written (rejects when that write failed). */
  done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Slot {
  key: ItemKey;
  /** The write in flight (settles, never rejects). */
  writing: Promise<void> | undefined;
  /** Adds not written yet. */
  next: Pending | undefined;
  hold: NodeJS.Timeout | undefined;
}

const ignore = (): void => undefined;

export interface CoalescedAddsOptions {
  /** How long adds may wait for a `flush()` before they are written anyway; default 0 (at once). */
  holdMs?: number;
}

export class CoalescedAdds {
  private readonly slots = new Map<string, Slot>();
  private readonly holdMs: number;

  constructor(
    private readonly items: ItemTable,
    opts: CoalescedAddsOptions = {},
  ) {
    this.holdMs = opts.holdMs ?? 0;
  }

  /** Adds `add` to the item (creating it when missing) and sets `set`; resolves once written, rejects when that write failed. */
  add(key: ItemKey, add: Record<string, number>, set: Fields): Promise<void> {
    const id = `${key.pk}\n${key.sk}`;
    let slot = this.slots.get(id);
    if (!slot) {
      slot = { key, writing: undefined, next: undefined, hold: undefined };
      this.slots.set(id, slot);
    }
    const next = (slot.next ??= pending());
    for (const [k, n] of Object.entries(add)) next.add[k] = (next.add[k] ?? 0) + n;
    Object.assign(next.set, set);
    if (!slot.writing) {
      if (this.holdMs <= 0) this.write(id, slot);
      else if (!slot.hold) {
        const s = slot;
        s.hold = setTimeout(() => this.write(id, s), this.holdMs);
        s.hold.unref?.();
      }
    }
    return next.done;
  }

  /** Writes every add held so far; resolves once they are all written (or failed: those adds' callers see the error). */
  async flush(): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const [id, slot] of this.slots) {
      if (slot.next) waits.push(slot.next.done.catch(ignore));
      if (slot.writing) waits.push(slot.writing);
      else this.write(id, slot);
    }
    await Promise.all(waits);
  }

  private write(id: string, slot: Slot): void {
    clearTimeout(slot.hold);
    slot.hold = undefined;
    const batch = slot.next;
    slot.next = undefined;
    if (!batch) {
      this.slots.delete(id);
      return;
    }
    // The slot is free again before the batch's callers go on, so an add they make starts a write of its own.
    const settle = (failure?: { err: unknown }) => {
      slot.writing = undefined;
      if (failure) batch.reject(failure.err);
      else batch.resolve();
      // Adds made meanwhile go out together at once; the slot goes when nothing waits.
      this.write(id, slot);
    };
    slot.writing = this.items.update(slot.key, { add: batch.add, set: batch.set }).then(
      () => settle(),
      (err: unknown) => settle({ err }),
    );
  }
}

function pending(): Pending {
  let resolve = ignore;
  let reject: (err: unknown) => void = ignore;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // The caller of `add` sees a failure; a held batch nobody awaits must not be an unhandled rejection.
  done.catch(ignore);
  return { add: {}, set: {}, done, resolve, reject };
}
