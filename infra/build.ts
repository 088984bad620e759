// `npm run build`: bundles the functions standalone into dist/<name>.zip (plus the plain .cjs for
// inspection), for the table backend DINGCLAW_TABLE_KIND / DINGCLAW_TABLE_ENDPOINT select, and prints
// their raw, gzip and zip sizes. Exits non-zero with one line on failure.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readEnv } from "../functions/core/env.js";
import { tableKind } from "../functions/core/store/kind.js";
import { buildBundle, describeBundle } from "./bundle.js";
import { FUNCTION_NAMES } from "./settings.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

async function main(): Promise<void> {
  const env = readEnv();
  const table = tableKind(env.DINGCLAW_TABLE_KIND, env.DINGCLAW_TABLE_ENDPOINT);
  const out = path.join(ROOT, "dist");
  await mkdir(out, { recursive: true });
  for (const name of FUNCTION_NAMES) {
    if (!existsSync(path.join(ROOT, "functions", `${name}.ts`))) continue;
    const bundle = await buildBundle({ name, entry: `functions/${name}.ts`, handler: "index.handler", table }, ROOT);
    await writeFile(path.join(out, `${name}.zip`), bundle.zip);
    await writeFile(path.join(out, `${name}.cjs`), bundle.code);
    console.log(`${describeBundle(bundle)} (${table} table) → dist/${name}.zip`);
  }
}

main().catch((err: unknown) => {
  console.error(`build failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
