// Media downloads: the private-address rule (and its one exception, a loopback DingTalk API base),
// checks at connect time and on every redirect, the size cap, the deadline and HTTP failures.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DownloadError, allowPrivateFor, download, isPrivateAddress, type DownloadPolicy } from "../../functions/core/dingtalk/download.js";
import { rejection } from "../helpers/rejection.js";

let server: Server;
let base: string;
let port: number;
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.push(path);
    if (path === "/ok") return res.end("hello");
    if (path === "/big-declared") {
      res.writeHead(200, { "content-length": "5000" });
      return res.end("x".repeat(5000));
    }
    if (path === "/big-chunked") {
      res.writeHead(200, { "content-type": "text/plain" });
      for (let i = 0; i < 10; i++) res.write("y".repeat(1000));
      return res.end();
    }
    if (path === "/slow") {
      setTimeout(() => res.end("late"), 2_000);
      return;
    }
    if (path === "/missing") {
      res.writeHead(404);
      return res.end("nope");
    }
    const to = new URL(path, "http://x").searchParams.get("to");
    if (path.startsWith("/redirect") && to) {
      res.writeHead(302, { location: to });
      return res.end();
    }
    res.writeHead(500);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  hits.length = 0;
});

/** With `allowPrivate: false`, as in production, but only 10.0.0.0/8 counts as private so 127.0.0.1 plays "the internet". */
const strict = (over: Partial<DownloadPolicy> = {}): DownloadPolicy => ({
  maxBytes: 1000,
  timeoutMs: 1_000,
  allowPrivate: false,
  isPrivate: (a) => a.startsWith("10."),
  resolve: (host) =>
    Promise.resolve(
      host === "files.example.test" ? [{ address: "127.0.0.1", family: 4 }] : host === "intranet.example.test" ? [{ address: "10.0.0.7", family: 4 }] : [],
    ),
  ...over,
});

const failure = (p: Promise<unknown>) => rejection(p, DownloadError);

describe("isPrivateAddress", () => {
  it("knows loopback, private, link-local, CGNAT, multicast and mapped addresses", () => {
    for (const a of ["127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "::", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:a00:1", "[::1]"])
      expect([a, isPrivateAddress(a)]).toEqual([a, true]);
    for (const a of ["8.8.8.8", "47.96.1.1", "172.32.0.1", "2408:4000::1", "::ffff:8.8.8.8"]) expect([a, isPrivateAddress(a)]).toEqual([a, false]);
    expect(isPrivateAddress("not-an-ip")).toBe(true);
  });

  it("allows private targets only when the DingTalk API base itself is loopback", () => {
    expect(allowPrivateFor("http://127.0.0.1:4000")).toBe(true);
    expect(allowPrivateFor("http://localhost:4000")).toBe(true);
    expect(allowPrivateFor("http://[::1]:4000")).toBe(true);
    expect(allowPrivateFor("https://api.dingtalk.com")).toBe(false);
    expect(allowPrivateFor("http://10.0.0.5:8080")).toBe(false);
    expect(allowPrivateFor("not a url")).toBe(false);
  });
});

describe("download", () => {
  it("fetches an allowed URL, by address and by hostname", async () => {
    const got = await download(`${base}/ok`, strict());
    expect(got.bytes.toString()).toBe("hello");
    expect(got.fileName).toBe("ok");
    expect((await download(`http://files.example.test:${port}/ok`, strict())).bytes.toString()).toBe("hello");
  });

  it("refuses private and loopback targets in production mode without connecting", async () => {
    const production: DownloadPolicy = { maxBytes: 1000, timeoutMs: 1000, allowPrivate: false };
    for (const url of [`${base}/ok`, `http://localhost:${port}/ok`, "http://169.254.169.254/latest/meta-data", "http://[::1]/x", "http://10.0.0.1/x"]) {
      const err = await failure(download(url, production));
      expect([url, err.reason]).toEqual([url, "blocked"]);
    }
    expect((await failure(download(`http://intranet.example.test:${port}/ok`, strict()))).reason).toBe("blocked");
    expect(hits).toEqual([]);
    expect((await download(`${base}/ok`, { ...production, allowPrivate: true })).bytes.toString()).toBe("hello");
  });

  it("re-checks every redirect and never follows one into a private range", async () => {
    const toPrivate = `${base}/redirect?to=${encodeURIComponent("http://10.1.2.3/secret")}`;
    expect((await failure(download(toPrivate, strict()))).reason).toBe("blocked");
    const toPrivateName = `${base}/redirect?to=${encodeURIComponent(`http://intranet.example.test:${port}/ok`)}`;
    expect((await failure(download(toPrivateName, strict()))).reason).toBe("blocked");
    expect(hits.filter((h) => h === "/ok")).toEqual([]);

    const allowed = `${base}/redirect?to=${encodeURIComponent(`http://files.example.test:${port}/ok`)}`;
    expect((await download(allowed, strict())).bytes.toString()).toBe("hello");
    const loop = `${base}/redirect?to=${encodeURIComponent(`${base}/redirect?to=${encodeURIComponent(`${base}/ok`)}`)}`;
    expect((await failure(download(loop, strict({ maxRedirects: 1 })))).reason).toBe("redirects");
  });

  it("caps the size (declared or streamed), honours the deadline and reports HTTP errors", async () => {
    expect((await failure(download(`${base}/big-declared`, strict()))).reason).toBe("too_large");
    expect((await failure(download(`${base}/big-chunked`, strict()))).reason).toBe("too_large");
    expect((await download(`${base}/big-chunked`, strict({ maxBytes: 10_000 }))).bytes).toHaveLength(10_000);
    expect((await failure(download(`${base}/slow`, strict({ timeoutMs: 100 })))).reason).toBe("timeout");
    const missing = await failure(download(`${base}/missing`, strict()));
    expect(missing).toMatchObject({ reason: "http", status: 404 });
    expect((await failure(download("ftp://files.example.test/x", strict()))).reason).toBe("bad_url");
    expect((await failure(download(`http://user:pw@files.example.test:${port}/ok`, strict()))).reason).toBe("bad_url");
  });
});
