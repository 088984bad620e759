// The callback's FC async invoke (functions/fc/invoke-worker.ts) against the FC double, which checks
// the signature, date, account and STS token as FC does: the job delivered as the event through
// @alicloud/fc2, and FC's refusals reported with their code and no secret.
import FC from "@alicloud/fc2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Job } from "../../functions/core/job.js";
import { fcDispatch } from "../../functions/fc/invoke-worker.js";
import { startFcDouble, zipBase64, type FcDouble } from "../doubles/fc/index.js";

const ACCOUNT = "1234567890";
const ROLE = { accessKeyId: "STS.invoke-role", accessKeySecret: "invoke-role-secret", securityToken: "invoke-role-token" };
const JOB: Job = { v: 1, body: { msgId: "msg-invoke-1", text: { content: "你好" } }, claim: { key: "bot:msg-invoke-1", token: "tok-1" }, requestId: "req-1", receivedAt: 1 };
let fc: FcDouble;

beforeAll(async () => {
  fc = await startFcDouble({ accountId: ACCOUNT, region: "cn-hangzhou", accessKeys: { DEPLOYKEY: "deploy-secret" }, roleCredentials: ROLE });
  const client = new FC(ACCOUNT, { accessKeyID: "DEPLOYKEY", accessKeySecret: "deploy-secret", region: "cn-hangzhou", endpoint: fc.url });
  await client.createService("dingclaw-invoke", { role: `acs:ram::${ACCOUNT}:role/dingclaw` });
  await client.createFunction("dingclaw-invoke", {
    functionName: "worker",
    runtime: "nodejs20",
    handler: "index.handler",
    code: { zipFile: zipBase64({ "index.js": "exports.handler = async () => 'queued';" }) },
  });
});

afterAll(async () => {
  await fc?.close();
});

const ctx = (credentials = ROLE) => ({ requestId: "r", accountId: ACCOUNT, region: "cn-hangzhou", serviceName: "dingclaw-invoke", credentials });

describe("FC async invoke of the worker", () => {
  it("queues the job as the worker's event, accepted by FC's checks", async () => {
    const before = fc.asyncInvocations.length;
    const dispatch = fcDispatch(ctx(), { serviceName: "dingclaw-invoke", functionName: "worker", endpoint: fc.url });
    await dispatch(JOB);
    await dispatch({ ...JOB, claim: { ...JOB.claim, token: "tok-2" } });
    const queued = fc.asyncInvocations.slice(before);
    expect(queued.map((q) => JSON.parse(q.payload.toString("utf8")) as Job)).toEqual([JOB, { ...JOB, claim: { ...JOB.claim, token: "tok-2" } }]);
  });

  it("reports FC's refusal with its status and code, without the secret", async () => {
    const missing = fcDispatch(ctx(), { serviceName: "dingclaw-invoke", functionName: "nope", endpoint: fc.url });
    await expect(missing(JOB)).rejects.toThrow(/FunctionNotFound|404/);
    const wrongSecret = fcDispatch(ctx({ ...ROLE, accessKeySecret: "not-the-role-secret", securityToken: "another-token" }), { serviceName: "dingclaw-invoke", functionName: "worker", endpoint: fc.url });
    const err: unknown = await wrongSecret(JOB).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/403|Signature|InvalidAccessKey|denied/i);
    expect((err as Error).message).not.toContain("not-the-role-secret");
  });
});
