// The request and response messages, loaded with protobufjs from the .proto files the tablestore SDK
// ships (lib/protocol/tablestore.proto, tablestore_filter.proto): the double decodes exactly what the
// service's published protocol defines, not what the SDK's generated code happens to accept.
import { createRequire } from "node:module";
import path from "node:path";
import protobuf from "protobufjs";

const dir = path.join(path.dirname(createRequire(import.meta.url).resolve("tablestore/package.json")), "lib", "protocol");
const root = protobuf.loadSync([path.join(dir, "tablestore.proto"), path.join(dir, "tablestore_filter.proto")]);

export const message = (name: string): protobuf.Type => root.lookupType(name.includes(".") ? name : `main.proto.${name}`);

/** Decodes a request body; plain objects with camelCase fields, enums as numbers, int64 as numbers, bytes as Buffers. */
export function decode(name: string, body: Uint8Array): Record<string, unknown> {
  const type = message(name);
  return type.toObject(type.decode(body), { longs: Number, defaults: false });
}

export function encode(name: string, value: Record<string, unknown>): Buffer {
  const type = message(name);
  const problem = type.verify(value);
  if (problem) throw new Error(`tablestore double: bad ${name}: ${problem}`);
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}
