// One esbuild bundle per function (minified CommonJS for FC's nodejs20 runtime, no dev files),
// zipped with fflate into what FC's `code.zipFile` carries, with only the deployed table backend.
// Checks that the callback bundle stays free of the LLM client and the embedded store, and reports
// raw, gzip and zip sizes.
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { strToU8, zipSync } from "fflate";
import type { TableKind } from "../functions/core/store/kind.js";
import { stubPlugin } from "./bundle-stubs.js";
import { tablePlugin } from "./bundle-table.js";
import { DeployError } from "./errors.js";

export interface BundleTarget {
  name: string;
  /** TypeScript entry, relative to `root`. */
  entry: string;
  /** FC handler `file.export`: the bundle becomes `file.js` in the zip. */
  handler: string;
  /** The table backend the functions use; the other one is left out. Default "dynamodb". */
  table?: TableKind;
}

export interface Bundle {
  name: string;
  handler: string;
  /** The minified JavaScript. */
  code: Uint8Array;
  zip: Uint8Array;
  rawBytes: number;
  gzipBytes: number;
  zipBytes: number;
  /** Source files in the bundle (paths relative to `root`), for size and content checks. */
  inputs: string[];
}

/** What each function's bundle must not contain (cold start, the callback never touches the LLM, the
 * playground and its simulated DingTalk are never shipped to FC). */
const NO_LLM = [/node_modules\/openai\//, /node_modules\/dynalite\//, /functions\/core\/store\/embedded\.ts$/, /functions\/core\/llm\/client\.ts$/, /functions\/playground\//];
const NO_LOCAL = [/node_modules\/dynalite\//, /functions\/core\/store\/embedded\.ts$/, /functions\/playground\//];
export const FORBIDDEN_INPUTS: Record<string, RegExp[]> = { callback: NO_LLM, notify: NO_LLM, worker: NO_LOCAL, scheduler: NO_LOCAL };

/** The other table backend's client never ships. */
export const FORBIDDEN_BY_TABLE: Record<TableKind, RegExp[]> = {
  dynamodb: [/node_modules\/tablestore\//, /functions\/core\/store\/tablestore\//],
  tablestore: [/node_modules\/@aws-sdk\//, /functions\/core\/store\/dynamodb\//],
};

/** Fixed timestamp so identical sources give identical zips (and FC code checksums). */
const ZIP_MTIME = new Date("2020-01-01T00:00:00Z");

export async function buildBundle(target: BundleTarget, root: string): Promise<Bundle> {
  const file = target.handler.slice(0, target.handler.lastIndexOf("."));
  const result = await build({
    absWorkingDir: root,
    entryPoints: [path.resolve(root, target.entry)],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: true,
    legalComments: "none",
    metafile: true,
    write: false,
    outfile: path.join(root, ".serverless", target.name, `${file}.js`),
    logLevel: "silent",
    plugins: [stubPlugin(), tablePlugin(target.table ?? "dynamodb")],
  }).catch((err: unknown) => {
    const first = (err as { errors?: { text?: string; location?: { file?: string; line?: number } }[] }).errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : "";
    throw new DeployError(`cannot bundle ${target.entry}: ${first?.text ?? String(err)}${where}`, { cause: err });
  });
  const output = result.outputFiles[0];
  if (!output) throw new DeployError(`cannot bundle ${target.entry}: esbuild produced no output`);
  const inputs = Object.keys(result.metafile.inputs);
  const forbidden = [...(FORBIDDEN_INPUTS[target.name] ?? []), ...FORBIDDEN_BY_TABLE[target.table ?? "dynamodb"]].flatMap((re) =>
    inputs.filter((i) => re.test(i)),
  );
  if (forbidden.length > 0)
    throw new DeployError(`the ${target.name} bundle must not include ${forbidden.slice(0, 3).join(", ")} (check its imports)`);

  const code = output.contents;
  const zip = zipSync(
    {
      [`${file}.js`]: [code, { mtime: ZIP_MTIME }],
      "package.json": [strToU8('{"type":"commonjs"}\n'), { mtime: ZIP_MTIME }],
    },
    { level: 9 },
  );
  return {
    name: target.name,
    handler: target.handler,
    code,
    zip,
    rawBytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    zipBytes: zip.length,
    inputs,
  };
}

export function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}

/** "callback: 641 KB minified, 197 KB gzip, 200 KB zip" */
export function describeBundle(b: Bundle): string {
  return `${b.name}: ${kb(b.rawBytes)} minified, ${kb(b.gzipBytes)} gzip, ${kb(b.zipBytes)} zip`;
}
