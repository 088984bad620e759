// Builds a function code package in memory (what `code.zipFile` carries) for tests.
import { strToU8, zipSync } from "fflate";

/** Zips `files` (path → source text) and returns the base64 string FC's createFunction expects. */
export function zipBase64(files: Record<string, string>): string {
  const entries = Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)]));
  return Buffer.from(zipSync(entries)).toString("base64");
}
