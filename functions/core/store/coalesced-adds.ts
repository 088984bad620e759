// Counter items written with atomic ADDs, one write in flight per item: adds made while an item's
// write is in flight wait and go out together in its next write (summed; `set` fields take the latest
// values), so many jobs at once in one process make a few writes per counter item, not one per job.
// A lone add is written at once. Used by the DingTalk API-call and LLM usage counters.
import type { Fields, ItemKey, ItemTable } from "./items.js";

interface Pending {
  add: Record<string, number>;
  set: Fields;
  /** Resolves once these adds are written. */
  done: Promise<void> | undefined;
}

interface Slot {
  /** The write in flight (settles, never rejects). */
  writing: Promise<void> | undefined;
  /** Adds waiting for it. */
  next: Pending | undefined;
}

export class CoalescedAdds {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly items: ItemTable) {}

  /** Adds `add` to the item (creating it when missing) and sets `set`; resolves once written, rejects when that write failed. */
  add(key: ItemKey, add: Record<string, number>, set: Fields): Promise<void> {
    const id = `${key.pk}\n${key.sk}`;
    const slot = this.slots.get(id);
    const writing = slot?.writing;
    if (!slot || !writing) return this.write(id, key, add, set);
    const next = (slot.next ??= { add: {}, set: {}, done: undefined });
    for (const [k, n] of Object.entries(add)) next.add[k] = (next.add[k] ?? 0) + n;
    Object.assign(next.set, set);
    next.done ??= writing.then(() => {
      slot.next = undefined;
      return this.write(id, key, next.add, next.set);
    });
    return next.done;
  }

  private write(id: string, key: ItemKey, add: Record<string, number>, set: Fields): Promise<void> {
    const slot = this.slots.get(id) ?? { writing: undefined, next: undefined };
    this.slots.set(id, slot);
    const written = this.items.update(key, { add, set }).then(() => undefined);
    const done = () => {
      if (slot.writing !== settled) return;
      slot.writing = undefined;
      if (!slot.next) this.slots.delete(id);
    };
    const settled: Promise<void> = written.then(done, done);
    slot.writing = settled;
    return written;
  }
}
