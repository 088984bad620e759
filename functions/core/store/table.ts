// The table handle every host opens once and every store receives: which backend it is, the stores'
// item view (`items(now)`), creation and status for start-up and `doctor`, and a close that waits
// for calls in flight. `openTable` picks the backend from the config.
import type { AppConfig } from "../config.js";
import { silentLogger, type Logger } from "../log.js";
import { trackInFlight } from "./in-flight.js";
import { ItemTable, type ItemBackend } from "./items.js";
import { tableKind, type TableKind } from "./kind.js";

/** The table settings; without `kind` the endpoint decides (see kind.ts). */
export type TableConfig = Omit<AppConfig["table"], "kind" | "instance"> & Partial<Pick<AppConfig["table"], "kind" | "instance">>;
export type { TableKind };

export interface EnsuredTable {
  created: boolean;
  /** TTL on `expiresAt`: switched on now, on already, or not offered by this backend (reads ignore expired items anyway). */
  ttl: "enabled" | "unsupported" | "already";
}

export interface EnsureOptions {
  log?: Logger;
  /** Upper bound for waiting until the table is usable; default 60 s. */
  timeoutMs?: number;
}

export interface Table {
  readonly kind: TableKind;
  readonly name: string;
  /** The endpoint URL the client talks to (the embedded server's own URL when embedded). */
  readonly endpoint: string;
  readonly embedded: boolean;
  /** The stores' view of the items, reading through `now` (default Date.now). */
  items(now?: () => number): ItemTable;
  /** Creates the table if missing and turns on TTL where offered. Safe to call repeatedly and from several processes. */
  ensure(opts?: EnsureOptions): Promise<EnsuredTable>;
  /** "ACTIVE" (or the backend's other states) or "missing"; throws TableUnavailableError when unreachable. */
  status(): Promise<string>;
  /** Deletes the table with everything in it (`serverless remove`). */
  drop(): Promise<"deleted" | "absent">;
  /**
   * Waits (up to `closeDrainMs`) for item calls already in flight, then closes the client and, when
   * embedded, stops the server (LevelDB files are flushed). Idempotent.
   */
  close(): Promise<void>;
}

export interface OpenTableOptions {
  /** Embedded store only: keep everything in memory instead of LevelDB files under `dataDir`. */
  inMemory?: boolean;
  log?: Logger;
  /** Defaults: 1000 ms to connect, 3000 ms per request, 3 attempts: a dead table fails within ~10 s, a refused one at once. */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxAttempts?: number;
  /** Where credentials are looked up (parsed with core/env.ts); default process.env. */
  env?: Record<string, string | undefined>;
  /**
   * The credentials to sign with, read before every request. Tablestore: on FC the role's temporary
   * credentials from the latest invocation; when it yields none, ALIBABA_CLOUD_ACCESS_KEY_* from `env`.
   * DynamoDB API: a table key given explicitly (deploy); without it the AWS SDK's own lookup applies.
   */
  credentials?: () => AliyunCredentials | undefined;
  /** How long `close()` waits for calls in flight; default 5000 ms. */
  closeDrainMs?: number;
}

export interface AliyunCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** What a backend hands to `composeTable`. */
export interface BackendParts {
  backend: ItemBackend;
  ensure(opts?: EnsureOptions): Promise<EnsuredTable>;
  status(): Promise<string>;
  drop(): Promise<"deleted" | "absent">;
  /** Releases the client (and the embedded server). */
  close(): Promise<void>;
}

/** Builds the Table handle around a backend: item views, in-flight tracking, an idempotent close. */
export function composeTable(
  meta: Pick<Table, "kind" | "name" | "endpoint" | "embedded">,
  parts: BackendParts,
  opts: Pick<OpenTableOptions, "log" | "closeDrainMs">,
): Table {
  const log = opts.log ?? silentLogger;
  const inFlight = trackInFlight(parts.backend);
  let closing: Promise<void> | undefined;
  return {
    ...meta,
    items: (now) => new ItemTable(inFlight.backend, now),
    ensure: (o) => parts.ensure(o),
    status: () => parts.status(),
    drop: () => parts.drop(),
    close: () =>
      (closing ??= (async () => {
        if (!(await inFlight.drained(opts.closeDrainMs ?? 5000)))
          log.warn("table: closing with calls still in flight", { calls: inFlight.count() });
        await parts.close();
      })()),
  };
}

/**
 * Opens the configured table: Tablestore, the DynamoDB API at `endpoint`, or an embedded dynalite
 * without one. Each backend is loaded only when used (function bundles carry only the deployed one).
 */
export async function openTable(cfg: TableConfig, opts: OpenTableOptions = {}): Promise<Table> {
  if (tableKind(cfg.kind, cfg.endpoint) === "tablestore") {
    const { openTablestoreTable } = await import("./tablestore/open.js");
    return openTablestoreTable(cfg, opts);
  }
  const { openDynamoTable } = await import("./dynamodb/open.js");
  return openDynamoTable(cfg, opts);
}
