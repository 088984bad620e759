// The embedded table: a dynalite server in this process on 127.0.0.1 and a random port, with its
// LevelDB files in a directory or purely in memory. Loaded lazily so function bundles can leave it out.
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import dynalite from "dynalite";

interface LevelDb {
  open(): Promise<void>;
  close(): Promise<void>;
}

/**
 * dynalite crashes the process when its LevelDB directory is locked (another process or server uses
 * it), so open it once ourselves first, with dynalite's own `level`, and fail with a clear error.
 */
async function assertUnlocked(path: string): Promise<void> {
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve("dynalite"));
  const { Level } = fromDynalite("level") as { Level: new (path: string, opts: object) => LevelDb };
  const db = new Level(path, { valueEncoding: "json" });
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new Error(`the embedded table files in ${path} cannot be opened (in use by another dingclaw process?): ${cause}`, {
      cause: err,
    });
  }
  await db.close();
}

export interface EmbeddedServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** The LevelDB directory, or undefined when in memory. */
  path: string | undefined;
  close(): Promise<void>;
}

/** Starts dynalite without the artificial CREATING/DELETING delays real tables have. */
export async function startDynalite(opts: { path?: string; port?: number } = {}): Promise<EmbeddedServer> {
  if (opts.path) {
    mkdirSync(opts.path, { recursive: true });
    await assertUnlocked(opts.path);
  }
  const server = dynalite({
    ...(opts.path ? { path: opts.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    path: opts.path,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      })),
  };
}
