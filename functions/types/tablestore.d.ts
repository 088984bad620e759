// Types for the parts of the tablestore SDK (5.6.5, which ships none usable) that the Tablestore
// backend and its tests use: the client, conditions, Long and the sentinels. Shapes from lib/*.js.
declare module "tablestore" {
  namespace TableStore {
    /** An int64 as the SDK writes and reads it (int64-buffer's Int64LE). */
    interface Int64 {
      toNumber(): number;
      toBuffer(): Buffer;
    }
    const Long: { fromNumber(n: number): Int64 };

    type ColumnValue = string | number | boolean | Buffer | Int64;
    type PrimaryKeyInput = Record<string, ColumnValue | object>[];

    interface Credentials {
      accessKeyId: string;
      secretAccessKey: string;
      securityToken?: string;
    }

    interface ClientConfig {
      accessKeyId: string;
      secretAccessKey: string;
      stsToken?: string;
      endpoint: string;
      instancename: string;
      maxRetries?: number;
      httpOptions?: { timeout?: number; maxSockets?: number; agent?: unknown };
    }

    interface DecodedRow {
      primaryKey?: { name: string; value: unknown }[];
      attributes?: { columnName: string; columnValue: unknown; timestamp?: unknown }[];
    }

    interface HttpResponse {
      statusCode: number;
      body: Buffer;
      headers: Record<string, string | undefined>;
    }

    class Client {
      constructor(config: ClientConfig);
      config: { getCredentials(): Credentials };
      extractError(resp: { httpResponse: HttpResponse; error: unknown }): void;
      createTable(params: object): Promise<unknown>;
      describeTable(params: { tableName: string }): Promise<{
        tableMeta?: { tableName?: string; primaryKey?: { name?: string; type?: number }[] };
        tableOptions?: { timeToLive?: number; maxVersions?: number };
        tableStatus?: number;
      }>;
      updateTable(params: object): Promise<unknown>;
      deleteTable(params: { tableName: string }): Promise<unknown>;
      listTable(params: object): Promise<{ tableNames?: string[] }>;
      getRow(params: object): Promise<{ row?: DecodedRow }>;
      putRow(params: object): Promise<unknown>;
      updateRow(params: object): Promise<unknown>;
      deleteRow(params: object): Promise<unknown>;
      getRange(params: object): Promise<{ rows?: DecodedRow[]; nextStartPrimaryKey?: { name: string; value: unknown }[] | null }>;
    }

    class Condition {
      constructor(rowExistence: number, columnCondition: ColumnCondition | null);
    }
    class ColumnCondition {}
    class CompositeCondition extends ColumnCondition {
      constructor(combinator: number);
      addSubCondition(c: ColumnCondition): void;
    }
    class SingleColumnCondition extends ColumnCondition {
      constructor(name: string, value: ColumnValue, comparator: number, passIfMissing?: boolean, latestVersionOnly?: boolean);
    }

    const RowExistenceExpectation: { IGNORE: number; EXPECT_EXIST: number; EXPECT_NOT_EXIST: number };
    const ComparatorType: {
      EQUAL: number;
      NOT_EQUAL: number;
      GREATER_THAN: number;
      GREATER_EQUAL: number;
      LESS_THAN: number;
      LESS_EQUAL: number;
    };
    const LogicalOperator: { NOT: number; AND: number; OR: number };
    const Direction: { FORWARD: string; BACKWARD: string };
    const INF_MIN: object;
    const INF_MAX: object;
    const util: { error(err: Error, options: Record<string, unknown>): Error };
  }
  export = TableStore;
}

declare module "tablestore/lib/protocol/tablestore_compiled_proto.js" {
  const protos: {
    main: { proto: { Error: { decode(body: Uint8Array): { code: string; message?: string } } } };
  };
  export = protos;
}
