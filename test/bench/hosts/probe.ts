// Preload (`node --import probe.mjs …`) that lets the bench probe a process it did not write, such as
// the gateway: CPU time and memory reported from inside over IPC, and a `ready` once preloaded.
// Changes nothing else.
import { serveProbes, toParent } from "./ipc.js";

serveProbes();
toParent({ type: "ready", info: { preloadedMs: performance.now() } });
