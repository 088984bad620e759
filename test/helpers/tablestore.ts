// Test helper: the Tablestore double with the dingclaw table created in it, opened through the real
// Tablestore backend (the official SDK), the way test/helpers/dynalite.ts gives a DynamoDB table.
//
//   startTestTablestore(opts?) → Promise<TestTablestore>   call close() when done
//   TestTablestore:
//     double       the double (faults, requests, consumed CUs, tables)
//     table        an opened Table on it
//     config       AppConfig["table"] for openTable()/hosts under test
//     env          DINGCLAW_TABLE_* and ALIBABA_CLOUD_ACCESS_KEY_* for spawned hosts
//     openTable(opts?)  another client (a separate "process")
import type { AppConfig } from "../../functions/core/config.js";
import { openTable, type OpenTableOptions, type Table } from "../../functions/core/store/table.js";
import { startTablestoreDouble, type TablestoreDouble, type TablestoreDoubleOptions } from "../doubles/tablestore/index.js";

export const TABLESTORE_KEY = { accessKeyId: "LTAI-dingclaw-test", accessKeySecret: "tablestore-test-secret" };

export interface TestTablestore {
  double: TablestoreDouble;
  table: Table;
  config: AppConfig["table"];
  env: Record<string, string>;
  openTable(opts?: OpenTableOptions): Promise<Table>;
  close(): Promise<void>;
}

export async function startTestTablestore(opts: TablestoreDoubleOptions & { name?: string } = {}): Promise<TestTablestore> {
  const double = await startTablestoreDouble({ accessKeys: { [TABLESTORE_KEY.accessKeyId]: TABLESTORE_KEY.accessKeySecret }, ...opts });
  const config: AppConfig["table"] = {
    kind: "tablestore",
    endpoint: double.url,
    name: opts.name ?? "dingclaw",
    dataDir: "",
    region: "cn-hangzhou",
    instance: double.instance,
  };
  const env = {
    DINGCLAW_TABLE_KIND: "tablestore",
    DINGCLAW_TABLE_ENDPOINT: double.url,
    DINGCLAW_TABLE_INSTANCE: double.instance,
    DINGCLAW_TABLE_NAME: config.name,
    ALIBABA_CLOUD_ACCESS_KEY_ID: TABLESTORE_KEY.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: TABLESTORE_KEY.accessKeySecret,
  };
  const opened: Table[] = [];
  const open = async (o: OpenTableOptions = {}): Promise<Table> => {
    const t = await openTable(config, { env, ...o });
    opened.push(t);
    return t;
  };
  const table = await open();
  await table.ensure();
  return {
    double,
    table,
    config,
    env,
    openTable: open,
    close: async () => {
      await Promise.all(opened.map((t) => t.close()));
      await double.close();
    },
  };
}
