// Test helper: one table per backend behind the same item contract — dynalite (the DynamoDB API) or
// the Tablestore double through the real SDK — for suites that must hold on both; "embedded" is the
// gateway's own store (dynalite in this process, reached by its client without a socket).
//
//   useBackend(kind) → TestBackend (lazy, wired to beforeAll/afterAll of the calling describe)
//   TestBackend: table, openTable() (another client), config, env (for spawned hosts), close()
import { afterAll, beforeAll } from "vitest";
import type { AppConfig } from "../../functions/core/config.js";
import type { TableKind } from "../../functions/core/store/kind.js";
import { openDynamoTable } from "../../functions/core/store/dynamodb/open.js";
import { openTable, type Table } from "../../functions/core/store/table.js";
import { startTestTable } from "./dynalite.js";
import { startTestTablestore } from "./tablestore.js";

export const BACKENDS: readonly TableKind[] = ["dynamodb", "tablestore"];
export type BackendChoice = TableKind | "embedded";

export interface TestBackend {
  kind: TableKind;
  table: Table;
  openTable(): Promise<Table>;
  config: AppConfig["table"];
  env: Record<string, string>;
  close(): Promise<void>;
}

/** The gateway's default store: in memory, in this process; `openTable()` reaches the same server over HTTP. */
async function startEmbedded(): Promise<TestBackend> {
  const table = await openTable({ endpoint: undefined, name: "dingclaw", dataDir: "", region: "local" }, { inMemory: true, env: {} });
  await table.ensure();
  const config: AppConfig["table"] = { kind: "dynamodb", instance: undefined, endpoint: table.endpoint, name: table.name, dataDir: "", region: "local" };
  const others: Table[] = [];
  return {
    kind: "dynamodb",
    table,
    openTable: async () => {
      const other = await openDynamoTable(config, { env: {} });
      others.push(other);
      return other;
    },
    config,
    env: { DINGCLAW_TABLE_ENDPOINT: table.endpoint, DINGCLAW_TABLE_NAME: table.name },
    close: async () => {
      for (const t of others) await t.close();
      await table.close();
    },
  };
}

export async function startBackend(kind: BackendChoice): Promise<TestBackend> {
  if (kind === "embedded") return startEmbedded();
  if (kind === "tablestore") {
    const t = await startTestTablestore();
    return { kind, table: t.table, openTable: () => t.openTable(), config: t.config, env: t.env, close: () => t.close() };
  }
  const d = await startTestTable();
  return { kind, table: d.table, openTable: () => d.openTable(), config: d.config, env: d.env, close: () => d.close() };
}

export function useBackend(kind: BackendChoice): TestBackend {
  let current: TestBackend | undefined;
  beforeAll(async () => {
    current = await startBackend(kind);
  });
  afterAll(async () => {
    await current?.close();
    current = undefined;
  });
  const get = (): TestBackend => {
    if (!current) throw new Error("useBackend(): the table is only available inside tests and hooks");
    return current;
  };
  return {
    kind: kind === "embedded" ? "dynamodb" : kind,
    get table() {
      return get().table;
    },
    openTable: () => get().openTable(),
    get config() {
      return get().config;
    },
    get env() {
      return get().env;
    },
    close: () => get().close(),
  };
}
