// The FC service role through the real @alicloud/ram20150501 client against the RAM double (which
// verifies ACS3-HMAC-SHA256 signatures): created once, kept in step, least privilege, never taking
// over a role deploy did not create, removed completely; rejected keys give one clear line.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AliyunCredentials } from "../../infra/credentials.js";
import { DeployError } from "../../infra/errors.js";
import { ensureRole, MANAGED_MARKER, ramClient, removeRole, rolePolicy, trustPolicy } from "../../infra/role.js";
import { parseSettings, type DeploySettings } from "../../infra/settings.js";
import { startRamDouble, type RamDouble } from "../doubles/ram/index.js";

const ACCOUNT = "1234567890123456";
const creds: AliyunCredentials = { accountId: ACCOUNT, accessKeyId: "LTAIroletest", accessKeySecret: "role-test-secret-0001", securityToken: undefined };
let ram: RamDouble;

function settings(provider: Record<string, unknown> = {}, stage = "dev"): DeploySettings {
  return parseSettings(
    {
      service: "dingclaw",
      provider: { name: "aliyun", ...provider },
      functions: { callback: { events: [{ http: null }] }, worker: {} },
    },
    { stage },
  );
}

beforeAll(async () => {
  ram = await startRamDouble({
    accountId: ACCOUNT,
    accessKeys: { LTAIroletest: "role-test-secret-0001", "STS.roletest": "sts-secret-0001" },
    securityTokens: { "STS.roletest": "sts-token-0001" },
  });
});
afterAll(() => ram?.close());

const client = (c: AliyunCredentials = creds) => ramClient(c, { ALIBABA_CLOUD_RAM_ENDPOINT: ram.url });

describe("the service role", () => {
  it("is created with FC as the only trusted service and a policy limited to invoking this service's worker", async () => {
    const s = settings();
    const r = await ensureRole(s, creds, client());
    expect(r).toEqual({ arn: `acs:ram::${ACCOUNT}:role/dingclaw-dev-fc`, role: "created", policy: "created" });
    const role = ram.state.roles.get("dingclaw-dev-fc")!;
    expect(JSON.parse(role.AssumeRolePolicyDocument)).toEqual(JSON.parse(trustPolicy()));
    expect(role.Description).toContain(MANAGED_MARKER);
    const policy = ram.state.policies.get("dingclaw-dev-fc-policy")!;
    expect(JSON.parse(policy.versions.get(policy.DefaultVersion)!.PolicyDocument)).toEqual({
      Version: "1",
      Statement: [
        {
          Effect: "Allow",
          Action: ["fc:InvokeFunction"],
          Resource: [
            `acs:fc:cn-hangzhou:${ACCOUNT}:services/dingclaw-dev/functions/worker`,
            `acs:fc:cn-hangzhou:${ACCOUNT}:services/dingclaw-dev.*/functions/worker`,
          ],
        },
      ],
    });
    expect([...ram.state.attachments]).toEqual(["dingclaw-dev-fc\ndingclaw-dev-fc-policy"]);
  });

  it("is left alone when nothing changed, and its policy gains a version when logs or a VPC are configured", async () => {
    const before = ram.requests.length;
    expect(await ensureRole(settings(), creds, client())).toMatchObject({ role: "unchanged", policy: "unchanged" });
    expect(ram.requests.slice(before).map((r) => r.action)).toEqual(["GetRole", "GetPolicy", "ListPoliciesForRole"]);

    const withLogs = settings({
      logConfig: { project: "dingclaw-logs", logstore: "fc" },
      vpcConfig: { vpcId: "vpc-1", vSwitchIds: ["vsw-1"], securityGroupId: "sg-1" },
    });
    expect(await ensureRole(withLogs, creds, client())).toMatchObject({ role: "unchanged", policy: "updated" });
    const policy = ram.state.policies.get("dingclaw-dev-fc-policy")!;
    expect(policy.DefaultVersion).toBe("v2");
    const doc = JSON.parse(policy.versions.get("v2")!.PolicyDocument) as { Statement: { Action: string[]; Resource: string[] }[] };
    expect(doc.Statement[1]).toEqual({
      Effect: "Allow",
      Action: ["log:PostLogStoreLogs"],
      Resource: [`acs:log:cn-hangzhou:${ACCOUNT}:project/dingclaw-logs/logstore/fc`],
    });
    expect(doc.Statement[2]?.Action).toContain("ecs:CreateNetworkInterface");
    expect(JSON.parse(rolePolicy(withLogs, ACCOUNT))).toEqual(doc);
  });

  it("keeps at most five policy versions however often the policy changes", async () => {
    for (let i = 0; i < 6; i++) await ensureRole(settings({ logConfig: { project: `p${i}`, logstore: "fc" } }), creds, client());
    expect(ram.state.policies.get("dingclaw-dev-fc-policy")!.versions.size).toBe(5);
  });

  it("grants the Tablestore row operations on exactly this deployment's table, nothing for a DynamoDB endpoint", () => {
    const doc = (p: Record<string, unknown>) => JSON.parse(rolePolicy(settings(p, "prod"), ACCOUNT)) as { Statement: { Action: string[]; Resource: string[] }[] };
    const ots = doc({ table: { endpoint: "https://DingClaw.cn-shanghai.ots.aliyuncs.com" } }).Statement.filter((st) => st.Action.some((a) => a.startsWith("ots:")));
    expect(ots).toEqual([
      {
        Effect: "Allow",
        Action: ["ots:GetRow", "ots:PutRow", "ots:UpdateRow", "ots:DeleteRow", "ots:GetRange"],
        Resource: [`acs:ots:cn-shanghai:${ACCOUNT}:instance/dingclaw/table/dingclaw_prod`],
      },
    ]);
    const polar = doc({ table: { endpoint: "http://pc-1.polardb.aliyuncs.com:5432" } });
    expect(polar.Statement.flatMap((st) => st.Action).filter((a) => a.startsWith("ots:"))).toEqual([]);
  });

  it("uses an ARN from serverless.yml without calling RAM", async () => {
    const before = ram.requests.length;
    const arn = `acs:ram::${ACCOUNT}:role/my-own-role`;
    expect(await ensureRole(settings({ role: arn }), creds, client())).toEqual({ arn, role: "existing", policy: "none" });
    expect(await removeRole(settings({ role: arn }), client())).toBe("existing");
    expect(ram.requests.length).toBe(before);
  });

  it("never takes over or deletes a role that deploy did not create", async () => {
    ram.state.createRole("dingclaw-other-fc", trustPolicy(), "made by hand", undefined);
    await expect(ensureRole(settings({}, "other"), creds, client())).rejects.toThrow(/exists but was not created by dingclaw deploy/);
    expect(await removeRole(settings({}, "other"), client())).toBe("not-managed");
    expect(ram.state.roles.has("dingclaw-other-fc")).toBe(true);
  });

  it("works with STS credentials", async () => {
    const sts = { accountId: ACCOUNT, accessKeyId: "STS.roletest", accessKeySecret: "sts-secret-0001", securityToken: "sts-token-0001" };
    expect((await ensureRole(settings({}, "sts"), sts, client(sts))).role).toBe("created");
    expect(await removeRole(settings({}, "sts"), client(sts))).toBe("deleted");
  });

  it("is removed with its policy; removing again finds nothing", async () => {
    expect(await removeRole(settings(), client())).toBe("deleted");
    expect(ram.state.roles.has("dingclaw-dev-fc")).toBe(false);
    expect(ram.state.policies.has("dingclaw-dev-fc-policy")).toBe(false);
    expect(await removeRole(settings(), client())).toBe("absent");
  });

  it("rejected keys and an unreachable endpoint give one clear line without the secret", async () => {
    const wrong = { ...creds, accessKeySecret: "not-the-right-secret-9" };
    const err = await ensureRole(settings(), wrong, client(wrong)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeployError);
    expect((err as Error).message).toMatch(/^RAM rejected the credentials \(SignatureDoesNotMatch\) while trying to read role dingclaw-dev-fc/);
    expect((err as Error).message).not.toContain("not-the-right-secret-9");
    const unknownKey = { ...creds, accessKeyId: "LTAIunknown" };
    await expect(ensureRole(settings(), unknownKey, client(unknownKey))).rejects.toThrow(/InvalidAccessKeyId\.NotFound/);
    const down = ramClient(creds, { ALIBABA_CLOUD_RAM_ENDPOINT: "http://127.0.0.1:9" });
    await expect(ensureRole(settings(), creds, down)).rejects.toThrow(/cannot reach RAM at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/);
  });
});
