// The worker's job under retries: ingest → processJob, redeliveries, a crash after sending (never
// resent), a crash before sending (answer reused, no second LLM call), and the HTTP callback's codes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { handleCallback, type CallbackDeps } from "../../functions/core/http-callback.js";
import { ingest } from "../../functions/core/ingest.js";
import type { Job } from "../../functions/core/job.js";
import { LocalDispatcher } from "../../functions/core/local-dispatch.js";
import { processJob, type WorkerDeps } from "../../functions/core/process-job.js";
import { createRuntime } from "../../functions/core/runtime.js";
import type { ConversationStore } from "../../functions/core/store/conversations.js";
import { IdempotencyStore } from "../../functions/core/store/idempotency.js";
import { openDynamoTable } from "../../functions/core/store/dynamodb/open.js";
import { signedHeaders } from "../helpers/messages.js";
import { CLIENT_ID, CLIENT_SECRET, startWorld, type World } from "../helpers/world.js";

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(() => w.close());
afterEach(() => {
  w.dt.reset();
  w.llm.reset();
});

function recorder() {
  const jobs: Job[] = [];
  return { jobs, dispatch: (job: Job) => (jobs.push(job), Promise.resolve()) };
}

async function accept(body: Record<string, unknown>, jobs = recorder()) {
  const result = await ingest(w.parse(body), body, { ...w.runtime, robotCode: CLIENT_ID, dispatch: jobs.dispatch });
  return { result, jobs: jobs.jobs };
}

describe("processJob", () => {
  it("answers once; a redelivered message and a replayed job do nothing more", async () => {
    const body = w.message({ text: "只回答一次" });
    const rec = recorder();
    expect((await accept(body, rec)).result.status).toBe("accepted");
    expect((await accept(body, rec)).result).toMatchObject({ status: "duplicate", state: "in_progress" });
    expect(rec.jobs).toHaveLength(1);

    expect(await processJob(rec.jobs[0], w.runtime)).toMatchObject({ status: "done" });
    expect(await processJob(rec.jobs[0], w.runtime)).toEqual({ status: "skipped", reason: "completed" });
    expect((await accept(body, rec)).result).toMatchObject({ status: "duplicate", state: "completed" });
    expect(w.dt.sent()).toHaveLength(1);
    expect(w.llm.chatRequests()).toHaveLength(1);
  });

  it("returns only once every DingTalk call it made is counted in the table, however slow the count", async () => {
    const slowTable = await openDynamoTable(w.config.table);
    slowTable.client.middlewareStack.add(
      (next) => async (args) => {
        const names = (args.input as { ExpressionAttributeNames?: Record<string, string> }).ExpressionAttributeNames;
        if (Object.values(names ?? {}).includes("calls")) await new Promise((r) => setTimeout(r, 150));
        return next(args);
      },
      { step: "initialize" },
    );
    try {
      const runtime = createRuntime(w.config, slowTable, { log: w.log, sleep: () => Promise.resolve() });
      const { jobs } = await accept(w.message({ text: "数一数调用", staffId: "count-user" }));
      const before = (await runtime.apiUsage!.month()).calls;
      const calls = w.dt.calls.length;
      expect(await processJob(jobs[0], runtime)).toMatchObject({ status: "done" });
      expect(w.dt.calls.length).toBeGreaterThan(calls);
      expect((await runtime.apiUsage!.month()).calls - before).toBe(w.dt.calls.length - calls);
    } finally {
      await slowTable.close();
    }
  });

  it("reads the conversation alongside the claim renewal, and not for a command", async () => {
    const order: string[] = [];
    const idempotency = Object.assign(Object.create(w.runtime.idempotency) as IdempotencyStore, {
      resume: async (...args: Parameters<IdempotencyStore["resume"]>) => {
        order.push("renew start");
        const held = await w.runtime.idempotency.resume(...args);
        order.push("renew end");
        return held;
      },
    });
    const conversations = Object.assign(Object.create(w.runtime.conversations) as ConversationStore, {
      load: (key: string) => (order.push("conversation load"), w.runtime.conversations.load(key)),
    });
    const deps: WorkerDeps = { ...w.runtime, idempotency, conversations };
    const answer = await accept(w.message({ text: "并行读取", staffId: "parallel-reads" }));
    expect(await processJob(answer.jobs[0], deps)).toMatchObject({ status: "done", outcome: { kind: "answer" } });
    expect(order).toEqual(["conversation load", "renew start", "renew end"]);

    order.length = 0;
    const command = await accept(w.message({ text: "/help", staffId: "parallel-reads" }));
    expect(await processJob(command.jobs[0], deps)).toMatchObject({ status: "done", outcome: { kind: "help" } });
    expect(order).toEqual(["renew start", "renew end"]);
  });

  it("a crash after the reply was sent (and recorded with the completion) never resends it", async () => {
    const { jobs } = await accept(w.message({ text: "发送后崩溃" }));
    const idempotency = new IdempotencyStore(w.db.table);
    const crashing: WorkerDeps = {
      ...w.runtime,
      idempotency: Object.assign(Object.create(idempotency) as IdempotencyStore, {
        complete: (...args: Parameters<IdempotencyStore["complete"]>) =>
          idempotency.complete(...args).then(() => Promise.reject(new Error("instance died"))),
      }),
    };
    await expect(processJob(jobs[0], crashing)).rejects.toThrow("instance died");
    expect(await processJob(jobs[0], w.runtime)).toEqual({ status: "skipped", reason: "completed" });
    expect(w.dt.sent()).toHaveLength(1);
  });

  it("a crash before sending is finished by the retry with the stored answer, no second LLM call", async () => {
    const { jobs } = await accept(w.message({ text: "发送前崩溃", staffId: "crash-before" }));
    w.dt.fault({ route: "robot.sendBySession", status: 500, times: 4 });
    w.dt.fault({ route: "robot.oToMessages.batchSend", status: 500, times: 4 });
    await expect(processJob(jobs[0], w.runtime)).rejects.toThrow();
    expect(w.dt.sent()).toHaveLength(0);

    expect(await processJob(jobs[0], w.runtime)).toMatchObject({ status: "done", outcome: { reused: true } });
    expect(w.dt.sent()).toHaveLength(1);
    expect(w.llm.chatRequests()).toHaveLength(1);
  });

  it("a crash between the parts of a long reply resends only the parts not yet delivered", async () => {
    const { jobs } = await accept(w.message({ text: "写一篇长文", staffId: "parts-user" }));
    const long = Array.from({ length: 24 }, (_, i) => `第${i + 1}段：${"内容很长的一段中文。".repeat(40)}`).join("\n\n");
    w.llm.script({ text: long });
    let sends = 0;
    const crashing: WorkerDeps = {
      ...w.runtime,
      send: (target, message) => (++sends === 2 ? Promise.reject(new Error("instance died")) : w.runtime.send(target, message)),
    };
    await expect(processJob(jobs[0], crashing)).rejects.toThrow("instance died");
    expect(w.dt.sent()).toHaveLength(1);

    expect(await processJob(jobs[0], w.runtime)).toMatchObject({ status: "done", outcome: { reused: true } });
    const texts = w.dt.sent().map((s) => s.text!);
    const total = texts.length;
    expect(total).toBeGreaterThan(2);
    expect(texts.map((t) => /\((\d+)\/\d+\)$/.exec(t)?.[1])).toEqual(Array.from({ length: total }, (_, i) => String(i + 1)));
  });

  it("drops an invalid job without throwing (a retry could not help)", async () => {
    expect(await processJob({ v: 2 }, w.runtime)).toMatchObject({ status: "invalid" });
    expect(await processJob({ v: 1, body: { msgId: 5 }, claim: { key: "k", token: "t" }, receivedAt: 1 }, w.runtime)).toMatchObject({
      status: "invalid",
    });
  });

  it("the local dispatcher retries a failing job like FC's async queue", async () => {
    let calls = 0;
    const dispatcher = new LocalDispatcher({
      log: w.log,
      retries: 2,
      sleep: () => Promise.resolve(),
      run: () => (++calls < 3 ? Promise.reject(new Error("boom")) : Promise.resolve()),
    });
    await dispatcher.dispatch({ v: 1, body: {}, claim: { key: "k", token: "t" }, receivedAt: 0 });
    await dispatcher.idle();
    expect(calls).toBe(3);
    expect(await dispatcher.close(1000)).toBe(true);
    await expect(dispatcher.dispatch({ v: 1, body: {}, claim: { key: "k", token: "t" }, receivedAt: 0 })).rejects.toThrow(/shutting down/);
  });
});

describe("handleCallback", () => {
  const deps = (over: Partial<CallbackDeps> = {}): CallbackDeps => ({
    ...w.runtime,
    robotCode: CLIENT_ID,
    secret: CLIENT_SECRET,
    dispatch: () => Promise.resolve(),
    ...over,
  });
  const post = (body: unknown, headers = signedHeaders(CLIENT_SECRET), over: Partial<CallbackDeps> = {}) =>
    handleCallback({ method: "POST", headers, body: Buffer.from(typeof body === "string" ? body : JSON.stringify(body)) }, deps(over));

  it("maps every case to the right status", async () => {
    const body = w.message({ text: "状态码" });
    expect((await post(body)).status).toBe(200);
    expect((await post(body)).status).toBe(200);
    expect((await post(w.message(), signedHeaders("wrong-secret-0000"))).status).toBe(401);
    expect((await post(w.message(), signedHeaders(CLIENT_SECRET, Date.now() - 2 * 3_600_000))).status).toBe(401);
    expect((await post(w.message(), { timestamp: String(Date.now()) })).status).toBe(401);
    expect((await post("{not json", signedHeaders(CLIENT_SECRET))).status).toBe(400);
    const bad = await post({ msgId: 1 });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toHaveProperty("error");
    expect((await handleCallback({ method: "GET", headers: {}, body: Buffer.alloc(0) }, deps())).status).toBe(405);
    expect((await handleCallback({ method: "POST", headers: {}, body: Buffer.alloc(1024 * 1024 + 1) }, deps())).status).toBe(413);
    expect((await post(w.message(), signedHeaders(CLIENT_SECRET), { secret: undefined })).status).toBe(503);
    const failing = await post(w.message(), signedHeaders(CLIENT_SECRET), { dispatch: () => Promise.reject(new Error("x")) });
    expect(failing.status).toBe(503);
    const down = await post(w.message(), signedHeaders(CLIENT_SECRET), {
      idempotency: { claim: () => Promise.reject(new Error("ECONNREFUSED")), release: () => Promise.resolve() },
    });
    expect(down.status).toBe(503);
  });

  it("a dispatch failure releases the claim so DingTalk's retry is processed", async () => {
    const body = w.message({ text: "重试" });
    expect((await post(body, signedHeaders(CLIENT_SECRET), { dispatch: () => Promise.reject(new Error("x")) })).status).toBe(503);
    const rec = recorder();
    expect((await post(body, signedHeaders(CLIENT_SECRET), { dispatch: rec.dispatch })).status).toBe(200);
    expect(rec.jobs).toHaveLength(1);
  });
});
