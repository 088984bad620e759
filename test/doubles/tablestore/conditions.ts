// Conditional updates and filters as Tablestore documents them
// (https://www.alibabacloud.com/help/doc-detail/35194.html, SingleColumnValueFilter
// https://alibabacloud.com/help/en/tablestore/developer-reference/singlecolumnvaluefilter):
// - the row existence expectation is checked first (IGNORE / EXPECT_EXIST / EXPECT_NOT_EXIST);
// - then the column condition: SingleColumnValueFilter compares one column (attribute or primary
//   key) with a constant; CompositeColumnValueFilter combines with NOT (one part), AND, OR (two or
//   more); at most 10 conditions. A missing column decides by filter_if_missing: true fails the
//   check (the SDKs send filter_if_missing = !passIfMissing; the doc's prose is ambiguous, the
//   SDKs' mapping is what the service answers to).
// Unpublished details, chosen here: on a missing row every column is missing; values of different
// types are unequal (= fails, != passes, ordering fails).
import { decode } from "./protos.js";
import { invalid } from "./errors.js";
import { decodeVariant, type CellValue } from "./plainbuffer.js";
import { compareValues } from "./state.js";

export const ROW_EXISTENCE = { IGNORE: 0, EXPECT_EXIST: 1, EXPECT_NOT_EXIST: 2 } as const;
const FILTER = { SINGLE: 1, COMPOSITE: 2, PAGINATION: 3 } as const;
const LOGIC = { NOT: 1, AND: 2, OR: 3 } as const;
const MAX_CONDITIONS = 10;

/** The columns a condition sees: primary key and live attribute cells; undefined for a missing row. */
export type RowView = Map<string, CellValue> | undefined;

type Compiled = (row: RowView) => boolean;

function compare(comparator: number, column: CellValue, value: CellValue): boolean {
  const c = compareValues(column, value);
  if (c === undefined) return comparator === 2;
  switch (comparator) {
    case 1:
      return c === 0;
    case 2:
      return c !== 0;
    case 3:
      return c > 0;
    case 4:
      return c >= 0;
    case 5:
      return c < 0;
    default:
      return c <= 0;
  }
}

type FilterMessage = { type?: number; filter?: Buffer };

function compileFilter(f: FilterMessage, count: { n: number }): Compiled {
  if (f.type === FILTER.SINGLE) {
    const s = decode("filter.proto.SingleColumnValueFilter", f.filter ?? Buffer.alloc(0)) as {
      comparator?: number;
      columnName?: string;
      columnValue?: Buffer;
      filterIfMissing?: boolean;
    };
    if (!s.columnName || !s.columnValue || s.comparator === undefined) throw invalid("Invalid column condition.");
    if (++count.n > MAX_CONDITIONS) throw invalid(`The number of column conditions exceeds the limit: ${MAX_CONDITIONS}.`);
    if (s.comparator < 1 || s.comparator > 6) throw invalid(`Invalid comparator: ${s.comparator}.`);
    const value = decodeVariant(s.columnValue);
    const name = s.columnName;
    const comparator = s.comparator;
    return (row) => {
      const column = row?.get(name);
      return column === undefined ? !s.filterIfMissing : compare(comparator, column, value);
    };
  }
  if (f.type === FILTER.COMPOSITE) {
    const c = decode("filter.proto.CompositeColumnValueFilter", f.filter ?? Buffer.alloc(0)) as { combinator?: number; subFilters?: FilterMessage[] };
    const parts = (c.subFilters ?? []).map((sub) => compileFilter(sub, count));
    if (c.combinator === LOGIC.NOT) {
      if (parts.length !== 1) throw invalid("NOT takes exactly one sub-condition.");
      return (row) => !parts[0]!(row);
    }
    if (parts.length < 2) throw invalid("AND and OR take at least two sub-conditions.");
    if (c.combinator === LOGIC.AND) return (row) => parts.every((p) => p(row));
    if (c.combinator === LOGIC.OR) return (row) => parts.some((p) => p(row));
    throw invalid(`Invalid logical operator: ${String(c.combinator)}.`);
  }
  throw invalid(`Unsupported filter type: ${String(f.type)}.`);
}

/** A column condition or filter (the bytes of a `Filter` message) as a predicate on a row. */
export function compileColumnCondition(bytes: Buffer | undefined): Compiled | undefined {
  return bytes && bytes.length > 0 ? compileFilter(decode("filter.proto.Filter", bytes), { n: 0 }) : undefined;
}

/** Checks a write's `Condition`; false when it fails (the caller answers OTSConditionCheckFail). */
export function conditionHolds(condition: { rowExistence?: number; columnCondition?: Buffer } | undefined, row: RowView): boolean {
  const existence = condition?.rowExistence ?? ROW_EXISTENCE.IGNORE;
  if (existence === ROW_EXISTENCE.EXPECT_EXIST && !row) return false;
  if (existence === ROW_EXISTENCE.EXPECT_NOT_EXIST && row) return false;
  const column = compileColumnCondition(condition?.columnCondition);
  return column ? column(row) : true;
}
