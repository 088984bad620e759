// Entry point of the DingTalk double: a local DingTalk speaking the real wire protocol (open API, session
// webhooks, AI cards, Stream gateway). The playground runs it as "DingTalk"; tests reuse it through
// test/doubles/dingtalk. Re-exports the in-process API.
export * from "./server.js";
export * from "./stream/index.js";
export { NEW_API_THROTTLE_CODES, LEGACY_THROTTLE_CODES } from "./faults.js";
export { ContactDirectory, type ContactScope, type DirectoryUser } from "./routes/contacts.js";
export { RobotAudience } from "./routes/robot.js";
