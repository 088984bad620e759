// Bundles child-main.ts (with the FC runtime and zod) into one plain .mjs with esbuild, once per
// process, so child instances start with bare `node`: no TypeScript loader and nothing of ours
// hooked into how the deployed code loads.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const SOURCE = fileURLToPath(new URL("./child-main.ts", import.meta.url));
let bundled: Promise<string> | undefined;

export function childEntry(): Promise<string> {
  bundled ??= (async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "fc-double-child-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    const outfile = path.join(dir, "child-main.mjs");
    await build({
      entryPoints: [SOURCE],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      minify: true,
      logLevel: "silent",
    });
    return outfile;
  })();
  return bundled;
}
