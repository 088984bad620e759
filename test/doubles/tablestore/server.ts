// The Tablestore double's HTTP front: POST /<Operation> with a protobuf body, authenticated as the
// service does (signing.ts), answered with a protobuf body and x-ots-* headers, or with the service's
// error (protobuf `Error`, HTTP status). Faults: throttling and 5xx answers, cut connections (before
// or after the write is applied), and a listener that goes down and comes back on the same port.
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { FAULT_ERRORS, OtsError } from "./errors.js";
import { operations, type Backend } from "./operations.js";
import { PlainBufferError } from "./plainbuffer.js";
import { decode, encode } from "./protos.js";
import { authenticate, type AccessKey } from "./signing.js";
import type { TableState } from "./state.js";

export type TablestoreFaultKind = keyof typeof FAULT_ERRORS | "reset" | "lose_response";

export interface TablestoreFaultOptions {
  /** How many matching requests; default: until `clear()`. */
  times?: number;
  /** Only these operations (e.g. ["PutRow"]); default: all. */
  operations?: string[];
  /** Lets this many matching requests through first. */
  skip?: number;
}

export interface TablestoreRequest {
  operation: string;
  /** The error code answered, if any. */
  error?: string;
  fault?: TablestoreFaultKind;
}

export interface TablestoreDoubleOptions {
  /** Instance name requests must carry in x-ots-instancename; default "dingclaw". */
  instance?: string;
  /** Access key id → secret (and STS token); default { "LTAI-test": "test-secret" }. */
  accessKeys?: Record<string, string | AccessKey>;
  port?: number;
  /** The data clock (TTL); default Date.now. Signatures are always checked against real time. */
  now?: () => number;
  /** How long a new table reports LOADING; default 0. */
  loadMs?: number;
  /**
   * RAM authorization of each call: false answers 403 OTSNoPermissionAccess. Called with the access key,
   * the action (`ots:PutRow`) and the resource (`acs:ots:<region>:<account>:instance/<instance>[/table/<table>]`,
   * https://help.aliyun.com/document_detail/27362.html). Default: everything allowed.
   */
  authorize?: (accessKeyId: string, action: string, resource: string) => boolean;
  /** For resources; defaults cn-hangzhou and 1234567890123456. */
  region?: string;
  accountId?: string;
}

export interface TablestoreDouble {
  /** `http://127.0.0.1:<port>`: the endpoint (with DINGCLAW_TABLE_INSTANCE). */
  url: string;
  instance: string;
  tables: Map<string, TableState>;
  requests: TablestoreRequest[];
  /** Capacity units consumed so far, per the documented rules. */
  consumed: { read: number; write: number };
  /** Rows GetRange examines per call (the service's 5,000 by default). */
  scanLimit: number;
  setKey(id: string, key: string | AccessKey): void;
  revokeKey(id: string): void;
  fault(kind: TablestoreFaultKind, opts?: TablestoreFaultOptions): void;
  clear(): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

interface ActiveFault {
  kind: TablestoreFaultKind;
  skip: number;
  left: number;
  operations: Set<string> | undefined;
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function reply(res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, {
    "content-type": "application/x-protobuf",
    "content-length": String(body.length),
    "x-ots-contenttype": "protocol buffer",
    "x-ots-contentmd5": createHash("md5").update(body).digest("base64"),
    "x-ots-date": new Date().toISOString(),
    "x-ots-requestid": randomUUID(),
  });
  res.end(body);
}

function replyError(res: ServerResponse, e: OtsError): void {
  reply(res, e.status, encode("Error", { code: e.code, message: e.message }));
}

export async function startTablestoreDouble(opts: TablestoreDoubleOptions = {}): Promise<TablestoreDouble> {
  const instance = opts.instance ?? "dingclaw";
  const keys = new Map<string, AccessKey>(
    Object.entries(opts.accessKeys ?? { "LTAI-test": "test-secret" }).map(([id, k]) => [id, typeof k === "string" ? { secret: k } : k]),
  );
  const backend: Backend = { tables: new Map(), now: opts.now ?? Date.now, loadMs: opts.loadMs ?? 0, scanLimit: 5000, consumed: { read: 0, write: 0 } };
  const faults: ActiveFault[] = [];
  const requests: TablestoreRequest[] = [];
  const sockets = new Set<Socket>();
  let isDown = false;

  const takeFault = (operation: string): TablestoreFaultKind | undefined => {
    const i = faults.findIndex((f) => f.left > 0 && (!f.operations || f.operations.has(operation)));
    if (i < 0) return undefined;
    const f = faults[i]!;
    if (f.skip > 0) {
      f.skip--;
      return undefined;
    }
    if (--f.left <= 0) faults.splice(i, 1);
    return f.kind;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readAll(req);
    const path = (req.url ?? "/").split("?")[0]!;
    const operation = path.slice(1);
    const record: TablestoreRequest = { operation };
    requests.push(record);
    try {
      if (req.method !== "POST") throw new OtsError(405, "OTSMethodNotAllowed", "Only POST method for requests is supported.");
      const keyId = authenticate({ path, method: req.method, headers: req.headers, body }, { instance, keys, now: Date.now() });
      const op = operations[operation];
      if (!op) throw new OtsError(400, "OTSUnsupportOperation", `Unsupported operation: '${operation}'.`);
      const request = decode(`${operation}Request`, body);
      const tableName = (request.tableName ?? (request.tableMeta as { tableName?: string } | undefined)?.tableName) as string | undefined;
      const resource = `acs:ots:${opts.region ?? "cn-hangzhou"}:${opts.accountId ?? "1234567890123456"}:instance/${instance.toLowerCase()}${tableName ? `/table/${tableName}` : ""}`;
      if (opts.authorize && !opts.authorize(keyId, `ots:${operation}`, resource))
        throw new OtsError(403, "OTSNoPermissionAccess", "You have no permission to access the requested resource, please contact the resource owner");
      const kind = takeFault(operation);
      if (kind) record.fault = kind;
      if (kind === "reset") {
        req.socket.destroy();
        return;
      }
      if (kind && kind !== "lose_response") throw FAULT_ERRORS[kind]();
      const answer = encode(`${operation}Response`, op(backend, request));
      if (kind === "lose_response") {
        req.socket.destroy();
        return;
      }
      reply(res, 200, answer);
    } catch (err) {
      const e =
        err instanceof OtsError
          ? err
          : err instanceof PlainBufferError || (err instanceof Error && /invalid wire type|index out of range|missing required/i.test(err.message))
            ? new OtsError(400, "OTSParameterInvalid", `Invalid request body: ${err.message}.`)
            : new OtsError(500, "OTSInternalServerError", "Internal server error.");
      record.error = e.code;
      replyError(res, e);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  await listen(opts.port ?? 0);
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    instance,
    tables: backend.tables,
    requests,
    consumed: backend.consumed,
    get scanLimit() {
      return backend.scanLimit;
    },
    set scanLimit(n: number) {
      backend.scanLimit = n;
    },
    setKey: (id, key) => void keys.set(id, typeof key === "string" ? { secret: key } : key),
    revokeKey: (id) => void keys.delete(id),
    fault(kind, o = {}) {
      faults.push({ kind, skip: o.skip ?? 0, left: o.times ?? Infinity, operations: o.operations ? new Set(o.operations) : undefined });
    },
    clear: () => void (faults.length = 0),
    async down() {
      if (isDown) return;
      isDown = true;
      await stop();
    },
    async up() {
      if (!isDown) return;
      await listen(port);
      isDown = false;
    },
    async close() {
      if (!isDown) await stop();
      isDown = true;
    },
  };
}
