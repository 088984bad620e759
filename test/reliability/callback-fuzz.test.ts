// Property-based fuzzing of the HTTP callback (fast-check): ≥10,000 generated requests in-process
// (random, truncated, wrong types, huge, odd unicode, bad headers; unsigned and validly signed), raw
// requests over real sockets to the gateway's HTTP server, and Stream frames → 0 crashes, 0 5xx.
import { setTimeout as delay } from "node:timers/promises";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signTimestamp } from "../../functions/core/dingtalk/sign.js";
import { startGateway, type Gateway } from "../../functions/core/gateway/start.js";
import { handleCallback, type CallbackDeps, type CallbackRequest } from "../../functions/core/http-callback.js";
import type { Job } from "../../functions/core/job.js";
import { processJob } from "../../functions/core/process-job.js";
import { IdempotencyStore } from "../../functions/core/store/idempotency.js";
import { callbackBody, signedHeaders } from "../helpers/messages.js";
import { rawStatus } from "../helpers/raw-http.js";
import { CLIENT_ID, CLIENT_SECRET } from "../helpers/world.js";
import { expectNoSecrets, pool, runSeed, startRig, summary, type Rig } from "./harness.js";

const SEED = runSeed();
const UNSIGNED_RUNS = 7_600;
const SIGNED_RUNS = 2_500;
const RAW_HTTP_RUNS = 400;
const FETCH_RUNS = 200;
const STREAM_FRAMES = 300;
const HOUR = 3_600_000;

const INVALID_STATUSES = new Set([200, 400, 401, 405, 413]);
const SIGNED_STATUSES = new Set([200, 400, 413]);
/** Over a raw socket Node's own HTTP parser answers malformed requests (400) and oversized headers (431). */
const RAW_STATUSES = new Set([200, 400, 401, 404, 405, 413, 431]);

let rig: Rig;
let gateway: Gateway;
let startedAt = 0;
const jobs: Job[] = [];
const statusCounts = new Map<string, number>();
const responseBodies: string[] = [];
const count = (what: string, status: number | string) => statusCounts.set(`${what}:${status}`, (statusCounts.get(`${what}:${status}`) ?? 0) + 1);

beforeAll(async () => {
  rig = await startRig({ workers: 1 });
  gateway = await startGateway({
    config: { ...rig.w.config, dingtalk: { ...rig.w.config.dingtalk, mode: "stream" } },
    log: rig.w.log.child({ host: "gateway" }),
    port: 0,
    host: "127.0.0.1",
    table: rig.w.db.table,
  });
  await gateway.stream!.ready;
  startedAt = performance.now();
}, 60_000);

afterAll(async () => {
  await gateway?.close(5_000);
  await rig?.close();
});

// ── arbitraries ──────────────────────────────────────────────────────────────────────────────────

const text = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.constantFrom("", " ", "\u0000", "\uD800", "\uFFFF", "🧨".repeat(50), "\u202E\u0301\u200B", "@bot", "/new", "／model x"),
);
const jsonish = fc.oneof({ depthSize: "small" }, fc.jsonValue({ maxDepth: 4 }), text, fc.constant(null));

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("POST", "post", "Post") },
  { weight: 2, arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "") },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const timestampHeader = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: -3 * HOUR, max: 3 * HOUR }).map((d) => String(Date.now() + d)),
  fc.constantFrom("", "0", "-1", "1e12", " 1700000000000", "0x1F", "99999999999999999999", "NaN"),
  text,
  fc.array(fc.string(), { maxLength: 3 }),
);
const signHeader = fc.oneof(
  fc.constant(undefined),
  fc.base64String({ maxLength: 64 }),
  text,
  fc.array(fc.base64String({ maxLength: 44 }), { maxLength: 3 }),
  fc.constant(signTimestamp(String(Date.now()), "not-the-secret")),
);
const headerName = fc.oneof(fc.constantFrom("content-type", "Timestamp", "SIGN", "x-forwarded-for", "content-length"), fc.string({ maxLength: 20 }));
/** A long string without generating it character by character (fast-check would spend seconds on those). */
const long = (min: number, max: number) => fc.tuple(fc.string({ unit: "grapheme", minLength: 1, maxLength: 3 }), fc.integer({ min, max })).map(([c, n]) => c.repeat(Math.ceil(n / c.length)));
const headerValue = fc.oneof(text, fc.array(fc.string(), { maxLength: 3 }), fc.constant(undefined), long(2_000, 20_000));
const headers = fc
  .tuple(fc.record({ timestamp: timestampHeader, sign: signHeader }, { requiredKeys: [] }), fc.dictionary(headerName, headerValue, { maxKeys: 5 }))
  .map(([auth, extra]): CallbackRequest["headers"] => ({ ...extra, ...auth }));

/** A realistic body to mutate; fresh msgIds mostly, a small pool of repeated ones for duplicates. */
const baseBody = fc
  .record({
    n: fc.nat(),
    repeat: fc.boolean(),
    group: fc.boolean(),
    text,
  })
  .map(({ n, repeat, group, text: t }) =>
    callbackBody({
      msgId: repeat ? `fuzz-dup-${n % 5}` : `fuzz-${n}-${Math.random().toString(36).slice(2)}`,
      robotCode: CLIENT_ID,
      type: group ? "group" : "direct",
      text: t,
      staffId: `fz${n % 50}`,
      sessionWebhook: `${rig.w.dt.url}/robot/sendBySession?session=fuzz${n}`,
    }),
  );
const KEYS = [
  "msgId", "msgtype", "text", "content", "createAt", "conversationType", "conversationId", "senderId", "senderStaffId",
  "senderNick", "robotCode", "isInAtList", "atUsers", "sessionWebhook", "sessionWebhookExpiredTime", "chatbotUserId", "errorMessage",
];
type Mutation = (b: Record<string, unknown>) => void;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom(...KEYS).map((k): Mutation => (b) => void delete b[k]),
  fc.tuple(fc.oneof(fc.constantFrom(...KEYS), fc.string()), jsonish).map(([k, v]): Mutation => (b) => void (b[k] = v)),
  text.map((t): Mutation => (b) => void (b.text = { content: t })),
  fc
    .constantFrom("text", "richText", "picture", "audio", "video", "file", "markdown", "interactiveCard", "", "😀")
    .map((m): Mutation => (b) => void (b.msgtype = m)),
  fc
    .oneof(
      jsonish,
      fc.record({ downloadCode: fc.oneof(fc.string(), fc.integer()), recognition: text, duration: jsonish }, { requiredKeys: [] }),
      fc.record({ richText: fc.array(fc.record({ text: jsonish, type: fc.constantFrom("text", "picture", "at", "x") }), { maxLength: 5 }) }),
    )
    .chain((c) => fc.boolean().map((asString) => (asString ? JSON.stringify(c) : c)))
    .map((c): Mutation => (b) => void (b.content = c)),
  fc.constantFrom(1, 2, "3", 1.5, -1, 1e308, "1700000000000", "abc").map((v): Mutation => (b) => void (b.createAt = v)),
  fc.constantFrom("1", "2", 1, 2, "0", 3, null, "group").map((v): Mutation => (b) => void (b.conversationType = v)),
  fc
    .oneof({ weight: 4, arbitrary: fc.integer({ min: 20_000, max: 70_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 340_000, max: 370_000 }) })
    .map((n): Mutation => (b) => void (b.text = { content: "长".repeat(n) })),
  fc
    .tuple(fc.constantFrom("msgId", "conversationId", "robotCode", "senderStaffId", "senderId", "senderNick"), fc.integer({ min: 600, max: 5_000 }))
    .map(([k, n]): Mutation => (b) => void (b[k] = "x".repeat(n))),
);
const signedBody = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(baseBody, fc.array(mutation, { maxLength: 4 })).map(([b, ms]) => (ms.forEach((m) => m(b)), JSON.stringify(b))) },
  { weight: 1, arbitrary: fc.tuple(baseBody, fc.nat()).map(([b, cut]) => { const s = JSON.stringify(b); return s.slice(0, cut % s.length); }) },
  { weight: 1, arbitrary: jsonish.map((v) => JSON.stringify(v) ?? "") },
  { weight: 1, arbitrary: text },
);
const anyBody = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 3_000 }).map((a) => Buffer.from(a)) },
  { weight: 4, arbitrary: text.map((t) => Buffer.from(t)) },
  { weight: 4, arbitrary: signedBody.map((t) => Buffer.from(t)) },
  { weight: 1, arbitrary: fc.integer({ min: 1_048_000, max: 1_049_600 }).map((n) => Buffer.alloc(n, 0x7b)) },
);

function signedHeadersArb(): fc.Arbitrary<CallbackRequest["headers"]> {
  return fc
    .record({ skew: fc.integer({ min: -HOUR + 60_000, max: HOUR - 60_000 }), upper: fc.boolean(), extra: fc.dictionary(headerName, headerValue, { maxKeys: 3 }) })
    .map(({ skew, upper, extra }): CallbackRequest["headers"] => {
      const h = signedHeaders(CLIENT_SECRET, Date.now() + skew);
      const auth = upper ? { Timestamp: h.timestamp, SIGN: h.sign } : { timestamp: h.timestamp, sign: h.sign };
      // One request cannot carry a header twice under two spellings: extra headers never shadow the signature.
      const others = Object.fromEntries(Object.entries(extra).filter(([k]) => !["timestamp", "sign"].includes(k.toLowerCase())));
      return { ...others, "content-type": h["content-type"], ...auth };
    });
}

function deps(): CallbackDeps {
  return {
    ...rig.callback,
    idempotency: new IdempotencyStore(rig.workers[0]!.table, { log: rig.w.log }),
    now: Date.now,
    dispatch: (job) => (jobs.push(job), Promise.resolve()),
  };
}

function checkResponse(res: { status: number; body: string }, allowed: Set<number>): void {
  expect(allowed.has(res.status), `status ${res.status}: ${res.body.slice(0, 200)}`).toBe(true);
  const parsed = JSON.parse(res.body) as Record<string, unknown>;
  if (res.status === 200) expect(parsed).toEqual({ msgtype: "empty" });
  else expect(typeof parsed.error).toBe("string");
  if (responseBodies.length < 5_000) responseBodies.push(res.body);
}

const token = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,16}$/);
const rawHttp = fc
  .record({
    method: fc.oneof(
      { weight: 8, arbitrary: fc.constant("POST") },
      { weight: 1, arbitrary: fc.constantFrom("GET", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH") },
      { weight: 1, arbitrary: token },
      { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    ),
    path: fc.oneof(
      { weight: 8, arbitrary: fc.constant("/callback") },
      { weight: 2, arbitrary: fc.constantFrom("/callback?x=1", "/healthz", "////", "//callback", "/callback/../callback", "*", "//x:y/callback") },
      { weight: 1, arbitrary: fc.webPath() },
      { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    ),
    version: fc.oneof({ weight: 9, arbitrary: fc.constant("HTTP/1.1") }, { weight: 1, arbitrary: fc.constantFrom("HTTP/1.0", "HTTP/2.0", "HTTP/1.1x") }),
    signed: fc.boolean(),
    headers: fc.array(
      fc.tuple(
        fc.oneof({ weight: 4, arbitrary: token }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }),
        fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 40 }) }, { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) }),
      ),
      { maxLength: 5 },
    ),
    hugeHeader: fc.option(fc.integer({ min: 4_000, max: 20_000 }), { freq: 12 }),
    body: fc.oneof(signedBody, fc.string({ unit: "binary", maxLength: 500 }), fc.constant("")),
    framing: fc.constantFrom("exact", "exact", "short", "long", "chunked", "bad-chunked", "none"),
  })
  .map((r) => {
    const body = Buffer.from(r.body);
    const lines = [`${r.method} ${r.path} ${r.version}`, "Host: 127.0.0.1"];
    if (r.signed) {
      const h = signedHeaders(CLIENT_SECRET);
      lines.push(`timestamp: ${h.timestamp}`, `sign: ${h.sign}`, "content-type: application/json");
    }
    for (const [k, v] of r.headers) lines.push(`${k}: ${v}`);
    if (r.hugeHeader) lines.push(`x-huge: ${"h".repeat(r.hugeHeader)}`);
    let payload = body;
    if (r.framing === "exact") lines.push(`content-length: ${body.length}`);
    if (r.framing === "short") lines.push(`content-length: ${body.length + 50}`);
    if (r.framing === "long") lines.push(`content-length: ${Math.max(0, body.length - 5)}`);
    if (r.framing === "chunked" || r.framing === "bad-chunked") {
      lines.push("transfer-encoding: chunked");
      const size = r.framing === "chunked" ? body.length.toString(16) : "zz";
      payload = Buffer.concat([Buffer.from(`${size}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")]);
    }
    return { bytes: Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), payload]), truncated: r.framing === "short" };
  });

// ── tests ────────────────────────────────────────────────────────────────────────────────────────

describe("callback fuzzing", () => {
  it(`${UNSIGNED_RUNS} arbitrary requests (methods, headers, bodies, sizes) → only 200/400/401/405/413 (seed ${SEED})`, async () => {
    const d = deps();
    await fc.assert(
      fc.asyncProperty(method, headers, anyBody, async (m, h, body) => {
        const res = await handleCallback({ method: m, headers: h, body, requestId: "fuzz" }, d);
        count("unsigned", res.status);
        checkResponse(res, INVALID_STATUSES);
      }),
      { seed: SEED, numRuns: UNSIGNED_RUNS },
    );
  }, 120_000);

  it(`${SIGNED_RUNS} validly signed requests with fuzzed bodies → only 200/400/413 (seed ${SEED})`, async () => {
    const d = deps();
    // Four property runs side by side (seeds SEED+10 … SEED+13): most of these requests wait on the table.
    await Promise.all(
      [0, 1, 2, 3].map((k) =>
        fc.assert(
          fc.asyncProperty(signedHeadersArb(), signedBody, async (h, body) => {
            const res = await handleCallback({ method: "POST", headers: h, body: Buffer.from(body), requestId: "fuzz" }, d);
            count("signed", res.status);
            checkResponse(res, SIGNED_STATUSES);
          }),
          { seed: SEED + 10 + k, numRuns: Math.ceil(SIGNED_RUNS / 4) },
        ),
      ),
    );
    expect(jobs.length).toBeGreaterThan(SIGNED_RUNS / 20);
  }, 120_000);

  it("the worker survives the accepted fuzzed jobs (done, invalid, skipped, or a retryable error; never a hang)", async () => {
    const sample = jobs.slice(0, 24);
    const outcomes = new Map<string, number>();
    await pool(sample, 4, async (job) => {
      const outcome = await Promise.race([
        processJob(job, rig.workers[0]!).then(
          (o) => o.status,
          (err: unknown) => (err instanceof Error ? `throws ${err.name}` : "throws a non-Error"),
        ),
        delay(15_000).then(() => "hang"),
      ]);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    });
    summary("callback-fuzz-worker", { seed: SEED, jobs: sample.length, ...Object.fromEntries(outcomes) });
    expect(outcomes.has("hang")).toBe(false);
    expect(outcomes.has("throws a non-Error")).toBe(false);
  }, 120_000);

  it(`${RAW_HTTP_RUNS} raw requests and ${FETCH_RUNS} fuzzed POSTs over real sockets → never 5xx, always answered, /healthz stays up (seed ${SEED})`, async () => {
    const port = Number(new URL(gateway.url).port);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(rawHttp, async ({ bytes, truncated }) => {
        const status = await rawStatus(port, bytes, truncated);
        count("raw", status);
        if (status !== "closed") expect(RAW_STATUSES.has(status), `status ${status} for ${bytes.subarray(0, 120).toString("latin1")}`).toBe(true);
        if (++runs % 50 === 0) expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
      }),
      { seed: SEED + 2, numRuns: RAW_HTTP_RUNS },
    );
    // Well-formed HTTP with fuzzed headers and bodies, so every request reaches the callback handler.
    await fc.assert(
      fc.asyncProperty(fc.boolean(), headers, signedHeadersArb(), anyBody, async (signed, unsignedHeaders, signedH, body) => {
        const h = Object.entries(signed ? signedH : unsignedHeaders).flatMap(([k, v]): [string, string][] =>
          /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) && k.toLowerCase() !== "content-length"
            ? (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x) => /^[\t\x20-\x7e]*$/.test(x)).map((x): [string, string] => [k, x.trim()])
            : [],
        );
        const res = await fetch(`${gateway.url}/callback`, { method: "POST", headers: h, body: body ?? "" });
        const answer = await res.text();
        count("http", res.status);
        if (res.status === 431) return; // Node's own answer to more than 16 KB of headers
        checkResponse({ status: res.status, body: answer }, INVALID_STATUSES);
      }),
      { seed: SEED + 4, numRuns: FETCH_RUNS },
    );
    await gateway.dispatcher.idle();
    const health = await fetch(`${gateway.url}/healthz`);
    expect(health.status).toBe(200);
    expect(rig.lines.filter((l) => l.includes('"request failed"'))).toEqual([]);
  }, 120_000);

  it(`${STREAM_FRAMES} fuzzed Stream frames → the connection keeps answering real messages (seed ${SEED})`, async () => {
    const dt = rig.w.dt;
    await dt.stream.waitForConnection(CLIENT_ID, 10_000);
    const frame = fc.oneof(
      text,
      jsonish.map((v) => JSON.stringify(v) ?? ""),
      fc
        .record({
          type: fc.constantFrom("CALLBACK", "SYSTEM", "EVENT", "x"),
          headers: fc.record({ topic: fc.constantFrom("/v1.0/im/bot/messages/get", "ping", "disconnect", "x"), messageId: fc.oneof(fc.uuid(), fc.constant(undefined)) }, { requiredKeys: [] }),
          data: fc.oneof(signedBody, text, jsonish),
        }, { requiredKeys: [] })
        .map((f) => JSON.stringify(f)),
    );
    await fc.assert(
      fc.asyncProperty(frame, async (raw) => {
        dt.stream.sendRaw(CLIENT_ID, raw);
        await delay(0);
      }),
      { seed: SEED + 3, numRuns: STREAM_FRAMES },
    );
    await gateway.dispatcher.idle();
    // A fuzzed SYSTEM "disconnect" frame makes the gateway reconnect, as it should: wait for a live socket.
    await dt.stream.waitForConnection(CLIENT_ID, 10_000);
    const before = dt.sent().length;
    const id = dt.stream.push(CLIENT_ID, rig.w.message({ text: "rq424242z 还在吗", staffId: "fz-alive", conversationId: "cidFuzzAlive==" }));
    expect((await dt.stream.waitForAck(id, 10_000)).frame).toMatchObject({ code: 200 });
    for (let i = 0; i < 200 && dt.sent().length === before; i++) await delay(25);
    expect(dt.sent().slice(before).some((s) => s.text?.includes("rq424242z"))).toBe(true);
    expect(gateway.stream!.state).not.toBe("stopped");
  }, 60_000);

  it("no secret in any log line or response; prints the summary", () => {
    const scanned = expectNoSecrets(rig, responseBodies, SEED);
    const requests = [...statusCounts].filter(([k]) => k.startsWith("unsigned") || k.startsWith("signed")).reduce((a, [, n]) => a + n, 0);
    summary("callback-fuzz", {
      seed: SEED,
      inProcessRequests: requests,
      rawHttpRequests: RAW_HTTP_RUNS,
      httpPosts: FETCH_RUNS,
      streamFrames: STREAM_FRAMES,
      acceptedJobs: jobs.length,
      fiveXx: [...statusCounts].filter(([k]) => /:5\d\d$/.test(k)).length,
      linesScanned: scanned,
      durationS: ((performance.now() - startedAt) / 1000).toFixed(1),
      statuses: [...statusCounts].map(([k, n]) => `${k}=${n}`).join(","),
    });
    expect(requests).toBeGreaterThanOrEqual(10_000);
  }, 10_000);
});
