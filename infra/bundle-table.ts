// esbuild plugin that puts only the deployed table backend into the function bundles: the other
// backend's opener becomes a stub that fails clearly, so a DynamoDB deployment carries no Tablestore
// code and a Tablestore one no AWS SDK. For Tablestore it also swaps the SDK's generated protobuf
// module (≈630 KB minified, static code for every message) for the same messages loaded at start-up
// with protobufjs/light from a JSON descriptor of the SDK's own .proto files (≈100 KB), and declares
// the SDK's few implicit globals so its code runs in the bundle's strict mode, and gives it Node's Buffer.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type { Plugin } from "esbuild";
import protobuf from "protobufjs";
import type { TableKind } from "../functions/core/store/kind.js";

const OPENERS: Record<TableKind, { file: string; fn: string }> = {
  dynamodb: { file: "./dynamodb/open.js", fn: "openDynamoTable" },
  tablestore: { file: "./tablestore/open.js", fn: "openTablestoreTable" },
};

/**
 * Undeclared loop and temporary variables in the SDK (5.6.5; found with eslint no-undef), which throw
 * in the bundle's strict mode: declared at the top of their module instead.
 */
const IMPLICIT_GLOBALS: Record<string, string[]> = {
  "filter.js": ["pro"],
  "encoder.js": ["sub"],
  "plain_buffer_coded_stream.js": ["cell_type"],
  "plian_buffer_builder.js": ["key", "size"],
};
const SDK_FILE = new RegExp(`[\\\\/]tablestore[\\\\/]lib[\\\\/](?:protocol[\\\\/])?(${Object.keys(IMPLICIT_GLOBALS).join("|").replace(/\./g, "\\.")})$`);

/**
 * The SDK's `require("buffer")`: Node's own Buffer (as when the SDK runs from node_modules, where the
 * builtin wins over the `buffer` npm package it also lists), constructed without `new Buffer()`, which
 * Node reports as deprecated (DEP0005) when called from outside node_modules, as bundled code is.
 */
const SDK_SCOPE = /[\\/]node_modules[\\/](?:tablestore[\\/]lib|int64-buffer)[\\/]/;
/** int64-buffer (the SDK's int64 type) uses the global Buffer: given the SDK's instead. */
const INT64_BUFFER = /[\\/]node_modules[\\/]int64-buffer[\\/]int64-buffer\.js$/;
const SDK_BUFFER = `"use strict";
var NodeBuffer = require("node:buffer").Buffer;
function SdkBuffer(value, encoding) {
  return typeof value === "number" ? NodeBuffer.alloc(value) : NodeBuffer.from(value, encoding);
}
SdkBuffer.prototype = NodeBuffer.prototype;
Object.setPrototypeOf(SdkBuffer, NodeBuffer);
module.exports = { Buffer: SdkBuffer };`;

/** The SDK's generated module; its namespaces main/filter/search map one to one onto the three .proto files. */
const COMPILED_PROTO = /[\\/]tablestore[\\/]lib[\\/]protocol[\\/]tablestore_compiled_proto\.js$/;

/** From the build's working directory: the plugin itself may run bundled as CommonJS (no import.meta). */
function protoDescriptor(workDir: string): string {
  const dir = path.join(path.dirname(createRequire(path.join(workDir, "package.json")).resolve("tablestore/package.json")), "lib", "protocol");
  const root = protobuf.loadSync(["tablestore.proto", "tablestore_filter.proto", "tablestore_search.proto"].map((f) => path.join(dir, f)));
  return JSON.stringify(root.toJSON());
}

/** The generated module's shape: types as message classes, enums as name→number objects with number→name behind. */
function reflectedProtos(descriptor: string): string {
  return `"use strict";
var protobuf = require("protobufjs/light");
var root = protobuf.Root.fromJSON(${descriptor});
function namespace(name) {
  var ns = root.lookup(name), out = {};
  Object.keys(ns.nested).forEach(function (key) {
    var o = ns.nested[key];
    if (o instanceof protobuf.Enum) return void (out[key] = Object.assign(Object.create(o.valuesById), o.values));
    // As the generated code does: an absent bytes field reads as an empty Buffer (the SDK extends it).
    o.fieldsArray.forEach(function (f) {
      if (f.type === "bytes" && !f.repeated) o.ctor.prototype[f.name] = protobuf.util.newBuffer([]);
    });
    out[key] = o.ctor;
  });
  return out;
}
module.exports = { main: { proto: namespace("main.proto") }, filter: { proto: namespace("filter.proto") }, search: { proto: namespace("search.proto") } };`;
}

export function tablePlugin(kind: TableKind): Plugin {
  return {
    name: "dingclaw-table",
    setup(build) {
      for (const [other, opener] of Object.entries(OPENERS)) {
        if (other === kind) continue;
        const filter = new RegExp(`^${opener.file.replace(/[./]/g, "\\$&")}$`);
        build.onResolve({ filter }, (args) =>
          args.resolveDir.endsWith(path.join("functions", "core", "store")) ? { path: opener.file, namespace: "dingclaw-other-table" } : undefined,
        );
        build.onLoad({ filter: /.*/, namespace: "dingclaw-other-table" }, () => ({
          contents: `export async function ${opener.fn}() {
  throw new Error(${JSON.stringify(`this bundle was built for a ${kind} table, not ${other}: deploy again with the table settings the functions use`)});
}`,
          loader: "js",
        }));
      }
      if (kind !== "tablestore") return;
      let descriptor: string | undefined;
      const root = build.initialOptions.absWorkingDir ?? process.cwd();
      build.onLoad({ filter: COMPILED_PROTO }, () => ({ contents: reflectedProtos((descriptor ??= protoDescriptor(root))), loader: "js" }));
      build.onResolve({ filter: /^buffer$/ }, (args) => (SDK_SCOPE.test(args.importer) ? { path: "buffer", namespace: "dingclaw-sdk-buffer" } : undefined));
      build.onLoad({ filter: INT64_BUFFER }, async (args) => ({
        contents: `var Buffer = require("buffer").Buffer;\n${await readFile(args.path, "utf8")}`,
        loader: "js",
      }));
      build.onLoad({ filter: /.*/, namespace: "dingclaw-sdk-buffer" }, () => ({ contents: SDK_BUFFER, loader: "js" }));
      build.onLoad({ filter: SDK_FILE }, async (args) => {
        const names = IMPLICIT_GLOBALS[path.basename(args.path)] ?? [];
        return { contents: `var ${names.join(", ")};\n${await readFile(args.path, "utf8")}`, loader: "js" };
      });
    },
  };
}
