// The RAM double's account: roles, custom policies with versions (at most 5, one default) and
// role-policy attachments, with RAM's conflict rules. Response shapes follow the RAM 2015-05-01 API.
import { randomUUID } from "node:crypto";

export class RamError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Codes as documented for RAM where we found them; "unverified" ones are plausible. */
export const ramErrors = {
  invalidParameter: (name: string, why: string) => new RamError(400, `InvalidParameter.${name}`, `The parameter "${name}" ${why}.`),
  missingParameter: (name: string) => new RamError(400, `MissingParameter`, `The input parameter "${name}" that is mandatory for processing this request is not supplied.`),
  roleNotFound: (name: string) => new RamError(404, "EntityNotExist.Role", `The role not exists: ${name}.`),
  roleExists: (name: string) => new RamError(409, "EntityAlreadyExists.Role", `The role already exists: ${name}.`),
  policyNotFound: (name: string) => new RamError(404, "EntityNotExist.Policy", `The policy not exists: ${name}.`),
  policyExists: (name: string) => new RamError(409, "EntityAlreadyExists.Policy", `The policy already exists: ${name}.`),
  versionNotFound: (v: string) => new RamError(404, "EntityNotExist.Policy.Version", `The policy version not exists: ${v}.`),
  versionLimit: () => new RamError(409, "LimitExceeded.Policy.Version", "Exceeded the maximum number of policy versions: 5."),
  /** unverified code */
  deleteDefaultVersion: () => new RamError(409, "DeleteConflict.PolicyVersion.Default", "The default policy version cannot be deleted."),
  /** unverified code */
  policyHasVersions: (name: string) => new RamError(409, "DeleteConflict.Policy.Version", `The policy has non-default versions: ${name}.`),
  /** unverified code */
  policyAttached: (name: string) => new RamError(409, "DeleteConflict.Policy.Role", `The policy is attached to roles: ${name}.`),
  roleHasPolicies: (name: string) => new RamError(409, "DeleteConflict.Role.Policy", `The role has attached policies: ${name}.`),
  attachmentExists: () => new RamError(409, "EntityAlreadyExists.Role.Policy", "The policy is already attached to the role."),
  attachmentNotFound: () => new RamError(404, "EntityNotExist.Role.Policy", "The policy is not attached to the role."),
};

export interface RoleRecord {
  RoleId: string;
  RoleName: string;
  Arn: string;
  Description: string;
  AssumeRolePolicyDocument: string;
  MaxSessionDuration: number;
  CreateDate: string;
  UpdateDate: string;
}

export interface PolicyVersionRecord {
  VersionId: string;
  PolicyDocument: string;
  CreateDate: string;
}

export interface PolicyRecord {
  PolicyName: string;
  PolicyType: "Custom";
  Description: string;
  DefaultVersion: string;
  CreateDate: string;
  UpdateDate: string;
  versions: Map<string, PolicyVersionRecord>;
  nextVersion: number;
}

const ROLE_NAME = /^[A-Za-z0-9.-]{1,64}$/;
const POLICY_NAME = /^[A-Za-z0-9-]{1,128}$/;
const MAX_VERSIONS = 5;

function checkJson(name: string, value: string): void {
  try {
    const v: unknown = JSON.parse(value);
    if (typeof v !== "object" || v === null || !("Statement" in v)) throw new Error("no Statement");
  } catch {
    throw ramErrors.invalidParameter(name, "is not a valid policy document");
  }
}

export class RamState {
  readonly roles = new Map<string, RoleRecord>();
  readonly policies = new Map<string, PolicyRecord>();
  /** "role\npolicy" */
  readonly attachments = new Set<string>();

  constructor(
    private readonly accountId: string,
    private readonly now: () => number,
  ) {}

  private time(): string {
    return new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  getRole(name: string): RoleRecord {
    const r = this.roles.get(name);
    if (!r) throw ramErrors.roleNotFound(name);
    return r;
  }

  createRole(name: string, trust: string, description: string, maxSessionDuration: number | undefined): RoleRecord {
    if (!ROLE_NAME.test(name)) throw ramErrors.invalidParameter("RoleName", "is invalid");
    if (this.roles.has(name)) throw ramErrors.roleExists(name);
    checkJson("AssumeRolePolicyDocument", trust);
    const t = this.time();
    const role: RoleRecord = {
      RoleId: String(Math.floor(this.now() * 1000 + Math.random() * 1000)),
      RoleName: name,
      Arn: `acs:ram::${this.accountId}:role/${name.toLowerCase()}`,
      Description: description,
      AssumeRolePolicyDocument: trust,
      MaxSessionDuration: maxSessionDuration ?? 3600,
      CreateDate: t,
      UpdateDate: t,
    };
    this.roles.set(name, role);
    return role;
  }

  updateRole(name: string, trust: string | undefined, description: string | undefined): RoleRecord {
    const r = this.getRole(name);
    if (trust !== undefined) {
      checkJson("NewAssumeRolePolicyDocument", trust);
      r.AssumeRolePolicyDocument = trust;
    }
    if (description !== undefined) r.Description = description;
    r.UpdateDate = this.time();
    return r;
  }

  deleteRole(name: string): void {
    this.getRole(name);
    if ([...this.attachments].some((a) => a.startsWith(`${name}\n`))) throw ramErrors.roleHasPolicies(name);
    this.roles.delete(name);
  }

  getPolicy(name: string): PolicyRecord {
    const p = this.policies.get(name);
    if (!p) throw ramErrors.policyNotFound(name);
    return p;
  }

  createPolicy(name: string, document: string, description: string): PolicyRecord {
    if (!POLICY_NAME.test(name)) throw ramErrors.invalidParameter("PolicyName", "is invalid");
    if (this.policies.has(name)) throw ramErrors.policyExists(name);
    checkJson("PolicyDocument", document);
    const t = this.time();
    const p: PolicyRecord = {
      PolicyName: name,
      PolicyType: "Custom",
      Description: description,
      DefaultVersion: "v1",
      CreateDate: t,
      UpdateDate: t,
      versions: new Map([["v1", { VersionId: "v1", PolicyDocument: document, CreateDate: t }]]),
      nextVersion: 2,
    };
    this.policies.set(name, p);
    return p;
  }

  createPolicyVersion(name: string, document: string, setAsDefault: boolean, rotate: boolean): PolicyVersionRecord {
    const p = this.getPolicy(name);
    checkJson("PolicyDocument", document);
    if (p.versions.size >= MAX_VERSIONS) {
      const oldest = [...p.versions.values()].find((v) => v.VersionId !== p.DefaultVersion);
      if (!rotate || !oldest) throw ramErrors.versionLimit();
      p.versions.delete(oldest.VersionId);
    }
    const t = this.time();
    const v: PolicyVersionRecord = { VersionId: `v${p.nextVersion++}`, PolicyDocument: document, CreateDate: t };
    p.versions.set(v.VersionId, v);
    if (setAsDefault) p.DefaultVersion = v.VersionId;
    p.UpdateDate = t;
    return v;
  }

  deletePolicyVersion(name: string, versionId: string): void {
    const p = this.getPolicy(name);
    if (!p.versions.has(versionId)) throw ramErrors.versionNotFound(versionId);
    if (p.DefaultVersion === versionId) throw ramErrors.deleteDefaultVersion();
    p.versions.delete(versionId);
  }

  deletePolicy(name: string, cascading: boolean): void {
    const p = this.getPolicy(name);
    const attachedTo = [...this.attachments].filter((a) => a.endsWith(`\n${name}`));
    if (!cascading) {
      if (attachedTo.length > 0) throw ramErrors.policyAttached(name);
      if (p.versions.size > 1) throw ramErrors.policyHasVersions(name);
    }
    for (const a of attachedTo) this.attachments.delete(a);
    this.policies.delete(name);
  }

  attach(role: string, policy: string): void {
    this.getRole(role);
    this.getPolicy(policy);
    const key = `${role}\n${policy}`;
    if (this.attachments.has(key)) throw ramErrors.attachmentExists();
    this.attachments.add(key);
  }

  detach(role: string, policy: string): void {
    this.getRole(role);
    this.getPolicy(policy);
    const key = `${role}\n${policy}`;
    if (!this.attachments.has(key)) throw ramErrors.attachmentNotFound();
    this.attachments.delete(key);
  }

  policiesOf(role: string): PolicyRecord[] {
    this.getRole(role);
    return [...this.attachments]
      .filter((a) => a.startsWith(`${role}\n`))
      .map((a) => this.getPolicy(a.slice(role.length + 1)));
  }

  newRequestId(): string {
    return randomUUID().toUpperCase();
  }
}
