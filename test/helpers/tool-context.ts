// The context a tool runs with, for calling tools directly in tests (a 1:1 chat, a 5 s deadline).
import { silentLogger } from "../../functions/core/log.js";
import type { ToolContext } from "../../functions/core/tools/types.js";

export function toolContext(over: Partial<ToolContext> = {}): ToolContext {
  return {
    messageKey: "robot:msg",
    msgId: "msg",
    robotCode: "robot",
    sender: { id: "u1", staffId: "s1" },
    conversation: { id: "c1", type: "direct" },
    signal: AbortSignal.timeout(5000),
    log: silentLogger,
    now: Date.now,
    ...over,
  };
}
