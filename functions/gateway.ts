// Entry for `npm start` (functions/gateway-host.ts is the host): zod's setting first, then the host
// through a dynamic import. infra/launch.mjs bundles with code splitting, and the shared chunks an entry
// imports run before the entry's own code, so the setting must come before the host is even loaded.
import "./fc/zod-jitless.js";

await import("./gateway-host.js");
