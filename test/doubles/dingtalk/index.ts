// Entry point of the DingTalk double for tests: re-exports the in-process API.
export * from "./server.js";
export * from "./stream/index.js";
export { NEW_API_THROTTLE_CODES, LEGACY_THROTTLE_CODES } from "./faults.js";
