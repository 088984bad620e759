// Test helper: a real dynalite server (in memory, random port on 127.0.0.1, no CREATING/DELETING delays)
// with the dingclaw table created on it, for any test that needs the table. Never a mock.
//
// API
//   startTestTable(opts?) → Promise<TestTable>   start a server, open + ensure a table; call close() when done
//   useTestTable(opts?)   → TestTable (lazy)       same, wired to vitest beforeAll/afterAll of the calling file;
//                                                  read its properties inside tests/hooks, not at import time
//   TestTable:
//     table        an opened DynamoTable (core/store/dynamodb/open.ts) on the server: pass it to ConversationStore etc.
//     endpoint     "http://127.0.0.1:<port>"; give it to child processes as DINGCLAW_TABLE_ENDPOINT
//     name         the table name (default "dingclaw")
//     config       AppConfig["table"] pointing at the server, for openTable()/hosts under test
//     env          { DINGCLAW_TABLE_ENDPOINT, DINGCLAW_TABLE_NAME } for spawned hosts (dummy creds are automatic)
//     openTable(name?)  another client on the same server (a separate "process"), table ensured
//     close()      closes every client opened here, then stops the server
//
// Example
//   const db = useTestTable();
//   it("…", async () => { const store = new IdempotencyStore(db.table); … });
import { afterAll, beforeAll } from "vitest";
import type { AppConfig } from "../../functions/core/config.js";
import { startDynalite } from "../../functions/core/store/embedded.js";
import { openDynamoTable, type DynamoTable } from "../../functions/core/store/dynamodb/open.js";

export interface TestTable {
  table: DynamoTable;
  endpoint: string;
  name: string;
  config: AppConfig["table"];
  env: { DINGCLAW_TABLE_ENDPOINT: string; DINGCLAW_TABLE_NAME: string };
  openTable(name?: string): Promise<DynamoTable>;
  close(): Promise<void>;
}

export interface TestTableOptions {
  /** Table name; default "dingclaw". */
  name?: string;
}

export async function startTestTable(opts: TestTableOptions = {}): Promise<TestTable> {
  const server = await startDynalite();
  const name = opts.name ?? "dingclaw";
  const opened: DynamoTable[] = [];
  const configFor = (n: string): AppConfig["table"] => ({
    kind: "dynamodb",
    instance: undefined,
    endpoint: server.endpoint,
    name: n,
    dataDir: "",
    region: "local",
  });
  const open = async (n: string = name): Promise<DynamoTable> => {
    const t = await openDynamoTable(configFor(n), { env: {} });
    opened.push(t);
    await t.ensure();
    return t;
  };
  let table: DynamoTable;
  try {
    table = await open();
  } catch (err) {
    await server.close();
    throw err;
  }
  return {
    table,
    endpoint: server.endpoint,
    name,
    config: configFor(name),
    env: { DINGCLAW_TABLE_ENDPOINT: server.endpoint, DINGCLAW_TABLE_NAME: name },
    openTable: open,
    close: async () => {
      await Promise.all(opened.map((t) => t.close()));
      await server.close();
    },
  };
}

export function useTestTable(opts: TestTableOptions = {}): TestTable {
  let current: TestTable | undefined;
  beforeAll(async () => {
    current = await startTestTable(opts);
  });
  afterAll(async () => {
    await current?.close();
    current = undefined;
  });
  const get = (): TestTable => {
    if (!current) throw new Error("useTestTable(): the table is only available inside tests and hooks");
    return current;
  };
  return {
    get table() {
      return get().table;
    },
    get endpoint() {
      return get().endpoint;
    },
    get name() {
      return get().name;
    },
    get config() {
      return get().config;
    },
    get env() {
      return get().env;
    },
    openTable: (name?: string) => get().openTable(name),
    close: () => get().close(),
  };
}
