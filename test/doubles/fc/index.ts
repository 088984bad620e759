// Public entry of the FC API double: start it in-process with `startFcDouble`, or run main.ts.
export { startFcDouble } from "./server.js";
export type { FcDouble, FcDoubleOptions, RequestLogEntry, RoleCredentials } from "./server.js";
export type { AsyncInvocationRecord, AsyncOutcome } from "./async-queue.js";
export type { FunctionLogLine, KillOptions, RunMode } from "./invoker.js";
export type { FcState } from "./state.js";
export { contentMd5, stringToSign } from "./signing.js";
export { crc64 } from "./crc64.js";
export { zipBase64 } from "./zip.js";
