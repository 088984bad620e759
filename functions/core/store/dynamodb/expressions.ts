// Turns the item layer's conditions, updates and sort-key ranges into DynamoDB expressions with
// generated `#n`/`:v` placeholders, so only the names and values an expression uses are sent.
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { TTL_ATTRIBUTE, type Condition, type SortKeyRange, type Update, type Value } from "../items.js";
import { toAttr } from "./attributes.js";

export class Expressions {
  private readonly names = new Map<string, string>();
  private readonly values: Record<string, AttributeValue> = {};
  private nextValue = 0;

  constructor(private readonly nowS: number) {}

  name(attr: string): string {
    let alias = this.names.get(attr);
    if (!alias) this.names.set(attr, (alias = `#n${this.names.size}`));
    return alias;
  }

  value(v: Value): string {
    const alias = `:v${this.nextValue++}`;
    this.values[alias] = toAttr(v);
    return alias;
  }

  /** `row` conditions look at `expiresAt`: an item without a live one counts as absent. */
  condition(c: Condition): string {
    if ("row" in c) {
      const e = this.name(TTL_ATTRIBUTE);
      const now = this.value(this.nowS);
      return c.row === "exists" ? `${e} > ${now}` : `(attribute_not_exists(${e}) OR ${e} <= ${now})`;
    }
    if ("attr" in c) return `${this.name(c.attr)} ${c.cmp} ${this.value(c.value)}`;
    if ("missing" in c) return `attribute_not_exists(${this.name(c.missing)})`;
    const [op, parts] = "and" in c ? (["AND", c.and] as const) : (["OR", c.or] as const);
    return parts.length === 1 ? this.condition(parts[0]!) : `(${parts.map((p) => this.condition(p)).join(` ${op} `)})`;
  }

  update(u: Update): string {
    const clauses: string[] = [];
    const set = Object.entries(u.set ?? {}).flatMap(([k, v]) => (v === undefined ? [] : [`${this.name(k)} = ${this.value(v)}`]));
    if (set.length) clauses.push(`SET ${set.join(", ")}`);
    const add = Object.entries(u.add ?? {}).map(([k, n]) => `${this.name(k)} ${this.value(n)}`);
    if (add.length) clauses.push(`ADD ${add.join(", ")}`);
    if (u.remove?.length) clauses.push(`REMOVE ${u.remove.map((k) => this.name(k)).join(", ")}`);
    return clauses.join(" ");
  }

  /** The key condition of a query on partition `pk`. */
  keyCondition(pk: string, range: SortKeyRange | undefined): string {
    const head = `${this.name("pk")} = ${this.value(pk)}`;
    if (!range) return head;
    const sk = this.name("sk");
    if ("prefix" in range) return `${head} AND begins_with(${sk}, ${this.value(range.prefix)})`;
    if (range.from !== undefined && range.to !== undefined) return `${head} AND ${sk} BETWEEN ${this.value(range.from)} AND ${this.value(range.to)}`;
    if (range.from !== undefined) return `${head} AND ${sk} >= ${this.value(range.from)}`;
    if (range.to !== undefined) return `${head} AND ${sk} <= ${this.value(range.to)}`;
    return head;
  }

  /** ExpressionAttributeNames/Values for the request (absent when unused: DynamoDB refuses empty maps). */
  parts(): { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, AttributeValue> } {
    return {
      ...(this.names.size ? { ExpressionAttributeNames: Object.fromEntries([...this.names].map(([attr, alias]) => [alias, attr])) } : {}),
      ...(this.nextValue ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}
