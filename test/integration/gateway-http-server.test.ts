// The gateway's HTTP server against hostile raw requests: a request target that is not a URL, a body
// cut short by the client, a bad chunked body → a 4xx or a closed socket, never a crash or a 5xx.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, startHttpServer, type GatewayServer } from "../../functions/core/gateway/http-server.js";
import { createLogger } from "../../functions/core/log.js";
import { rawStatus } from "../helpers/raw-http.js";

const lines: string[] = [];
let server: GatewayServer;
let port: number;

beforeAll(async () => {
  server = await startHttpServer({
    routes: [
      { method: "GET", path: "/healthz", handle: () => json(200, { ok: true }) },
      { method: "POST", path: "/echo", handle: (req) => json(200, { bytes: req.body?.length ?? null }) },
    ],
    port: 0,
    host: "127.0.0.1",
    log: createLogger({ write: (l) => lines.push(l) }),
  });
  port = Number(new URL(server.url).port);
});
afterAll(() => server.close());

const raw = (text: string, endInput = false) => rawStatus(port, text, endInput);

describe("gateway HTTP server", () => {
  it.each(["////", "//x:y/callback", "//[::1/healthz"])("answers 400 to the request target %j and keeps serving", async (target) => {
    expect(await raw(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`)).toBe(400);
    expect(await raw(`POST ${target} HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n\r\n{}`)).toBe(400);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("never answers 5xx to a body the client cut short", async () => {
    const status = await raw("POST /echo HTTP/1.1\r\nHost: x\r\ncontent-length: 100\r\n\r\n{\"a\":", true);
    expect(status === "closed" || (status >= 400 && status < 500)).toBe(true);
    expect(await raw("POST /echo HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")).toBe(400);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(lines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
  });
});
