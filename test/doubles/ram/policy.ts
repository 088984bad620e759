// Whether a role's attached custom policies allow an action on a resource, as RAM evaluates them
// (https://www.alibabacloud.com/help/en/ram/user-guide/policy-evaluation-process): an explicit Deny
// wins, else an Allow must match; `*` in Action and Resource matches any run of characters, and
// actions compare without regard to case. Used by other doubles (Tablestore) to honour what deploy granted.
import type { RamState } from "./state.js";

interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: string | string[];
}

function matches(pattern: string, value: string, ignoreCase: boolean): boolean {
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, ignoreCase ? "i" : "");
  return re.test(value);
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export function roleAllows(state: RamState, roleName: string, action: string, resource: string): boolean {
  const statements: Statement[] = [];
  for (const attachment of state.attachments) {
    const [role, policyName] = attachment.split("\n");
    if (role !== roleName) continue;
    const policy = state.policies.get(policyName!);
    const doc = policy?.versions.get(policy.DefaultVersion)?.PolicyDocument;
    if (doc) statements.push(...((JSON.parse(doc) as { Statement?: Statement[] }).Statement ?? []));
  }
  const hit = (s: Statement) => list(s.Action).some((a) => matches(a, action, true)) && list(s.Resource).some((r) => matches(r, resource, false));
  if (statements.some((s) => s.Effect === "Deny" && hit(s))) return false;
  return statements.some((s) => s.Effect === "Allow" && hit(s));
}
