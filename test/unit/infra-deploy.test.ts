// deploy and remove in-process against the FC API double: a role from serverless.yml (no RAM calls),
// log config switched on and off again, the table left alone when not managed, the 4 KB limit
// checked before anything is touched, and the retry while a fresh RAM role propagates.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deploy } from "../../infra/deploy.js";
import { DeployError } from "../../infra/errors.js";
import { upsertService, type FcTarget } from "../../infra/fc.js";
import { memoryReporter } from "../../infra/output.js";
import { info } from "../../infra/info.js";
import { remove } from "../../infra/remove.js";
import { parseSettings } from "../../infra/settings.js";
import { startFcDouble, zipBase64, type FcDouble } from "../doubles/fc/index.js";

const ACCOUNT = "1234567890123456";
const ROLE = `acs:ram::${ACCOUNT}:role/existing-role`;
let fcd: FcDouble;
let dir: string;
let env: Record<string, string>;
const zip = Buffer.from(zipBase64({ "index.js": "exports.handler = async () => 'ok';" }), "base64");
const zips = { callback: zip, worker: zip };

const settings = (provider: Record<string, unknown> = {}, functions: Record<string, unknown> = {}) =>
  parseSettings(
    {
      service: "dingclaw",
      provider: {
        name: "aliyun",
        role: ROLE,
        config: "config.json",
        table: { endpoint: "http://10.0.0.9:5432", accessKeyId: "ddb", secretAccessKey: "ddb-secret-001", manage: "false" },
        ...provider,
      },
      functions: { callback: { events: [{ http: { authType: "anonymous", methods: ["POST"] } }] }, worker: {}, ...functions },
    },
    { stage: "unit" },
  );

beforeAll(async () => {
  fcd = await startFcDouble({ accountId: ACCOUNT, region: "cn-hangzhou", accessKeys: { LTAIdeploy: "deploy-secret-001" } });
  env = {
    ALIBABA_CLOUD_ACCOUNT_ID: ACCOUNT,
    ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAIdeploy",
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: "deploy-secret-001",
    ALIBABA_CLOUD_FC_ENDPOINT: fcd.url,
    ALIBABA_CLOUD_RAM_ENDPOINT: "http://127.0.0.1:9",
  };
  dir = await mkdtemp(path.join(tmpdir(), "infra-deploy-"));
  await writeFile(path.join(dir, "config.json"), JSON.stringify({ channels: { dingtalk: { client_id: "dingunit", client_secret: "unit-secret-001" } } }));
});
afterAll(async () => {
  await fcd?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("deploy and remove", () => {
  it("uses the role from serverless.yml, skips an unmanaged table and turns logging on", async () => {
    const out = memoryReporter();
    const r = await deploy({ settings: settings({ logConfig: { project: "logs", logstore: "fc" } }), root: dir, env, out }, zips);
    expect(r).toEqual({ url: `${fcd.url}/2016-08-15/proxy/dingclaw-unit/callback/`, roleArn: ROLE });
    expect(fcd.state.services.get("dingclaw-unit")?.fields).toMatchObject({ role: ROLE, logConfig: { project: "logs", logstore: "fc" } });
    expect(out.lines).toContain(`✔ role ${ROLE} (from serverless.yml)`);
    expect(out.lines).toContain("table dingclaw-unit not checked (DINGCLAW_TABLE_MANAGE=false): it must already exist");
    expect(out.lines.at(-1)).toBe(r.url);
  });

  it("a redeploy without log config switches logging off again", async () => {
    await deploy({ settings: settings(), root: dir, env, out: memoryReporter() }, zips);
    expect(fcd.state.services.get("dingclaw-unit")?.fields.logConfig).toEqual({ project: "", logstore: "" });
  });

  it("checks every function's environment before touching the cloud", async () => {
    const before = fcd.requests.length;
    const big = settings({ environment: { BIG: "x".repeat(5000) } });
    await expect(deploy({ settings: big, root: dir, env, out: memoryReporter() }, zips)).rejects.toThrow(DeployError);
    expect(fcd.requests.length).toBe(before);
  });

  it("remove deletes the service and leaves an unmanaged table and a given role alone", async () => {
    const out = memoryReporter();
    await remove({ settings: settings(), env, out });
    expect(fcd.state.services.has("dingclaw-unit")).toBe(false);
    expect(out.lines).toEqual(
      expect.arrayContaining([
        "✔ trigger http deleted",
        "✔ function worker deleted",
        "✔ service dingclaw-unit deleted",
        `role ${ROLE} comes from serverless.yml: kept`,
        "table dingclaw-unit left alone (DINGCLAW_TABLE_MANAGE=false)",
      ]),
    );
    const again = memoryReporter();
    await remove({ settings: settings(), env, out: again });
    expect(again.lines).toContain("service dingclaw-unit does not exist");
  });
});

describe("the scheduler's timer trigger and the notify function", () => {
  const withScheduler = (timer: Record<string, unknown> | null = null) => settings({}, { notify: {}, scheduler: { events: [{ timer }] } });
  const all = { ...zips, notify: zip, scheduler: zip };
  const timers = () =>
    [...(fcd.state.services.get("dingclaw-unit")?.functions.get("scheduler")?.triggers.values() ?? [])].map((t) => [t.name, t.type, t.fields.triggerConfig]);

  it("deploy creates the FC 2.0 timer trigger (every minute by default) and notify without a trigger", async () => {
    const out = memoryReporter();
    await deploy({ settings: withScheduler(), root: dir, env, out }, all);
    expect(timers()).toEqual([["timer", "timer", { cronExpression: "@every 1m", enable: true, payload: "" }]]);
    expect(fcd.state.services.get("dingclaw-unit")?.functions.get("notify")?.triggers.size).toBe(0);
    expect(out.lines).toEqual(expect.arrayContaining(["✔ function scheduler created (0 KB zip, 256 MB, 60 s, 1 concurrent requests per instance)", "✔ timer trigger timer created (@every 1m, UTC)"]));
    const order = out.lines.filter((l) => /^✔ function/.test(l)).map((l) => l.split(" ")[2]);
    expect(order).toEqual(["worker", "notify", "scheduler", "callback"]);
    const shown = memoryReporter();
    await info({ settings: withScheduler(), env, out: shown });
    expect(shown.lines.join("\n")).toMatch(/ {2}scheduler .*\n {12}timer trigger timer: @every 1m \(UTC, enabled\)\n {2}worker/);
  });

  it("a redeploy updates it in place; a renamed trigger replaces the old one", async () => {
    const out = memoryReporter();
    await deploy({ settings: withScheduler({ cronExpression: "0 0/5 * * * *", enable: false }), root: dir, env, out }, all);
    expect(timers()).toEqual([["timer", "timer", { cronExpression: "0 0/5 * * * *", enable: false, payload: "" }]]);
    expect(out.lines).toContain("✔ timer trigger timer updated (0 0/5 * * * *, UTC, disabled)");
    await deploy({ settings: withScheduler({ name: "every-minute" }), root: dir, env, out: memoryReporter() }, all);
    expect(timers()).toEqual([["every-minute", "timer", { cronExpression: "@every 1m", enable: true, payload: "" }]]);
  });

  it("a function taken out of serverless.yml is deleted with its trigger; remove deletes the rest", async () => {
    const out = memoryReporter();
    await deploy({ settings: settings({}, { notify: {} }), root: dir, env, out }, { ...zips, notify: zip });
    const fns = fcd.state.services.get("dingclaw-unit")!.functions;
    expect([...fns.keys()].sort()).toEqual(["callback", "notify", "worker"]);
    expect(out.lines).toEqual(expect.arrayContaining(["✔ trigger every-minute deleted (no longer in serverless.yml)", "✔ function scheduler deleted (no longer in serverless.yml)"]));
    await deploy({ settings: withScheduler(), root: dir, env, out: memoryReporter() }, all);
    const removed = memoryReporter();
    await remove({ settings: withScheduler(), env, out: removed });
    expect(removed.lines).toEqual(expect.arrayContaining(["✔ trigger timer deleted", "✔ function scheduler deleted", "✔ function notify deleted"]));
    expect(fcd.state.services.has("dingclaw-unit")).toBe(false);
  });
});

describe("upsertService", () => {
  it("retries while a just-created role is not yet assumable, then gives up with the reason", async () => {
    const calls: string[] = [];
    const sleeps: number[] = [];
    let failures = 2;
    const notFound = Object.assign(new Error("GET /services/x failed with 404"), { name: "FCServiceNotFoundError", code: "ServiceNotFound" });
    const client = {
      getService: () => Promise.reject(notFound),
      createService: () => {
        calls.push("create");
        return failures-- > 0
          ? Promise.reject(Object.assign(new Error("POST /services failed with 400. message: FC service is not authorized to assume role."), { code: "InvalidArgument" }))
          : Promise.resolve({ headers: {}, data: {} });
      },
    };
    const target = { client, accountId: ACCOUNT, region: "cn-hangzhou", endpoint: "https://fc.example" } as unknown as FcTarget;
    const spec = { description: "d", role: ROLE, logConfig: undefined, vpcConfig: undefined, internetAccess: true };
    const sleep = (ms: number) => (sleeps.push(ms), Promise.resolve());
    expect(await upsertService(target, "x", spec, { retryRole: true, sleep })).toBe("created");
    expect([calls.length, sleeps]).toEqual([3, [1000, 2000]]);

    failures = 100;
    await expect(upsertService(target, "x", spec, { retryRole: false, sleep })).rejects.toThrow(
      /^Function Compute failed to create service x: .*not authorized to assume role/,
    );
  });
});
