// info, invoke and logs against the FC API double (in-process functions): the callback is called
// through its HTTP trigger with DingTalk's signature, worker errors fail the command, logs come from
// the service's logstore (a scripted reader here) or the command explains how to enable them.
import FC from "@alicloud/fc2";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signTimestamp } from "../../functions/core/dingtalk/sign.js";
import { DeployError } from "../../infra/errors.js";
import { info } from "../../infra/info.js";
import { invoke } from "../../infra/invoke.js";
import { formatEntry, parseStartTime, runLogs, type LogQuery } from "../../infra/logs.js";
import { memoryReporter } from "../../infra/output.js";
import { parseSettings } from "../../infra/settings.js";
import { startFcDouble, zipBase64, type FcDouble } from "../doubles/fc/index.js";

const ACCOUNT = "1234567890123456";
const SECRET = "app-secret-for-invoke-001";
let fcd: FcDouble;
let dir: string;
let env: Record<string, string>;

const settings = (stage = "t") =>
  parseSettings(
    {
      service: "dingclaw",
      provider: { name: "aliyun", config: "config.json", table: { endpoint: "http://127.0.0.1:8000" } },
      functions: { callback: { events: [{ http: { authType: "anonymous", methods: ["POST"] } }] }, worker: {} },
    },
    { stage },
  );

beforeAll(async () => {
  fcd = await startFcDouble({ accountId: ACCOUNT, region: "cn-hangzhou", accessKeys: { LTAIactions: "actions-secret-0001" } });
  env = {
    ALIBABA_CLOUD_ACCOUNT_ID: ACCOUNT,
    ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAIactions",
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: "actions-secret-0001",
    ALIBABA_CLOUD_FC_ENDPOINT: fcd.url,
  };
  dir = await mkdtemp(path.join(tmpdir(), "infra-actions-"));
  await writeFile(path.join(dir, "config.json"), JSON.stringify({ channels: { dingtalk: { client_id: "dinginvoke", client_secret: SECRET } } }));
  const client = new FC(ACCOUNT, { accessKeyID: "LTAIactions", accessKeySecret: "actions-secret-0001", region: "cn-hangzhou", endpoint: fcd.url });
  await client.createService("dingclaw-t", { logConfig: { project: "dingclaw-logs", logstore: "fc" } });
  await client.createFunction("dingclaw-t", {
    functionName: "callback",
    runtime: "nodejs20",
    handler: "index.handler",
    code: {
      zipFile: zipBase64({
        "index.js": `exports.handler = (req, resp) => {
          resp.setHeader("content-type", "application/json");
          resp.send(JSON.stringify({ timestamp: req.headers.timestamp, sign: req.headers.sign, body: req.body.toString() }));
        };`,
      }),
    },
  });
  await client.createTrigger("dingclaw-t", "callback", { triggerName: "http", triggerType: "http", triggerConfig: { authType: "anonymous", methods: ["POST"] } });
  await client.createFunction("dingclaw-t", {
    functionName: "worker",
    runtime: "nodejs20",
    handler: "index.handler",
    code: { zipFile: zipBase64({ "index.js": `exports.handler = async (event) => { const e = JSON.parse(event); if (e.fail) throw new Error("boom: " + e.fail); return JSON.stringify({ got: e }); };` }) },
  });
  await client.createService("dingclaw-nologs", {});
});

afterAll(async () => {
  await fcd?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("invoke", () => {
  it("posts to the callback's HTTP trigger with a valid DingTalk signature", async () => {
    const out = memoryReporter();
    const text = await invoke({ settings: settings(), root: dir, env, out, now: () => 1_800_000_000_000 }, { fn: "callback", data: '{"msgtype":"text"}', path: undefined });
    const echoed = JSON.parse(text) as { timestamp: string; sign: string; body: string };
    expect(echoed).toEqual({ timestamp: "1800000000000", sign: signTimestamp("1800000000000", SECRET), body: '{"msgtype":"text"}' });
    expect(out.lines).toEqual([`HTTP 200 ${text}`]);
  });

  it("invokes the worker synchronously and prints its result; a function error fails the command", async () => {
    const out = memoryReporter();
    await invoke({ settings: settings(), root: dir, env, out }, { fn: "worker", data: '{"a":1}', path: undefined });
    expect(out.lines).toEqual(['{"got":{"a":1}}']);
    await expect(invoke({ settings: settings(), root: dir, env, out }, { fn: "worker", data: '{"fail":"x"}', path: undefined })).rejects.toThrow(
      /^function worker failed \(UnhandledInvocationError\): boom: x$/,
    );
    await expect(invoke({ settings: settings(), root: dir, env, out }, { fn: "other", data: undefined, path: undefined })).rejects.toThrow(
      /"other" is not part of this service/,
    );
    await expect(invoke({ settings: settings(), root: dir, env, out }, { fn: "worker", data: undefined, path: "nope.json" })).rejects.toThrow(
      /--path nope\.json: cannot be read \(ENOENT\)/,
    );
  });
});

describe("info", () => {
  it("lists the functions and the callback URL, or says the service is not deployed", async () => {
    const out = memoryReporter();
    const r = await info({ settings: settings(), env, out });
    expect(r).toEqual({ url: `${fcd.url}/2016-08-15/proxy/dingclaw-t/callback/`, functions: ["callback", "worker"] });
    expect(out.lines[0]).toContain("logs:      dingclaw-logs/fc");
    await expect(info({ settings: settings("absent"), env, out })).rejects.toThrow(/service dingclaw-absent is not deployed in cn-hangzhou: run serverless deploy --stage absent/);
  });
});

describe("logs", () => {
  it("reads the function's lines from the service's logstore, oldest first", async () => {
    const out = memoryReporter();
    const queries: LogQuery[] = [];
    let used = "";
    const n = await runLogs(
      {
        settings: settings(),
        env,
        out,
        now: () => 1_800_000_000_000,
        source: (project, logstore) => {
          used = `${project}/${logstore}`;
          return (q) => {
            queries.push(q);
            return Promise.resolve([
              { __time__: "1799999990", message: "second line\n" },
              { __time__: "1799999980", message: "first line" },
            ]);
          };
        },
      },
      { fn: "worker", startTime: "1h", filter: "error", tail: false, intervalMs: 1000 },
    );
    expect(n).toBe(2);
    expect(used).toBe("dingclaw-logs/fc");
    expect(queries).toEqual([{ from: 1_800_000_000 - 3600, to: 1_800_000_001, query: "serviceName: dingclaw-t and functionName: worker and error" }]);
    expect(out.lines).toEqual(["2027-01-15T07:59:40.000Z first line", "2027-01-15T07:59:50.000Z second line"]);
  });

  it("--tail keeps polling from where it stopped", async () => {
    const queries: LogQuery[] = [];
    let clock = 1_800_000_000_000;
    await runLogs(
      {
        settings: settings(),
        env,
        out: memoryReporter(),
        now: () => clock,
        sleep: (ms) => {
          clock += ms;
          return Promise.resolve();
        },
        source: () => (q) => {
          queries.push(q);
          return Promise.resolve([]);
        },
      },
      { fn: "callback", startTime: undefined, filter: undefined, tail: true, intervalMs: 2000, shouldStop: () => queries.length >= 3 },
    );
    expect(queries.map((q) => [q.from, q.to])).toEqual([
      [1_800_000_000 - 600, 1_800_000_001],
      [1_800_000_001, 1_800_000_003],
      [1_800_000_003, 1_800_000_005],
    ]);
  });

  it("explains how to enable logs when the service has no log config", async () => {
    const out = memoryReporter();
    const s = parseSettings(
      { service: "dingclaw", provider: { name: "aliyun" }, functions: { callback: { events: [{ http: null }] }, worker: {} } },
      { stage: "nologs" },
    );
    expect(await runLogs({ settings: s, env, out }, { fn: "worker", startTime: undefined, filter: undefined, tail: false, intervalMs: 1000 })).toBe(0);
    expect(out.lines).toEqual([expect.stringMatching(/^warning: logs are not enabled for service dingclaw-nologs: set provider\.logConfig\.project/)]);
  });

  it("parses --startTime and formats entries", () => {
    expect(parseStartTime("30m", 1_000_000_000)).toBe(1_000_000 - 1800);
    expect(parseStartTime("2026-01-31T08:00:00Z", 0)).toBe(Date.parse("2026-01-31T08:00:00Z") / 1000);
    expect(() => parseStartTime("yesterday", 0)).toThrow(DeployError);
    expect(formatEntry({ message: "x" })).toBe("x");
  });
});
