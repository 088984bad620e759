// Unzips each function's code once per code version into its own directory under a temp root,
// so every function (and every deployment of it) gets a fresh module instance, as on FC.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { unzipSync } from "fflate";
import type { FunctionRecord } from "./state.js";

function safeSegment(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, "_");
}

export class CodeStore {
  private readonly dirs = new Map<string, Promise<string>>();

  constructor(private readonly root: string) {}

  dirFor(f: FunctionRecord): Promise<string> {
    const dir = path.join(this.root, safeSegment(f.serviceName), `${safeSegment(f.name)}-${f.id}`, f.codeChecksum);
    let pending = this.dirs.get(dir);
    if (!pending) {
      pending = this.extract(f.code, dir).then(() => dir);
      pending.catch(() => this.dirs.delete(dir));
      this.dirs.set(dir, pending);
    }
    return pending;
  }

  private async extract(zip: Buffer, dir: string): Promise<void> {
    const files = unzipSync(zip);
    await mkdir(dir, { recursive: true });
    for (const [name, data] of Object.entries(files)) {
      const target = path.resolve(dir, name);
      if (!target.startsWith(dir + path.sep)) throw new Error(`zip entry '${name}' escapes the code directory`);
      if (name.endsWith("/")) {
        await mkdir(target, { recursive: true });
        continue;
      }
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, data);
    }
  }
}
