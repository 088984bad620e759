// esbuild plugin that keeps function bundles small: replaces modules the functions never call with
// stubs that throw a clear error if ever used (fc2's OSS/axios/WebSocket paths, the browser-only
// bowser, the embedded dynalite store, ajv, the MCP client's stdio transport, and the AWS SDK's CBOR
// and event-stream codecs that DynamoDB's JSON protocol never uses), silences fc2's and httpx's
// `debug` traces, trims zod to its English messages, and gives the DynamoDB client an
// environment-only credential provider (FC passes AWS_* variables; there are no profiles).
import path from "node:path";
import type { Plugin } from "esbuild";

/** Packages reachable from @alicloud/fc2 or the AWS SDK that no function code path uses. */
export const UNUSED_PACKAGES = ["ali-oss", "axios", "ws", "bowser", "dynalite", "ajv", "ajv-formats"] as const;

function throwingModule(name: string, why: string): string {
  const message = JSON.stringify(`"${name}" is not included in the dingclaw function bundle (${why}); this code path is not supported here`);
  return `"use strict";
function unavailable() { throw new Error(${message}); }
module.exports = new Proxy(unavailable, {
  get(target, prop) {
    if (prop === "__esModule") return false;
    if (prop === "default") return module.exports;
    if (typeof prop === "symbol" || prop === "then" || prop === "prototype") return undefined;
    return unavailable;
  },
});`;
}

const WHY: Record<(typeof UNUSED_PACKAGES)[number], string> = {
  "ali-oss": "only @alicloud/fc2's large-code upload uses it",
  axios: "only @alicloud/fc2's unused helpers use it",
  ws: "only @alicloud/fc2's interactive sessions use it",
  bowser: "the AWS SDK loads it in browsers only",
  dynalite: "functions use DINGCLAW_TABLE_ENDPOINT, not the embedded store",
  ajv: "the MCP client is given its own structured-result check (tools/mcp.ts)",
  "ajv-formats": "the MCP client is given its own structured-result check (tools/mcp.ts)",
};

const OTHER_WHY: Record<string, string> = { "@smithy/core/event-streams": "DynamoDB has no event-stream operations" };

const EMBEDDED_STORE_STUB = `export async function startDynalite() {
  throw new Error("the embedded table store is not part of the function bundles: set DINGCLAW_TABLE_ENDPOINT");
}`;

/** DynamoDB speaks AWS JSON 1.0: the SDK's protocol barrel still names the RPC v2 CBOR protocol
 * (extended at load, so a class that fails when constructed stands in for it). */
const CBOR_STUB = `const why = "the CBOR protocol is not included in the dingclaw function bundle (DynamoDB uses JSON)";
export class SmithyRpcV2CborProtocol { constructor() { throw new Error(why); } }
export function loadSmithyRpcV2CborErrorCode() { throw new Error(why); }`;

/** @alicloud/fc2 and httpx trace through \`debug\`: off unless DEBUG is set, and when on they print the
 * signed request headers (the role's security token among them), so the bundles carry a silent one
 * (which also spares a cold instance loading two copies of it with supports-color). */
const SILENT_DEBUG = `"use strict";
function off() {}
off.enabled = false;
off.extend = function () { return off; };
function createDebug() { return off; }
createDebug.enabled = function () { return false; };
createDebug.enable = function () {};
createDebug.disable = function () { return ""; };
module.exports = createDebug;
module.exports.default = createDebug;`;

const ENV_CREDENTIALS = `import { fromEnv } from "@aws-sdk/credential-provider-env";
export const defaultProvider = (init) => fromEnv(init);`;

const ZOD_ENTRY = Symbol("zod entry");

export function stubPlugin(): Plugin {
  return {
    name: "dingclaw-stubs",
    setup(build) {
      const unused = new RegExp(`^(${UNUSED_PACKAGES.join("|")})$`);
      build.onResolve({ filter: unused }, (args) => ({ path: args.path, namespace: "dingclaw-unused" }));
      build.onLoad({ filter: /.*/, namespace: "dingclaw-unused" }, (args) => ({
        contents: throwingModule(args.path, WHY[args.path as keyof typeof WHY] ?? OTHER_WHY[args.path] ?? "stdio MCP servers run only in the gateway"),
        loader: "js",
      }));

      // stdio MCP servers run only in the gateway (tools/mcp.ts imports this lazily).
      build.onResolve({ filter: /^@modelcontextprotocol\/sdk\/client\/stdio\.js$/ }, (args) => ({ path: args.path, namespace: "dingclaw-unused" }));

      // Loaded only for operations with event streams (dynamic import); DynamoDB has none.
      build.onResolve({ filter: /^@smithy\/core\/event-streams$/ }, (args) => ({ path: args.path, namespace: "dingclaw-unused" }));
      build.onResolve({ filter: /^@smithy\/core\/cbor$/ }, (args) => ({ path: args.path, namespace: "dingclaw-cbor" }));
      build.onLoad({ filter: /.*/, namespace: "dingclaw-cbor" }, () => ({ contents: CBOR_STUB, loader: "js" }));

      build.onResolve({ filter: /(^|\/)embedded\.js$/ }, (args) =>
        args.resolveDir.includes(path.join("functions", "core", "store")) ? { path: args.path, namespace: "dingclaw-embedded" } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: "dingclaw-embedded" }, () => ({ contents: EMBEDDED_STORE_STUB, loader: "js" }));

      build.onResolve({ filter: /^\.\.\/locales\/index\.c?js$/ }, (args) =>
        args.resolveDir.includes(`${path.sep}zod${path.sep}`)
          ? { path: path.join(args.resolveDir, `../locales/en${path.extname(args.path)}`), namespace: "dingclaw-zod-locales" }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: "dingclaw-zod-locales" }, (args) => ({
        contents: `export { default as en } from ${JSON.stringify(args.path)};`,
        loader: "js",
        resolveDir: path.dirname(args.path),
      }));

      // zod's package declares no side effects, so esbuild may drop the entry module "zod" when it is
      // only re-exported; where the classic API is initialised lazily (the worker reaches it through
      // a dynamic import too) that dropped the call initialising it before modules used it at load.
      build.onResolve({ filter: /^zod$/ }, async (args) => {
        if (args.pluginData === ZOD_ENTRY) return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: ZOD_ENTRY });
        return resolved.errors.length > 0 ? undefined : { path: resolved.path, sideEffects: true };
      });

      build.onResolve({ filter: /^debug$/ }, (args) => ({ path: args.path, namespace: "dingclaw-debug" }));
      build.onLoad({ filter: /.*/, namespace: "dingclaw-debug" }, () => ({ contents: SILENT_DEBUG, loader: "js" }));

      build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, (args) => ({
        path: "credential-provider-env-only",
        namespace: "dingclaw-credentials",
        pluginData: args.resolveDir,
      }));
      build.onLoad({ filter: /.*/, namespace: "dingclaw-credentials" }, (args) => ({
        contents: ENV_CREDENTIALS,
        loader: "js",
        resolveDir: args.pluginData as string,
      }));
    },
  };
}
