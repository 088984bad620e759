// The item layer's conditions as Tablestore conditions: a row existence expectation plus a column
// condition (https://www.alibabacloud.com/help/doc-detail/35194.html). Every item carries `expiresAt`,
// so "no live item" is `expiresAt <= now` passing when the column is missing (as it is on a missing
// row), and a condition that fails on a missing item also expects the row to exist, which keeps it
// right whichever way the service evaluates column conditions on a missing row. Missing attributes
// follow the item contract through passIfMissing: every comparison fails except `<>`.
import TableStore from "tablestore";
import { holdsOnMissingItem, TTL_ATTRIBUTE, type Comparator, type Condition, type Scalar } from "../items.js";
import { columnName, toScalarColumn } from "./codec.js";

/** Column conditions per update (Tablestore allows at most 10). */
const MAX_COLUMN_CONDITIONS = 10;

const COMPARATORS: Record<Comparator, number> = {
  "=": TableStore.ComparatorType.EQUAL,
  "<>": TableStore.ComparatorType.NOT_EQUAL,
  "<": TableStore.ComparatorType.LESS_THAN,
  "<=": TableStore.ComparatorType.LESS_EQUAL,
  ">": TableStore.ComparatorType.GREATER_THAN,
  ">=": TableStore.ComparatorType.GREATER_EQUAL,
};

function single(attr: string, cmp: Comparator, value: string | number | boolean, passIfMissing: boolean): TableStore.ColumnCondition {
  return new TableStore.SingleColumnCondition(columnName(attr), toScalarColumn(value), COMPARATORS[cmp], passIfMissing, true);
}

function composite(op: number, parts: TableStore.ColumnCondition[]): TableStore.ColumnCondition {
  if (parts.length === 1) return parts[0]!;
  const c = new TableStore.CompositeCondition(op);
  for (const p of parts) c.addSubCondition(p);
  return c;
}

/** The first value each attribute is compared with in a condition. */
function comparedValues(c: Condition, out = new Map<string, Scalar>()): Map<string, Scalar> {
  if ("attr" in c && !out.has(c.attr)) out.set(c.attr, c.value);
  if ("and" in c || "or" in c) for (const p of "and" in c ? c.and : c.or) comparedValues(p, out);
  return out;
}

function column(c: Condition, nowS: number, count: { n: number }, typed: Map<string, Scalar>): TableStore.ColumnCondition {
  if ("and" in c || "or" in c) {
    const op = "and" in c ? TableStore.LogicalOperator.AND : TableStore.LogicalOperator.OR;
    return composite(op, ("and" in c ? c.and : c.or).map((p) => column(p, nowS, count, typed)));
  }
  if ("missing" in c) {
    // No column-absent test exists: a present value cannot both equal and differ from a value. The
    // value has the type the condition compares the attribute with elsewhere (as in "missing or < n"),
    // so the service compares like with like; alone, a string.
    const v = typed.get(c.missing) ?? "";
    count.n += 2;
    return composite(TableStore.LogicalOperator.AND, [single(c.missing, "=", v, true), single(c.missing, "<>", v, true)]);
  }
  count.n++;
  if ("row" in c) return c.row === "exists" ? single(TTL_ATTRIBUTE, ">", nowS, false) : single(TTL_ATTRIBUTE, "<=", nowS, true);
  return single(c.attr, c.cmp, c.value, c.cmp === "<>");
}

/** The Tablestore condition for a write; IGNORE without one. */
export function toTablestoreCondition(c: Condition | undefined, nowS: number): TableStore.Condition {
  if (!c) return new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null);
  const count = { n: 0 };
  const columns = column(c, nowS, count, comparedValues(c));
  if (count.n > MAX_COLUMN_CONDITIONS) throw new TypeError(`condition: Tablestore allows ${MAX_COLUMN_CONDITIONS} column comparisons, this one needs ${count.n}`);
  const existence = holdsOnMissingItem(c) ? TableStore.RowExistenceExpectation.IGNORE : TableStore.RowExistenceExpectation.EXPECT_EXIST;
  return new TableStore.Condition(existence, columns);
}

/** The filter that keeps live rows in a range read. */
export function liveFilter(nowS: number): TableStore.ColumnCondition {
  return single(TTL_ATTRIBUTE, ">", nowS, false);
}
