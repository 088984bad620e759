// The FC service's execution role through the RAM API (@alicloud/ram20150501): a role FC may assume,
// with a least-privilege custom policy (invoke this service's worker; write its logs when a log
// store is configured; manage ENIs when a VPC is configured; read and write rows of this deployment's
// Tablestore table when it uses one). Created and kept in step by deploy,
// deleted by remove; roles not created by deploy (marked in their description) are never touched.
import RamPackage, * as $Ram from "@alicloud/ram20150501";
import { $OpenApiUtil } from "@alicloud/openapi-core";
import { DeployError, explainCloudError, isNotFound } from "./errors.js";
import { isTablestoreEndpoint } from "../functions/core/store/kind.js";
import { sdkClass } from "./interop.js";
import type { AliyunCredentials } from "./credentials.js";
import type { DeploySettings } from "./settings.js";

/** In the description of every role and policy deploy creates; remove deletes only those. */
export const MANAGED_MARKER = "managed by dingclaw serverless deploy";

const Ram = sdkClass(RamPackage);
type Ram = InstanceType<typeof Ram>;

export type PolicyStatement = { Effect: "Allow"; Action: string[]; Resource: string[] };

export function trustPolicy(): string {
  return JSON.stringify({
    Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: ["fc.aliyuncs.com"] } }],
    Version: "1",
  });
}

/** The Tablestore operations the functions' item layer calls (GetRange: queries). */
export const TABLESTORE_ROW_ACTIONS = ["ots:GetRow", "ots:PutRow", "ots:UpdateRow", "ots:DeleteRow", "ots:GetRange"] as const;

/**
 * This deployment's Tablestore table as a RAM resource, `acs:ots:<region>:<account>:instance/<instance>/table/<table>`,
 * the instance in lower case (https://help.aliyun.com/document_detail/27362.html); the region is the
 * endpoint's, else the deployment's.
 */
export function tablestoreResource(settings: DeploySettings, accountId: string): string | undefined {
  const t = settings.table;
  if (t.kind !== "tablestore" || !t.instance) return undefined;
  const region = (isTablestoreEndpoint(t.endpoint) && /^[^.]+\.([a-z0-9-]+)\./.exec(new URL(t.endpoint!).hostname)?.[1]) || settings.region;
  return `acs:ots:${region}:${accountId}:instance/${t.instance.toLowerCase()}/table/${t.name}`;
}

/** The role's permissions: nothing beyond what the functions and FC need for this service. */
export function rolePolicy(settings: DeploySettings, accountId: string): string {
  const { region, fcServiceName: svc } = settings;
  const statements: PolicyStatement[] = [
    {
      Effect: "Allow",
      Action: ["fc:InvokeFunction"],
      Resource: [
        `acs:fc:${region}:${accountId}:services/${svc}/functions/worker`,
        `acs:fc:${region}:${accountId}:services/${svc}.*/functions/worker`,
      ],
    },
  ];
  const ots = tablestoreResource(settings, accountId);
  if (ots) statements.push({ Effect: "Allow", Action: [...TABLESTORE_ROW_ACTIONS], Resource: [ots] });
  if (settings.logConfig)
    statements.push({
      Effect: "Allow",
      Action: ["log:PostLogStoreLogs"],
      Resource: [`acs:log:${region}:${accountId}:project/${settings.logConfig.project}/logstore/${settings.logConfig.logstore}`],
    });
  if (settings.vpcConfig)
    statements.push({
      Effect: "Allow",
      Action: [
        "vpc:DescribeVSwitchAttributes",
        "vpc:DescribeVpcAttribute",
        "ecs:CreateNetworkInterface",
        "ecs:DeleteNetworkInterface",
        "ecs:DescribeNetworkInterfaces",
        "ecs:CreateNetworkInterfacePermission",
        "ecs:DescribeNetworkInterfacePermissions",
        "ecs:DeleteNetworkInterfacePermission",
      ],
      Resource: ["*"],
    });
  return JSON.stringify({ Version: "1", Statement: statements });
}

export interface RamTarget {
  client: Ram;
  /** Endpoint for messages, e.g. "https://ram.aliyuncs.com". */
  where: string;
}

/** RAM client; ALIBABA_CLOUD_RAM_ENDPOINT (a URL) points it elsewhere (tests). */
export function ramClient(creds: AliyunCredentials, env: Record<string, string | undefined>): RamTarget {
  const override = env.ALIBABA_CLOUD_RAM_ENDPOINT?.trim();
  let endpoint = "ram.aliyuncs.com";
  let protocol = "https";
  if (override) {
    let url: URL;
    try {
      url = new URL(override);
    } catch {
      throw new DeployError(`ALIBABA_CLOUD_RAM_ENDPOINT "${override}" must be a URL (example: "https://ram.aliyuncs.com")`);
    }
    endpoint = url.host;
    protocol = url.protocol.replace(":", "");
  }
  const client = new Ram(
    new $OpenApiUtil.Config({
      accessKeyId: creds.accessKeyId,
      accessKeySecret: creds.accessKeySecret,
      ...(creds.securityToken ? { securityToken: creds.securityToken } : {}),
      endpoint,
      protocol,
      readTimeout: 20_000,
      connectTimeout: 5_000,
    }),
  );
  return { client, where: `${protocol}://${endpoint}` };
}

async function ram<T>(t: RamTarget, action: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw explainCloudError(err, "RAM", t.where, action);
  }
}

async function orUndefined<T>(t: RamTarget, action: string, p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw explainCloudError(err, "RAM", t.where, action);
  }
}

function sameJson(a: string | undefined, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(decodeURIComponent(a ?? ""))) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

export interface RoleResult {
  arn: string;
  /** "existing" when serverless.yml names a role (deploy does not touch it). */
  role: "created" | "updated" | "unchanged" | "existing";
  policy: "created" | "updated" | "unchanged" | "none";
}

/** Makes sure the service role exists with the current policy; returns its ARN. */
export async function ensureRole(settings: DeploySettings, creds: AliyunCredentials, t: RamTarget): Promise<RoleResult> {
  if (settings.roleArn) return { arn: settings.roleArn, role: "existing", policy: "none" };
  const roleName = settings.managedRoleName;
  const policyName = settings.managedPolicyName;
  const description = `dingclaw ${settings.fcServiceName}: FC service role, ${MANAGED_MARKER}`;

  const found = await orUndefined(t, `read role ${roleName}`, t.client.getRole(new $Ram.GetRoleRequest({ roleName })));
  let arn = found?.body?.role?.arn;
  let role: RoleResult["role"];
  if (!found) {
    const created = await ram(
      t,
      `create role ${roleName}`,
      t.client.createRole(new $Ram.CreateRoleRequest({ roleName, assumeRolePolicyDocument: trustPolicy(), description })),
    );
    arn = created.body?.role?.arn;
    role = "created";
  } else {
    if (!found.body?.role?.description?.includes(MANAGED_MARKER))
      throw new DeployError(
        `RAM role ${roleName} exists but was not created by dingclaw deploy: set provider.role to its ARN to use it, or delete it`,
      );
    role = "unchanged";
    if (!sameJson(found.body.role.assumeRolePolicyDocument, trustPolicy())) {
      await ram(
        t,
        `update role ${roleName}`,
        t.client.updateRole(new $Ram.UpdateRoleRequest({ roleName, newAssumeRolePolicyDocument: trustPolicy() })),
      );
      role = "updated";
    }
  }
  if (!arn) throw new DeployError(`RAM returned no ARN for role ${roleName}`);

  const document = rolePolicy(settings, creds.accountId);
  const existing = await orUndefined(
    t,
    `read policy ${policyName}`,
    t.client.getPolicy(new $Ram.GetPolicyRequest({ policyName, policyType: "Custom" })),
  );
  let policy: RoleResult["policy"] = "unchanged";
  if (!existing) {
    await ram(
      t,
      `create policy ${policyName}`,
      t.client.createPolicy(
        new $Ram.CreatePolicyRequest({ policyName, policyDocument: document, description: `dingclaw ${settings.fcServiceName}, ${MANAGED_MARKER}` }),
      ),
    );
    policy = "created";
  } else if (!sameJson(existing.body?.defaultPolicyVersion?.policyDocument, document)) {
    await ram(
      t,
      `update policy ${policyName}`,
      t.client.createPolicyVersion(
        new $Ram.CreatePolicyVersionRequest({
          policyName,
          policyDocument: document,
          setAsDefault: true,
          rotateStrategy: "DeleteOldestNonDefaultVersionWhenLimitExceeded",
        }),
      ),
    );
    policy = "updated";
  }

  const attached = await ram(
    t,
    `list policies of role ${roleName}`,
    t.client.listPoliciesForRole(new $Ram.ListPoliciesForRoleRequest({ roleName })),
  );
  const isAttached = (attached.body?.policies?.policy ?? []).some((p) => p.policyName === policyName && p.policyType === "Custom");
  if (!isAttached)
    await ram(
      t,
      `attach policy ${policyName} to role ${roleName}`,
      t.client.attachPolicyToRole(new $Ram.AttachPolicyToRoleRequest({ policyName, policyType: "Custom", roleName })),
    );
  return { arn, role, policy };
}

/** Deletes the managed role and its policy; a role deploy did not create is kept. */
export async function removeRole(settings: DeploySettings, t: RamTarget): Promise<"deleted" | "absent" | "not-managed" | "existing"> {
  if (settings.roleArn) return "existing";
  const roleName = settings.managedRoleName;
  const policyName = settings.managedPolicyName;
  const found = await orUndefined(t, `read role ${roleName}`, t.client.getRole(new $Ram.GetRoleRequest({ roleName })));
  const policy = await orUndefined(
    t,
    `read policy ${policyName}`,
    t.client.getPolicy(new $Ram.GetPolicyRequest({ policyName, policyType: "Custom" })),
  );
  if (!found && !policy) return "absent";
  if (found && !found.body?.role?.description?.includes(MANAGED_MARKER)) return "not-managed";
  if (found && policy)
    await orUndefined(
      t,
      `detach policy ${policyName} from role ${roleName}`,
      t.client.detachPolicyFromRole(new $Ram.DetachPolicyFromRoleRequest({ policyName, policyType: "Custom", roleName })),
    );
  if (policy?.body?.policy?.description?.includes(MANAGED_MARKER))
    await orUndefined(
      t,
      `delete policy ${policyName}`,
      t.client.deletePolicy(new $Ram.DeletePolicyRequest({ policyName, cascadingDelete: true })),
    );
  if (found) await orUndefined(t, `delete role ${roleName}`, t.client.deleteRole(new $Ram.DeleteRoleRequest({ roleName })));
  return "deleted";
}
