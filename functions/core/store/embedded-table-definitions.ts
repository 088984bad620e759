// Keeps the embedded dynalite's table definitions in memory. dynalite 4.0.0 reads the requested
// table's definition from LevelDB on every item request (`getTable` in dynalite/db/index.js, through
// its `tableDb` sub-database) before it touches the item: a LevelDB round trip in its thread pool per
// request. Only dynalite's own actions in this process write `tableDb` (CreateTable, UpdateTable,
// DeleteTable, and getTable dropping an undecodable entry) and the directory is locked to this
// process, so wrapping `tableDb` covers every change: reads are answered from memory, any write
// empties the memory first. Everything else (status checks, errors, validation) stays dynalite's.
import { createRequire } from "node:module";

/** The version whose internals (db/index.js: create, getTable, tableDb) this module was written against. */
export const DYNALITE_VERSION = "4.0.0";

type Callback = (err: Error | null | undefined, value?: unknown) => void;

/** dynalite's prefixed sub-database for table definitions (`store.tableDb`), as far as we wrap it. */
export interface TableDefinitionsDb {
  get: (key: string, cb: Callback) => void;
  put: (key: string, value: unknown, cb: Callback) => void;
  del: (key: string, cb: Callback) => void;
  batch: (ops: unknown[], cb: Callback) => void;
}

/** dynalite's store (`require("dynalite/db").create(options)`), as far as we read it. */
interface DynaliteStore {
  tableDb: TableDefinitionsDb;
  getTable: unknown;
}

interface DynaliteDbModule {
  create: (options: object) => DynaliteStore;
}

/**
 * Wraps `tableDb` in place (dynalite's `getTable` and actions hold this same object). A hit is
 * answered on a later turn, as LevelDB's answer is, with a fresh copy (UpdateTable and DeleteTable
 * change the definition they read before writing it back). A write empties the memory when it starts
 * and when it ends, and a read is kept only if neither happened while it ran, so a read racing a
 * write never keeps the older definition.
 * Returns how many reads reached LevelDB (for tests).
 */
export function cacheTableDefinitions(tableDb: TableDefinitionsDb): { levelDbReads: () => number } {
  const kept = new Map<string, string>();
  let generation = 0;
  let reads = 0;
  const { get, put, del, batch } = tableDb;
  const changing = () => {
    generation++;
    kept.clear();
  };
  /** Calls a write with its callback last, emptying the memory as it starts and as it ends. */
  const writing = (write: (...args: never[]) => void) =>
    function (this: unknown, ...args: unknown[]): void {
      const cb = args.pop();
      if (typeof cb !== "function") throw new Error("dynalite's table definitions: a write without a callback (internals changed?)");
      changing();
      Reflect.apply(write, tableDb, [
        ...args,
        (err: Error | null | undefined) => {
          changing();
          (cb as Callback)(err);
        },
      ]);
    };
  tableDb.get = (key, cb) => {
    if (typeof cb !== "function") throw new Error("dynalite's table definitions: a read without a callback (internals changed?)");
    const hit = kept.get(key);
    if (hit !== undefined) {
      setImmediate(cb, null, JSON.parse(hit));
      return;
    }
    const started = generation;
    reads++;
    get.call(tableDb, key, (err: Error | null | undefined, value?: unknown) => {
      if (!err && value !== null && typeof value === "object" && generation === started)
        kept.set(key, JSON.stringify(value));
      cb(err, value);
    });
  };
  tableDb.put = writing(put);
  tableDb.del = writing(del);
  tableDb.batch = writing(batch);
  return { levelDbReads: () => reads };
}

/**
 * Runs `start` (which calls `dynalite(...)`) with dynalite's store factory wrapped so the store it
 * creates keeps its table definitions in memory. Fails loudly when dynalite is not the version this
 * was written for or its store does not look as expected, rather than silently caching nothing.
 * Returns what `start` returned and how many table-definition reads reached LevelDB (for tests).
 */
export function withCachedTableDefinitions<T>(start: () => T): { started: T; levelDbReads(): number } {
  const require = createRequire(createRequire(import.meta.url).resolve("dynalite"));
  const { version } = require("./package.json") as { version: string };
  if (version !== DYNALITE_VERSION)
    throw new Error(
      `dynalite ${version} is installed; embedded-table-definitions.ts was written for ${DYNALITE_VERSION}: check db/index.js (create, getTable, tableDb) and the actions writing tableDb, then update DYNALITE_VERSION`,
    );
  const db = require("./db") as DynaliteDbModule;
  const create = db.create;
  let store: DynaliteStore | undefined;
  db.create = (options) => (store = create(options));
  let started: T;
  try {
    started = start();
  } finally {
    db.create = create;
  }
  const tableDb = store?.tableDb;
  const methods = ["get", "put", "del", "batch"] as const;
  if (!tableDb || typeof store?.getTable !== "function" || !methods.every((m) => typeof tableDb[m] === "function"))
    throw new Error("dynalite's store is not what embedded-table-definitions.ts expects (create → { getTable, tableDb })");
  return { started, ...cacheTableDefinitions(tableDb) };
}
