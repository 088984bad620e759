// The function bundles: well under 1 MB minified, the callback free of the LLM client and the
// embedded store, unused fc2 dependencies replaced by stubs that fail clearly, reproducible zips,
// and each bundle loading and running under plain `node` (no TypeScript loader).
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBundle, describeBundle, type Bundle } from "../../infra/bundle.js";
import { stubPlugin } from "../../infra/bundle-stubs.js";
import { callbackBody, signedHeaders } from "../helpers/messages.js";
import { ROOT } from "../helpers/processes.js";
import { startTestTablestore, TABLESTORE_KEY } from "../helpers/tablestore.js";

const run = promisify(execFile);
let callback: Bundle;
let worker: Bundle;
let tablestoreCallback: Bundle;
let tablestoreWorker: Bundle;
let notify: Bundle;
let scheduler: Bundle;
let dir: string;

beforeAll(async () => {
  [callback, worker, tablestoreCallback, tablestoreWorker, notify, scheduler] = await Promise.all([
    buildBundle({ name: "callback", entry: "functions/callback.ts", handler: "index.handler" }, ROOT),
    buildBundle({ name: "worker", entry: "functions/worker.ts", handler: "index.handler" }, ROOT),
    buildBundle({ name: "callback", entry: "functions/callback.ts", handler: "index.handler", table: "tablestore" }, ROOT),
    buildBundle({ name: "worker", entry: "functions/worker.ts", handler: "index.handler", table: "tablestore" }, ROOT),
    buildBundle({ name: "notify", entry: "functions/notify.ts", handler: "index.handler" }, ROOT),
    buildBundle({ name: "scheduler", entry: "functions/scheduler.ts", handler: "index.handler" }, ROOT),
  ]);
  dir = await mkdtemp(path.join(tmpdir(), "infra-bundle-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Unzips a bundle into its own directory, as FC does, and runs `script` there with plain node. */
async function nodeIn(bundle: Bundle, script: string, env: Record<string, string> = {}, folder = bundle.name): Promise<string> {
  const target = path.join(dir, folder);
  await mkdir(target, { recursive: true });
  for (const [name, data] of Object.entries(unzipSync(bundle.zip))) await writeFile(path.join(target, name), data);
  const { stdout } = await run(process.execPath, ["-e", script], { cwd: target, env: { PATH: process.env.PATH ?? "", ...env } });
  return stdout;
}

describe("function bundles", () => {
  it("stay well under 1 MB minified each (the callback, on every message's path, under 650 KB)", () => {
    expect(callback.rawBytes).toBeLessThan(650 * 1024);
    expect(worker.rawBytes).toBeLessThan(950 * 1024);
    for (const b of [callback, worker]) {
      expect(b.gzipBytes).toBeLessThan(b.rawBytes / 2);
      expect(describeBundle(b)).toMatch(new RegExp(`^${b.name}: \\d+ KB minified, \\d+ KB gzip, \\d+ KB zip$`));
    }
  });

  it("keep the LLM client, dynalite and the embedded store out of the callback", () => {
    const forbidden = /node_modules\/openai\/|node_modules\/dynalite\/|functions\/core\/store\/embedded\.ts|functions\/core\/llm\/client\.ts/;
    expect(callback.inputs.filter((i) => forbidden.test(i))).toEqual([]);
    expect(worker.inputs.some((i) => i.includes("node_modules/openai/"))).toBe(true);
    for (const b of [callback, worker]) {
      expect(b.inputs.filter((i) => /node_modules\/(ali-oss|axios|ws|bowser|dynalite|debug)\//.test(i))).toEqual([]);
      expect(b.inputs.filter((i) => /zod\/v4\/locales\/(?!en\.)/.test(i))).toEqual([]);
      expect(b.inputs.some((i) => i.includes("@aws-sdk/credential-provider-sso"))).toBe(false);
    }
  });

  it("notify: no LLM client, smaller than the callback's bar, and a bad notification fails with its reason under plain node", async () => {
    expect(notify.rawBytes).toBeLessThan(650 * 1024);
    expect(notify.inputs.filter((i) => /node_modules\/openai\/|functions\/core\/llm\/client\.ts|functions\/core\/tools\/registry\.ts/.test(i))).toEqual([]);
    const out = await nodeIn(
      notify,
      'require("./index.js").handler(Buffer.from(\'{"to":{"users":[]},"text":"x"}\'), {}).then((r) => process.stdout.write("RESULT " + r), (e) => process.stdout.write("ERROR " + e.message))',
      { DINGCLAW_CONFIG_JSON: "{}", DINGCLAW_TABLE_ENDPOINT: "http://127.0.0.1:9" },
    );
    expect(out).toMatch(/^ERROR bad notification: to/);
  });

  it("scheduler: within the worker's bar, and loads under plain node", async () => {
    expect(scheduler.rawBytes).toBeLessThan(950 * 1024);
    expect(await nodeIn(scheduler, 'process.stdout.write(typeof require("./index.js").handler)')).toBe("function");
  });

  it("zip as index.js plus a CommonJS package.json, byte-identical on rebuild", async () => {
    expect(Object.keys(unzipSync(callback.zip)).sort()).toEqual(["index.js", "package.json"]);
    const again = await buildBundle({ name: "callback", entry: "functions/callback.ts", handler: "index.handler" }, ROOT);
    expect(Buffer.from(again.zip).equals(Buffer.from(callback.zip))).toBe(true);
  });

  it("load and run under plain node", async () => {
    expect(await nodeIn(callback, 'process.stdout.write(typeof require("./index.js").handler)')).toBe("function");
    // The worker really runs: an event that is not a job gets {status:"invalid"} without touching the table.
    const out = await nodeIn(
      worker,
      'require("./index.js").handler(Buffer.from("not json"), {}).then((r) => process.stdout.write("RESULT " + r), (e) => process.stdout.write("ERROR " + e.message))',
      { DINGCLAW_CONFIG_JSON: "{}", DINGCLAW_TABLE_ENDPOINT: "http://127.0.0.1:9" },
    );
    expect(out).toContain('RESULT {"status":"invalid"}');
  });

  it("the callback answers 503 (not a crash) when the table endpoint is missing", async () => {
    const script = `
      const { handler } = require("./index.js");
      const res = { setStatusCode(s) { this.s = s }, setHeader() {}, send(b) { process.stdout.write("STATUS " + this.s + " " + b) } };
      const { Readable } = require("node:stream");
      handler(Object.assign(Readable.from([Buffer.from("{}")]), { method: "POST", headers: {} }), res, { requestId: "r1" });`;
    expect(await nodeIn(callback, script, { DINGCLAW_CONFIG_JSON: "{}" })).toContain("STATUS 503");
  });

  it("the callback carries zod's mini API only, and still says what is wrong in English", async () => {
    expect(callback.inputs.filter((i) => i.includes("node_modules/zod/v4/classic/"))).toEqual([]);
    const script = `
      const { handler } = require("./index.js");
      const res = { setStatusCode(s) { this.s = s }, setHeader() {}, send(b) { process.stdout.write("STATUS " + this.s + " " + b) } };
      const { Readable } = require("node:stream");
      handler(Object.assign(Readable.from([Buffer.from("{}")]), { method: "POST", headers: {} }), res, { requestId: "r1" });`;
    const out = await nodeIn(callback, script, { DINGCLAW_CONFIG_JSON: '{"channels":{"dingtalk":{"enabled":"yes"}}}', DINGCLAW_TABLE_ENDPOINT: "http://127.0.0.1:9" });
    expect(out).toContain("STATUS 503");
    expect(out).toContain("channels.dingtalk.enabled: Invalid input: expected boolean, received string");
  });

  it("stubs fail with a clear error if a stubbed dependency is ever used", async () => {
    const entry = path.join(dir, "uses-ali-oss.js");
    await writeFile(entry, 'const OSS = require("ali-oss"); module.exports = () => new OSS({});');
    const out = await build({ entryPoints: [entry], bundle: true, platform: "node", format: "cjs", write: false, plugins: [stubPlugin()], logLevel: "silent" });
    const file = path.join(dir, "uses-ali-oss.bundle.cjs");
    await writeFile(file, out.outputFiles[0]!.contents);
    const { stdout } = await run(process.execPath, ["-e", `try { require(${JSON.stringify(file)})() } catch (e) { process.stdout.write(e.message) }`]);
    expect(stdout).toMatch(/"ali-oss" is not included in the dingclaw function bundle/);
  });

  it("silence fc2's and httpx's debug traces (the signed request headers) even with DEBUG=*", async () => {
    const entry = path.join(dir, "uses-debug.js");
    await writeFile(entry, 'const d = require("debug")("httpx:header"); d("> %s", "x-fc-security-token: sts-token"); process.stdout.write(String(d.enabled));');
    const out = await build({
      entryPoints: [entry],
      nodePaths: [path.join(ROOT, "node_modules")],
      bundle: true,
      platform: "node",
      format: "cjs",
      write: false,
      plugins: [stubPlugin()],
      logLevel: "silent",
    });
    const file = path.join(dir, "uses-debug.bundle.cjs");
    await writeFile(file, out.outputFiles[0]!.contents);
    const { stdout, stderr } = await run(process.execPath, [file], { env: { PATH: process.env.PATH ?? "", DEBUG: "*" } });
    expect({ stdout, stderr }).toEqual({ stdout: "false", stderr: "" });
  });

  it("carry only the deployed table backend: no Tablestore SDK for DynamoDB, no AWS SDK for Tablestore", () => {
    for (const b of [callback, worker]) expect(b.inputs.filter((i) => /node_modules\/tablestore\/|store\/tablestore\//.test(i))).toEqual([]);
    for (const b of [tablestoreCallback, tablestoreWorker]) {
      expect(b.inputs.filter((i) => /node_modules\/@aws-sdk\/|store\/dynamodb\//.test(i))).toEqual([]);
      expect(b.inputs.some((i) => i.includes("node_modules/tablestore/"))).toBe(true);
    }
    // The SDK's generated protobuf code (~630 KB) is replaced by reflection over its .proto files.
    expect(tablestoreCallback.rawBytes).toBeLessThan(callback.rawBytes);
    expect(tablestoreWorker.rawBytes).toBeLessThan(worker.rawBytes);
  });

  it("the Tablestore callback bundle claims and releases through the double with the invocation's role credentials", async () => {
    const ts = await startTestTablestore();
    try {
      const body = JSON.stringify(callbackBody({ text: "bundle", robotCode: "dingbundle" }));
      const script = `
        const { handler } = require("./index.js");
        const { Readable } = require("node:stream");
        const res = { setStatusCode(s) { this.s = s }, setHeader() {}, send(b) { process.stdout.write("STATUS " + this.s) } };
        const req = Object.assign(Readable.from([Buffer.from(${JSON.stringify(body)})]), { method: "POST", headers: ${JSON.stringify(signedHeaders("bundle-secret"))} });
        handler(req, res, { requestId: "r1", credentials: ${JSON.stringify(TABLESTORE_KEY)} });`;
      const env = {
        DINGCLAW_CONFIG_JSON: JSON.stringify({ channels: { dingtalk: { client_id: "dingbundle", client_secret: "bundle-secret" } } }),
        DINGCLAW_TABLE_KIND: "tablestore",
        DINGCLAW_TABLE_ENDPOINT: ts.double.url,
        DINGCLAW_TABLE_INSTANCE: ts.double.instance,
        DINGCLAW_TABLE_NAME: ts.config.name,
        ALIBABA_CLOUD_FC_ENDPOINT: "http://127.0.0.1:9",
        FC_ACCOUNT_ID: "1234567890123456",
        FC_REGION: "cn-hangzhou",
      };
      expect(await nodeIn(tablestoreCallback, script, env, "tablestore-callback")).toContain("STATUS 503");
      const ops = ts.double.requests.map((r) => `${r.operation}${r.error ? `:${r.error}` : ""}`);
      expect(ops, JSON.stringify(ts.double.requests)).toEqual(expect.arrayContaining(["PutRow", "DeleteRow"]));
      expect(ops.filter((o) => o.includes(":OTSAuthFailed"))).toEqual([]);
    } finally {
      await ts.close();
    }
  });
});
