// Bundles child-main.ts (with the FC runtime and zod) into one plain .mjs with esbuild, so child
// instances start with bare `node`: no TypeScript loader and nothing of ours hooked into how the
// deployed code loads. The bundle is cached in the temp dir under a hash of its sources.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SOURCES = ["child-main.ts", "fc-runtime.ts", "ipc.ts"];
let bundled: Promise<string> | undefined;

export function childEntry(): Promise<string> {
  bundled ??= (async () => {
    const hash = createHash("sha256");
    for (const file of SOURCES) hash.update(readFileSync(path.join(HERE, file)));
    const outfile = path.join(tmpdir(), `fc-double-child-${hash.digest("hex").slice(0, 16)}.mjs`);
    if (existsSync(outfile)) return outfile;
    const partial = `${outfile}.${process.pid}.tmp`;
    await build({
      entryPoints: [path.join(HERE, "child-main.ts")],
      outfile: partial,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      minify: true,
      logLevel: "silent",
    });
    renameSync(partial, outfile);
    return outfile;
  })();
  return bundled;
}
