// The playground's hosts as real processes: `npm run playground` (functions/playground.ts) answers a
// message and stops cleanly; `npm start` without DingTalk credentials offers the playground (and says
// so in its setup guide); with credentials, or on a non-loopback address, it does not serve it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLlmDouble, type LlmDouble } from "../doubles/llm/server.js";
import { eventually, startHost, type HostProcess } from "../helpers/processes.js";

const LLM_KEY = "sk-playground-host-key-0001";
let llm: LlmDouble;
const hosts: HostProcess[] = [];

beforeAll(async () => {
  llm = await startLlmDouble({ keys: [LLM_KEY] });
});

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop("SIGKILL")));
  await llm?.close();
});

/** As the npm scripts run them: bundled by infra/launch.mjs, under plain node. */
function start(script: string, env: Record<string, string>): HostProcess {
  const host = startHost(script, { PORT: "0", DINGCLAW_CONFIG_JSON: "{}", ...env }, [], { via: "launch" });
  hosts.push(host);
  return host;
}

const urlOf = (line: string) => (JSON.parse(line) as { url: string }).url;

describe("npm run playground", () => {
  it("serves the page, answers a message through the gateway, and exits 0 on SIGTERM without leaking the key", async () => {
    const configJson = JSON.stringify({ model_list: [{ model_name: "glm", model: "zhipu/glm-4.7", api_key: LLM_KEY, api_base: llm.url }] });
    const pg = start("functions/playground.ts", { DINGCLAW_CONFIG_JSON: configJson });
    const url = urlOf(await pg.waitFor((l) => l.includes('"playground ready"'), 20_000));
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/playground$/);
    await pg.waitFor((l) => l.includes(`dingclaw playground: open ${url}`));
    expect((await fetch(url)).status).toBe(200);

    llm.script({ text: "来自 LLM 替身的回答" });
    const res = await fetch(`${url}/api/send`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ chat: "dm:zhangsan", user: "zhangsan", text: "你好" }),
    });
    const { msgId, status } = (await res.json()) as { msgId: string; status: number };
    expect(status).toBe(200);
    await eventually(() => pg.records().find((r) => r.msg === "job done" && r.msgId === msgId), 15_000, "job done");
    expect(pg.records().find((r) => r.msg === "job done" && r.msgId === msgId)).toMatchObject({ route: "card", model: "glm" });

    expect(await pg.stop("SIGTERM")).toBe(0);
    expect(pg.lines.join("\n")).not.toContain(LLM_KEY);
  });
});

describe("npm start without DingTalk credentials", () => {
  it("offers the playground on its port and names it in the setup guide", async () => {
    const gw = start("functions/gateway.ts", {});
    const url = urlOf(await gw.waitFor((l) => l.includes('"playground ready"'), 20_000));
    await gw.waitFor((l) => l.includes("Try the bot in your browser now"));
    expect(gw.lines.join("\n")).toContain(`(DingTalk simulated, nothing to set up): ${url}`);
    expect(gw.lines.join("\n")).toContain("channels.dingtalk.client_id / client_secret");
    const page = await fetch(url);
    expect(page.status).toBe(200);
    const state = (await (await fetch(`${url}/api/state`)).json()) as { models: { help: string[] } };
    expect(state.models.help.join("\n")).toContain("Add a model_list to ./config.json");
    expect((await fetch(url.replace(/\/playground$/, "/healthz"))).status).toBe(200);
    expect(await gw.stop("SIGTERM")).toBe(0);
  });

  it("points out another bot's key spelling in its guide", async () => {
    const openClaw = { channels: { dingtalk: { clientId: "dingopenclaw", clientSecret: "openclaw-secret-123456", dmPolicy: "open" } } };
    const gw = start("functions/gateway.ts", { DINGCLAW_CONFIG_JSON: JSON.stringify(openClaw) });
    await gw.waitFor((l) => l.includes("HTTP endpoints are up"), 20_000);
    const out = gw.lines.join("\n");
    expect(out).toContain("channels.dingtalk.clientId is not a dingclaw setting (ignored): did you mean `client_id`?");
    expect(out).toContain("channels.dingtalk.dmPolicy is not a dingclaw setting (ignored): did you mean `allow_from`?");
    expect(out).not.toContain("openclaw-secret-123456");
    expect(await gw.stop("SIGTERM")).toBe(0);
  });

  it("stops with one line on a bad environment value", async () => {
    const gw = start("functions/gateway.ts", { PORT: "http", LOG_LEVEL: "loud" });
    expect(await gw.exited).toBe(1);
    const said = gw.lines.filter((l) => l.startsWith("dingclaw: "));
    expect(said).toEqual(["dingclaw: bad environment: LOG_LEVEL must be one of debug, info, warn, error, silent (example: debug); PORT must be a port number (example: 9000)"]);
  });

  it("does not offer it on a non-loopback address", async () => {
    const gw = start("functions/gateway.ts", { HOST: "0.0.0.0" });
    const base = urlOf(await gw.waitFor((l) => l.includes('"gateway listening"'), 20_000));
    await gw.waitFor((l) => l.includes("HTTP endpoints are up"));
    expect((await fetch(`${base}/playground`)).status).toBe(404);
    expect(gw.lines.join("\n")).not.toContain("Try the bot in your browser");
    expect(await gw.stop("SIGTERM")).toBe(0);
  });
});

describe("npm start with DingTalk credentials", () => {
  it("does not expose the playground", async () => {
    const gw = start("functions/gateway.ts", {
      DINGTALK_CLIENT_ID: "dingrealapp",
      DINGTALK_CLIENT_SECRET: "real-secret-never-in-playground",
      DINGTALK_MODE: "http",
    });
    const base = urlOf(await gw.waitFor((l) => l.includes('"gateway listening"'), 20_000));
    expect((await fetch(`${base}/playground`)).status).toBe(404);
    expect((await fetch(`${base}/playground/api/state`)).status).toBe(404);
    expect(gw.lines.join("\n").replaceAll(process.cwd(), "<checkout>")).not.toContain("playground");
    expect(await gw.stop("SIGTERM")).toBe(0);
  });
});
