// Messages the table could never hold (an id longer than a key allows, a time beyond any date) are
// refused at the door with a 400, instead of a 503 DingTalk would retry forever or a job that fails 4×.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleCallback, type CallbackDeps } from "../../functions/core/http-callback.js";
import { MAX_ID_BYTES } from "../../functions/core/dingtalk/inbound.js";
import type { Job } from "../../functions/core/job.js";
import { processJob } from "../../functions/core/process-job.js";
import { signedHeaders } from "../helpers/messages.js";
import { CLIENT_ID, CLIENT_SECRET, startWorld, type World } from "../helpers/world.js";

let w: World;
const jobs: Job[] = [];
beforeAll(async () => {
  w = await startWorld();
});
afterAll(() => w.close());

const deps = (): CallbackDeps => ({
  ...w.runtime,
  robotCode: CLIENT_ID,
  secret: CLIENT_SECRET,
  dispatch: (job) => (jobs.push(job), Promise.resolve()),
});
const post = (body: Record<string, unknown>) =>
  handleCallback({ method: "POST", headers: signedHeaders(CLIENT_SECRET), body: Buffer.from(JSON.stringify(body)) }, deps());

describe("ingest limits", () => {
  it.each([
    ["msgId", { msgId: "m".repeat(MAX_ID_BYTES + 1) }],
    ["robotCode", { robotCode: "r".repeat(3_000) }],
    ["conversationId", { conversationId: "会".repeat(200) }],
    ["senderStaffId", { senderStaffId: "s".repeat(MAX_ID_BYTES + 1) }],
    ["createAt", { createAt: 1e130 }],
  ])("refuses a message whose %s the table cannot hold with 400, claiming nothing", async (field, over) => {
    const before = jobs.length;
    const res = await post({ ...w.message({ text: "边界" }), ...over });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: expect.stringContaining(`field ${field}`) as unknown });
    expect(jobs).toHaveLength(before);
  });

  it("accepts ids of exactly the limit, and the worker answers", async () => {
    const body = { ...w.message({ text: "刚好" }), msgId: "m".repeat(MAX_ID_BYTES), createAt: Date.now() };
    expect((await post(body)).status).toBe(200);
    expect(await processJob(jobs.at(-1), w.runtime)).toMatchObject({ status: "done" });
    expect(w.dt.sent()).toHaveLength(1);
  });
});
