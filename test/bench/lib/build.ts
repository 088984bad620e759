// Builds what the bench runs: the function bundles exactly as `npm run build` does (dist/), the bench
// hosts as plain-node ES modules, and the SDK-only baseline bundle with the functions' esbuild settings.
import { spawn } from "node:child_process";
import { readFile, stat, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { buildBundle } from "../../../infra/bundle.js";
import { DIST, HOSTS_OUT, ROOT } from "./paths.js";

export const HOSTS = ["fc-http", "floor-http", "fc-event", "dynalite", "put-load", "http-ping", "probe", "idle", "stream-floor", "stream-ack", "tablestore"] as const;

export interface BundleSize {
  name: string;
  rawBytes: number;
  gzipBytes: number;
  zipBytes?: number;
  file: string;
}

/** `npm run build` (tsx infra/build.ts), in a child process like a user runs it. */
export async function runNpmBuild(): Promise<string[]> {
  const child = spawn(process.execPath, ["--import", "tsx", "infra/build.ts"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`npm run build failed (exit ${code}):\n${out}`);
  return out.trim().split("\n");
}

/** One ES module per entry for plain `node`, dependencies left in node_modules (infra/launch.mjs's settings). */
const NODE_ESM = {
  absWorkingDir: ROOT,
  bundle: true,
  packages: "external",
  platform: "node",
  target: "node20",
  format: "esm",
  logLevel: "silent",
} as const;

export async function buildHosts(): Promise<void> {
  await mkdir(HOSTS_OUT, { recursive: true });
  await build({
    ...NODE_ESM,
    entryPoints: HOSTS.map((h) => path.join(ROOT, "test/bench/hosts", `${h}.ts`)),
    outdir: HOSTS_OUT,
    outExtension: { ".js": ".mjs" },
  });
}

/**
 * The gateway (functions/gateway.ts) as ES modules for plain `node`, dependencies left in node_modules,
 * with the settings infra/launch.mjs uses (code behind dynamic imports in chunks of its own): the bundle
 * `npm start` runs, prebuilt, to show what bundling at every start costs in start time and memory.
 */
export async function buildGatewayForNode(): Promise<string> {
  await build({
    ...NODE_ESM,
    entryPoints: [path.join(ROOT, "functions/gateway.ts")],
    outdir: HOSTS_OUT,
    splitting: true,
    entryNames: "[name]",
    chunkNames: "gateway-chunk-[hash]",
    outExtension: { ".js": ".mjs" },
  });
  return path.join(HOSTS_OUT, "gateway.mjs");
}

async function sizeOf(name: string, file: string, zip?: string): Promise<BundleSize> {
  const code = await readFile(file);
  return {
    name,
    file: path.relative(ROOT, file),
    rawBytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    ...(zip ? { zipBytes: (await stat(zip)).size } : {}),
  };
}

export function functionBundleSize(name: "callback" | "worker"): Promise<BundleSize> {
  return sizeOf(name, path.join(DIST, `${name}.cjs`), path.join(DIST, `${name}.zip`));
}

/** The cold-start baseline: only @aws-sdk/client-dynamodb, minified with the functions' own plugin and settings. */
export async function buildSdkOnly(): Promise<BundleSize> {
  const bundle = await buildBundle({ name: "sdk-only", entry: "test/bench/hosts/sdk-only.ts", handler: "index.handler" }, ROOT);
  const file = path.join(HOSTS_OUT, "sdk-only.cjs");
  await writeFile(file, bundle.code);
  return { name: "sdk-only", file: path.relative(ROOT, file), rawBytes: bundle.rawBytes, gzipBytes: bundle.gzipBytes, zipBytes: bundle.zipBytes };
}
