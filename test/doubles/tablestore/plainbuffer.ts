// PlainBuffer, Tablestore's row encoding, written from the published format
// (https://www.alibabacloud.com/help/en/tablestore/developer-reference/plainbuffer): a 4-byte header
// 0x75, then rows of tagged cells, each with a CRC-8 checksum, and a row checksum over the cell
// checksums plus the delete marker. Decoding checks every checksum, as the service does.
//
//   row   = [TAG_ROW_PK cell*] [TAG_ROW_DATA cell*] [TAG_DELETE_MARKER] TAG_ROW_CHECKSUM crc
//   cell  = TAG_CELL TAG_CELL_NAME len32 name [TAG_CELL_VALUE len32 type data] [TAG_CELL_OP op]
//           [TAG_CELL_TS int64] TAG_CELL_CHECKSUM crc
//   cell crc covers name, value (type, [len32], data), timestamp, op — in that order.

export const TAG = { HEADER: 0x75, ROW_PK: 1, ROW_DATA: 2, CELL: 3, NAME: 4, VALUE: 5, OP: 6, TS: 7, DELETE: 8, ROW_CRC: 9, CELL_CRC: 0x0a } as const;
const VT = { INTEGER: 0, DOUBLE: 1, BOOLEAN: 2, STRING: 3, NULL: 6, BLOB: 7, INF_MIN: 9, INF_MAX: 0xa, AUTO_INCREMENT: 0xb } as const;
export const OP = { DELETE_ALL: 1, DELETE_ONE: 3, INCREMENT: 4 } as const;

export type CellValue =
  | { type: "integer"; value: bigint }
  | { type: "double"; value: number }
  | { type: "boolean"; value: boolean }
  | { type: "string"; value: string }
  | { type: "blob"; value: Buffer }
  | { type: "inf_min" }
  | { type: "inf_max" };

export interface Cell {
  name: string;
  value?: CellValue;
  op?: number;
  timestamp?: bigint;
}

export interface Row {
  primaryKey: Cell[];
  attributes: Cell[];
  deleteMarker: boolean;
}

export class PlainBufferError extends Error {}

/** CRC-8 with polynomial x^8 + x^2 + x + 1 (0x07), the table the format's checksums use. */
const CRC_TABLE = Array.from({ length: 256 }, (_, i) => {
  let c = i;
  for (let b = 0; b < 8; b++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
  return c;
});
const crc8 = (crc: number, bytes: Iterable<number>): number => {
  for (const b of bytes) crc = CRC_TABLE[(crc ^ b) & 0xff]!;
  return crc;
};
const int32Bytes = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
};
const int64Bytes = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(n);
  return b;
};

function cellCrc(c: Cell): number {
  let crc = crc8(0, Buffer.from(c.name, "utf8"));
  if (c.value) crc = crc8(crc, valueBytes(c.value)); // type, [len32], data
  if (c.timestamp !== undefined) crc = crc8(crc, int64Bytes(c.timestamp));
  if (c.op !== undefined) crc = crc8(crc, [c.op]);
  return crc;
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  get atEnd(): boolean {
    return this.pos >= this.buf.length;
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new PlainBufferError("truncated PlainBuffer");
  }
  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  peek(): number | undefined {
    return this.buf[this.pos];
  }
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  double(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number): Buffer {
    if (n < 0) throw new PlainBufferError("negative length in PlainBuffer");
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}

/** A variant: type byte then data (the form a column condition's value takes). */
function readVariant(r: Reader): CellValue {
  const type = r.byte();
  switch (type) {
    case VT.INTEGER:
      return { type: "integer", value: r.int64() };
    case VT.DOUBLE:
      return { type: "double", value: r.double() };
    case VT.BOOLEAN:
      return { type: "boolean", value: r.byte() !== 0 };
    case VT.STRING:
      return { type: "string", value: r.bytes(r.int32()).toString("utf8") };
    case VT.BLOB:
      return { type: "blob", value: Buffer.from(r.bytes(r.int32())) };
    case VT.INF_MIN:
      return { type: "inf_min" };
    case VT.INF_MAX:
      return { type: "inf_max" };
    default:
      throw new PlainBufferError(`unsupported value type 0x${type.toString(16)}`);
  }
}

export function decodeVariant(buf: Buffer): CellValue {
  return readVariant(new Reader(buf));
}

function readCell(r: Reader): Cell {
  if (r.byte() !== TAG.NAME) throw new PlainBufferError("expected a cell name");
  const cell: Cell = { name: r.bytes(r.int32()).toString("utf8") };
  if (r.peek() === TAG.VALUE) {
    r.byte();
    r.int32(); // the value's total length, implied by its type
    cell.value = readVariant(r);
  }
  if (r.peek() === TAG.OP) {
    r.byte();
    cell.op = r.byte();
  }
  if (r.peek() === TAG.TS) {
    r.byte();
    cell.timestamp = r.int64();
  }
  if (r.byte() !== TAG.CELL_CRC) throw new PlainBufferError("expected a cell checksum");
  if (r.byte() !== cellCrc(cell)) throw new PlainBufferError("cell checksum mismatch");
  return cell;
}

function readRow(r: Reader): Row {
  const row: Row = { primaryKey: [], attributes: [], deleteMarker: false };
  let crc = 0;
  for (const [tag, into] of [
    [TAG.ROW_PK, row.primaryKey],
    [TAG.ROW_DATA, row.attributes],
  ] as const) {
    if (r.peek() !== tag) continue;
    r.byte();
    while (r.peek() === TAG.CELL) {
      r.byte();
      const cell = readCell(r);
      crc = crc8(crc, [cellCrc(cell)]);
      into.push(cell);
    }
  }
  if (r.peek() === TAG.DELETE) {
    r.byte();
    row.deleteMarker = true;
  }
  crc = crc8(crc, [row.deleteMarker ? 1 : 0]);
  if (r.byte() !== TAG.ROW_CRC) throw new PlainBufferError("expected a row checksum");
  if (r.byte() !== crc) throw new PlainBufferError("row checksum mismatch");
  return row;
}

export function decodeRows(buf: Buffer): Row[] {
  const r = new Reader(buf);
  if (r.int32() !== TAG.HEADER) throw new PlainBufferError("bad PlainBuffer header");
  const rows: Row[] = [];
  while (!r.atEnd) rows.push(readRow(r));
  return rows;
}

/**
 * One row (a request's row or primary key). Zero bytes after it are ignored: the SDK sizes a primary
 * key holding INF_MIN/INF_MAX one byte too long and the service accepts that padding.
 */
export function decodeRow(buf: Buffer): Row {
  const r = new Reader(buf);
  if (r.int32() !== TAG.HEADER) throw new PlainBufferError("bad PlainBuffer header");
  const row = readRow(r);
  while (!r.atEnd) if (r.byte() !== 0) throw new PlainBufferError("unexpected bytes after the row");
  return row;
}

function valueBytes(v: CellValue): Buffer {
  switch (v.type) {
    case "integer":
      return Buffer.concat([Buffer.from([VT.INTEGER]), int64Bytes(v.value)]);
    case "double": {
      const b = Buffer.alloc(9);
      b[0] = VT.DOUBLE;
      b.writeDoubleLE(v.value, 1);
      return b;
    }
    case "boolean":
      return Buffer.from([VT.BOOLEAN, v.value ? 1 : 0]);
    case "string": {
      const data = Buffer.from(v.value, "utf8");
      return Buffer.concat([Buffer.from([VT.STRING]), int32Bytes(data.length), data]);
    }
    case "blob":
      return Buffer.concat([Buffer.from([VT.BLOB]), int32Bytes(v.value.length), v.value]);
    case "inf_min":
      return Buffer.from([VT.INF_MIN]);
    case "inf_max":
      return Buffer.from([VT.INF_MAX]);
  }
}

function writeCell(out: Buffer[], c: Cell): number {
  const name = Buffer.from(c.name, "utf8");
  out.push(Buffer.from([TAG.CELL, TAG.NAME]), int32Bytes(name.length), name);
  if (c.value) {
    const data = valueBytes(c.value);
    out.push(Buffer.from([TAG.VALUE]), int32Bytes(data.length), data);
  }
  if (c.op !== undefined) out.push(Buffer.from([TAG.OP, c.op]));
  if (c.timestamp !== undefined) out.push(Buffer.from([TAG.TS]), int64Bytes(c.timestamp));
  const crc = cellCrc(c);
  out.push(Buffer.from([TAG.CELL_CRC, crc]));
  return crc;
}

/** Rows as the service returns them (GetRow's row, GetRange's rows, next_start_primary_key). */
export function encodeRows(rows: Omit<Row, "deleteMarker">[]): Buffer {
  const out: Buffer[] = [int32Bytes(TAG.HEADER)];
  for (const row of rows) {
    let crc = 0;
    out.push(Buffer.from([TAG.ROW_PK]));
    for (const c of row.primaryKey) crc = crc8(crc, [writeCell(out, c)]);
    if (row.attributes.length) {
      out.push(Buffer.from([TAG.ROW_DATA]));
      for (const c of row.attributes) crc = crc8(crc, [writeCell(out, c)]);
    }
    out.push(Buffer.from([TAG.ROW_CRC, crc8(crc, [0])]));
  }
  return Buffer.concat(out);
}
