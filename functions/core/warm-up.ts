// A long-lived host's warm-up, run once when it is ready for messages: the cold paths a first turn
// would otherwise pay for (about a third of it: V8 compiles code on first use, and the pieces below
// are built lazily) run while nobody waits. The time zone's formatter, the built-in tools' JSON
// Schemas and the LLM SDK clients are built as a turn builds them; the table gets a conditional
// update and a conditional put shaped like a turn's, on a key nothing else uses, whose conditions
// fail on the missing item, so nothing is written (the embedded store parses and checks them as it
// would a turn's: its parsers are most of a cold first turn).
import { describeError, type Logger } from "./log.js";
import { displayTime } from "./proactive/time.js";
import { and, compare, eq, exists, missing, ne, or, type ItemKey, type ItemTable } from "./store/items.js";

export interface WarmUpDeps {
  timeZone: string;
  tools: { prepareSpecs(): void };
  llm: { prepareClients(): void };
  items: ItemTable;
  log: Logger;
}

export const WARM_UP_KEY: ItemKey = { pk: "warmup#", sk: "warmup" };

/** Never rejects: a failure only means the first turn pays for what was not warmed. */
export async function warmUp(deps: WarmUpDeps): Promise<void> {
  try {
    displayTime(Date.now(), deps.timeZone);
    deps.tools.prepareSpecs();
    deps.llm.prepareClients();
    const unmet = and(exists, or(eq("status", "IN_PROGRESS"), missing("token")), ne("sent", true), compare("version", "<=", 0));
    await deps.items.update(WARM_UP_KEY, { set: { status: "COMPLETED", turns: ["warm-up"] }, add: { version: 1 }, remove: ["leaseUntil"] }, { if: unmet });
    await deps.items.put(WARM_UP_KEY, { status: "IN_PROGRESS", expiresAt: 0 }, { if: unmet });
  } catch (err) {
    deps.log.warn("warm-up failed; the first message may be slower", { error: describeError(err) });
  }
}
