// The RAM 2015-05-01 RPC actions the double serves (roles, custom policies and versions,
// attachments): request parameters in, RAM's JSON response bodies out.
import { RamError, ramErrors, type PolicyRecord, type RamState, type RoleRecord } from "./state.js";

export type Params = Record<string, string>;

function required(p: Params, name: string): string {
  const v = p[name];
  if (v === undefined || v === "") throw ramErrors.missingParameter(name);
  return v;
}

function bool(p: Params, name: string): boolean {
  return p[name] === "true";
}

function policyType(p: Params): void {
  const t = p.PolicyType;
  if (t !== undefined && t !== "Custom" && t !== "System") throw ramErrors.invalidParameter("PolicyType", "must be Custom or System");
  if (t === "System") throw ramErrors.policyNotFound(p.PolicyName ?? "");
}

function roleView(r: RoleRecord) {
  return { ...r };
}

function policyView(p: PolicyRecord) {
  return {
    PolicyName: p.PolicyName,
    PolicyType: p.PolicyType,
    Description: p.Description,
    DefaultVersion: p.DefaultVersion,
    CreateDate: p.CreateDate,
    UpdateDate: p.UpdateDate,
  };
}

function versionView(p: PolicyRecord, id: string) {
  const v = p.versions.get(id)!;
  return { ...v, IsDefaultVersion: p.DefaultVersion === id };
}

type Action = (s: RamState, p: Params) => Record<string, unknown>;

export const ACTIONS: Record<string, Action> = {
  GetRole: (s, p) => ({ Role: roleView(s.getRole(required(p, "RoleName"))) }),
  CreateRole: (s, p) => {
    const max = p.MaxSessionDuration ? Number(p.MaxSessionDuration) : undefined;
    if (max !== undefined && !(Number.isInteger(max) && max >= 3600 && max <= 43200))
      throw ramErrors.invalidParameter("MaxSessionDuration", "must be 3600-43200");
    return {
      Role: roleView(s.createRole(required(p, "RoleName"), required(p, "AssumeRolePolicyDocument"), p.Description ?? "", max)),
    };
  },
  UpdateRole: (s, p) => ({
    Role: roleView(s.updateRole(required(p, "RoleName"), p.NewAssumeRolePolicyDocument, p.NewDescription)),
  }),
  DeleteRole: (s, p) => {
    s.deleteRole(required(p, "RoleName"));
    return {};
  },
  ListRoles: (s) => ({ Roles: { Role: [...s.roles.values()].map(roleView) }, IsTruncated: false }),
  CreatePolicy: (s, p) => ({
    Policy: policyView(s.createPolicy(required(p, "PolicyName"), required(p, "PolicyDocument"), p.Description ?? "")),
  }),
  GetPolicy: (s, p) => {
    policyType(p);
    const policy = s.getPolicy(required(p, "PolicyName"));
    const attachments = [...s.attachments].filter((a) => a.endsWith(`\n${policy.PolicyName}`)).length;
    return {
      Policy: {
        ...policyView(policy),
        AttachmentCount: attachments,
        PolicyDocument: policy.versions.get(policy.DefaultVersion)?.PolicyDocument,
      },
      DefaultPolicyVersion: versionView(policy, policy.DefaultVersion),
    };
  },
  CreatePolicyVersion: (s, p) => {
    const name = required(p, "PolicyName");
    const v = s.createPolicyVersion(
      name,
      required(p, "PolicyDocument"),
      bool(p, "SetAsDefault"),
      p.RotateStrategy === "DeleteOldestNonDefaultVersionWhenLimitExceeded",
    );
    return { PolicyVersion: versionView(s.getPolicy(name), v.VersionId) };
  },
  ListPolicyVersions: (s, p) => {
    policyType(p);
    const policy = s.getPolicy(required(p, "PolicyName"));
    return { PolicyVersions: { PolicyVersion: [...policy.versions.keys()].map((id) => versionView(policy, id)) } };
  },
  DeletePolicyVersion: (s, p) => {
    s.deletePolicyVersion(required(p, "PolicyName"), required(p, "VersionId"));
    return {};
  },
  DeletePolicy: (s, p) => {
    s.deletePolicy(required(p, "PolicyName"), bool(p, "CascadingDelete"));
    return {};
  },
  AttachPolicyToRole: (s, p) => {
    policyType(p);
    s.attach(required(p, "RoleName"), required(p, "PolicyName"));
    return {};
  },
  DetachPolicyFromRole: (s, p) => {
    policyType(p);
    s.detach(required(p, "RoleName"), required(p, "PolicyName"));
    return {};
  },
  ListPoliciesForRole: (s, p) => ({
    Policies: {
      Policy: s.policiesOf(required(p, "RoleName")).map((x) => ({
        PolicyName: x.PolicyName,
        PolicyType: x.PolicyType,
        Description: x.Description,
        DefaultVersion: x.DefaultVersion,
        AttachDate: x.UpdateDate,
      })),
    },
  }),
};

export function runAction(state: RamState, action: string, params: Params): Record<string, unknown> {
  const fn = ACTIONS[action];
  if (!fn) throw new RamError(404, "InvalidAction.NotFound", `Specified api is not found, please check your url and method.`);
  return fn(state, params);
}
