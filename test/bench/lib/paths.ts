// Where the bench reads and writes: the repository root, the built function bundles (dist/), and the
// git-ignored results folder with the compiled bench hosts.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const DIST = path.join(ROOT, "dist");
export const RESULTS = path.join(ROOT, "test/bench/results");
export const HOSTS_OUT = path.join(RESULTS, "build");

/** The compiled `.mjs` of a host in test/bench/hosts/. */
export function hostFile(name: string): string {
  return path.join(HOSTS_OUT, `${name}.mjs`);
}
