// Public entry of the RAM API double (roles and custom policies, V3-signed RPC).
export { startRamDouble, RAM_VERSION } from "./server.js";
export type { RamDouble, RamDoubleOptions, RamRequestRecord } from "./server.js";
export type { RamState, RoleRecord, PolicyRecord } from "./state.js";
export { roleAllows } from "./policy.js";
