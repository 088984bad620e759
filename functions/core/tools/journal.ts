// The job's record of side-effecting tool calls: a call is marked started before it runs and done
// (with its result) right after, before the next LLM call; a retried job finds both, re-uses a done
// result, and does not repeat a call that started but never reported back. Calls are keyed by tool
// name and canonical arguments, since a retried model turn gets new call ids.
import type { Logger } from "../log.js";

export interface JournalEntry {
  key: string;
  state: "started" | "done";
  content?: string;
  ok?: boolean;
}

/** Where a job keeps its entries (an item keyed by the message key; in tests, memory). */
export interface ToolJournal {
  load(): Promise<JournalEntry[]>;
  save(entries: JournalEntry[]): Promise<void>;
}

/** JSON with object keys sorted, so equal arguments give equal keys. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value) ?? "null";
}

export const callKey = (name: string, args: unknown): string => `${name} ${canonicalJson(args)}`;

/** One turn's view of the journal: loaded once, written in order (parallel calls share one chain). */
export class JournalState {
  private entries: Map<string, JournalEntry> | undefined;
  private loading: Promise<Map<string, JournalEntry>> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(
    private readonly journal: ToolJournal | undefined,
    private readonly log: Logger,
  ) {}

  async recall(key: string): Promise<JournalEntry | undefined> {
    return (await this.load()).get(key);
  }

  /** Marks the call started and waits until that is stored (a call must not run unrecorded). */
  async start(key: string): Promise<void> {
    (await this.load()).set(key, { key, state: "started" });
    this.dirty = true;
    await this.write();
  }

  done(key: string, content: string, ok: boolean): void {
    this.entries?.set(key, { key, state: "done", content, ok });
    this.dirty = true;
  }

  /** Stores what `done` recorded; called before the next LLM call. */
  async flush(): Promise<void> {
    if (this.dirty) await this.write();
  }

  private load(): Promise<Map<string, JournalEntry>> {
    if (this.entries) return Promise.resolve(this.entries);
    this.loading ??= (this.journal?.load() ?? Promise.resolve([])).then((list) => {
      this.entries = new Map(list.map((e) => [e.key, e]));
      if (list.length > 0) this.log.info("tools: an earlier attempt recorded tool calls", { recorded: list.length });
      return this.entries;
    });
    return this.loading;
  }

  private write(): Promise<void> {
    const journal = this.journal;
    if (!journal) return Promise.resolve();
    this.chain = this.chain
      .catch(() => undefined)
      .then(() => {
        this.dirty = false;
        return journal.save([...(this.entries?.values() ?? [])]);
      });
    return this.chain;
  }
}

/** A journal in memory (tests, and the CLI's single turn). */
export class MemoryJournal implements ToolJournal {
  entries: JournalEntry[] = [];
  load(): Promise<JournalEntry[]> {
    return Promise.resolve(this.entries.map((e) => ({ ...e })));
  }
  save(entries: JournalEntry[]): Promise<void> {
    this.entries = entries.map((e) => ({ ...e }));
    return Promise.resolve();
  }
}
