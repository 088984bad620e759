// Entry point osls loads (it require()s plugins, so this stays CommonJS): compiles the TypeScript
// provider plugin (infra/plugin.ts and what it imports, packages left external) with esbuild into
// node_modules/.cache/dingclaw/, then loads it. Listed under `plugins` in serverless.yml.
/* global require, module, __dirname, process */
/* eslint-disable @typescript-eslint/no-require-imports */
"use strict";
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const esbuild = require("esbuild");

const root = path.resolve(__dirname, "..");
const result = esbuild.buildSync({
  absWorkingDir: root,
  entryPoints: [path.join(__dirname, "plugin.ts")],
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  packages: "external",
  write: false,
  logLevel: "silent",
  outfile: "plugin.cjs",
});
const code = result.outputFiles[0].contents;
const dir = path.join(root, "node_modules", ".cache", "dingclaw");
const file = path.join(dir, `serverless-plugin-${createHash("sha256").update(code).digest("hex").slice(0, 16)}.cjs`);
if (!fs.existsSync(file)) {
  fs.mkdirSync(dir, { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(partial, code);
  fs.renameSync(partial, file);
  for (const old of fs.readdirSync(dir))
    if (old.startsWith("serverless-plugin-") && path.join(dir, old) !== file) fs.rmSync(path.join(dir, old), { force: true });
}
module.exports = require(file).AliyunProvider;
