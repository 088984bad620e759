// Test helper: one table per backend behind the same item contract — dynalite (the DynamoDB API) or
// the Tablestore double through the real SDK — for suites that must hold on both.
//
//   useBackend(kind) → TestBackend (lazy, wired to beforeAll/afterAll of the calling describe)
//   TestBackend: table, openTable() (another client), config, env (for spawned hosts), close()
import { afterAll, beforeAll } from "vitest";
import type { AppConfig } from "../../functions/core/config.js";
import type { TableKind } from "../../functions/core/store/kind.js";
import type { Table } from "../../functions/core/store/table.js";
import { startTestTable } from "./dynalite.js";
import { startTestTablestore } from "./tablestore.js";

export const BACKENDS: readonly TableKind[] = ["dynamodb", "tablestore"];

export interface TestBackend {
  kind: TableKind;
  table: Table;
  openTable(): Promise<Table>;
  config: AppConfig["table"];
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startBackend(kind: TableKind): Promise<TestBackend> {
  if (kind === "tablestore") {
    const t = await startTestTablestore();
    return { kind, table: t.table, openTable: () => t.openTable(), config: t.config, env: t.env, close: () => t.close() };
  }
  const d = await startTestTable();
  return { kind, table: d.table, openTable: () => d.openTable(), config: d.config, env: d.env, close: () => d.close() };
}

export function useBackend(kind: TableKind): TestBackend {
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
    kind,
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
