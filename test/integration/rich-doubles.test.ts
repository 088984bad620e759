// The doubles' rich-message features through the real clients: the DingTalk double's card platform
// (errors as DingTalk gives them, idempotent guids, statuses), its monthly quota and quota fault, and
// the LLM double refusing images for non-vision models and malformed data URLs.
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DingTalkClient } from "../../functions/core/dingtalk/client.js";
import { createCard, streamCard, type CardTemplate } from "../../functions/core/dingtalk/cards.js";
import { DingTalkApiError } from "../../functions/core/dingtalk/http.js";
import type { ReplyTarget } from "../../functions/core/dingtalk/outgoing.js";
import { startDingTalkDouble, type DingTalkDouble } from "../doubles/dingtalk/index.js";
import { startLlmDouble, type LlmDouble } from "../doubles/llm/server.js";
import { PNG } from "../helpers/images.js";
import { rejection } from "../helpers/rejection.js";

const APP = { clientId: "dingcards", clientSecret: "cards-secret-0001" };
const TEMPLATE: CardTemplate = { templateId: "tpl-1.schema", contentKey: "content" };
let dt: DingTalkDouble;
let llm: LlmDouble;
let client: DingTalkClient;
const counted: string[] = [];

beforeAll(async () => {
  dt = await startDingTalkDouble({ apps: [APP, { clientId: "dingother", clientSecret: "other-secret-0001" }] });
  dt.cardTemplate(TEMPLATE.templateId);
  llm = await startLlmDouble({ visionModels: ["qwen-vl-plus"] });
  client = new DingTalkClient({
    credentials: { ...APP, robotCode: APP.clientId },
    apiBase: dt.url,
    oapiBase: dt.url,
    sleep: () => Promise.resolve(),
    onApiCall: (api) => {
      counted.push(api);
    },
  });
});
afterAll(async () => {
  await dt.close();
  await llm.close();
});
beforeEach(() => {
  dt.reset();
  counted.length = 0;
});

const direct: ReplyTarget = { conversationType: "direct", conversationId: "cidD", staffId: "u1", robotCode: APP.clientId };
const group: ReplyTarget = { conversationType: "group", conversationId: "cidG==", robotCode: APP.clientId };

const failure = (p: Promise<unknown>) => rejection(p, DingTalkApiError);

describe("DingTalk double: AI cards", () => {
  it("creates, streams (full text, idempotent guid) and finalizes; a second create says the card exists", async () => {
    expect(await createCard(client, TEMPLATE, "card-a", direct)).toEqual({ existed: false });
    expect(dt.card("card-a")).toMatchObject({ spaceType: "IM_ROBOT", spaceId: "u1", status: "processing", params: { content: "" } });
    await streamCard(client, TEMPLATE, "card-a", { content: "半句" });
    expect(dt.card("card-a")).toMatchObject({ status: "inputting", params: { content: "半句" } });
    await streamCard(client, TEMPLATE, "card-a", { content: "整句话。", finalize: true });
    expect(dt.card("card-a")).toMatchObject({ status: "finished", params: { content: "整句话。" } });
    expect(await createCard(client, TEMPLATE, "card-a", direct)).toEqual({ existed: true });
    expect(dt.callsTo("card.createAndDeliver").map((c) => c.status)).toEqual([200, 400]);
    expect(counted.filter((a) => a.startsWith("card."))).toEqual(["card.createAndDeliver", "card.streaming", "card.streaming", "card.createAndDeliver"]);

    const update = dt.card("card-a")!.updates[0]!;
    const replay = await fetch(`${dt.url}/v1.0/card/streaming`, {
      method: "PUT",
      headers: { "content-type": "application/json", "x-acs-dingtalk-access-token": await client.accessToken() },
      body: JSON.stringify({ outTrackId: "card-a", guid: update.guid, key: "content", content: "重放", isFull: true }),
    });
    expect(replay.status).toBe(200);
    expect(dt.card("card-a")).toMatchObject({ status: "finished", params: { content: "整句话。" } });
    expect(dt.card("card-a")!.updates.at(-1)!.duplicate).toBe(true);
  });

  it("answers DingTalk's error codes for bad templates, spaces, robots and updates", async () => {
    expect((await failure(createCard(client, { ...TEMPLATE, templateId: "nope.schema" }, "c1", group))).code).toBe("param.templateNotExist");
    expect((await failure(createCard(client, TEMPLATE, "c2", { ...group, robotCode: "dingother" }))).code).toBe("invalidParameter.robotCode.auth");
    await createCard(client, TEMPLATE, "c3", group);
    expect(dt.card("c3")).toMatchObject({ spaceType: "IM_GROUP", spaceId: "cidG==" });
    expect((await failure(streamCard(client, TEMPLATE, "missing", { content: "x" }))).code).toBe("param.stream.outTrackId");
    const big = await failure(streamCard(client, TEMPLATE, "c3", { content: "超".repeat(1025) }));
    expect(big).toMatchObject({ code: "param.stream.content", status: 400, retryable: false });
    await streamCard(client, TEMPLATE, "c3", { content: "满".repeat(1024) });
    expect(dt.card("c3")!.params.content).toBe("满".repeat(1024));
    const raw = (body: object) =>
      client.accessToken().then((token) =>
        fetch(`${dt.url}/v1.0/card/streaming`, {
          method: "PUT",
          headers: { "content-type": "application/json", "x-acs-dingtalk-access-token": token },
          body: JSON.stringify(body),
        }).then((r) => r.json() as Promise<{ code: string }>),
      );
    expect((await raw({ outTrackId: "c3", key: "content", content: "x", isFull: true })).code).toBe("param.stream.guidEmpty");
    expect((await raw({ outTrackId: "c3", guid: "g", content: "x", isFull: true })).code).toBe("param.stream.keyEmpty");
    expect((await raw({ outTrackId: "c3", guid: "g", key: "content", content: "x" })).code).toBe("param.stream.isFull");
    expect((await raw({ outTrackId: "c3", guid: "g", key: "content", content: "", isFull: true })).code).toBe("param.stream.contentEmpty");
    const badSpace = await fetch(`${dt.url}/v1.0/card/instances/createAndDeliver`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-acs-dingtalk-access-token": await client.accessToken() },
      body: JSON.stringify({ cardTemplateId: TEMPLATE.templateId, outTrackId: "c4", cardData: { cardParamMap: {} }, openSpaceId: "IM_GROUP.cidG" }),
    });
    expect(((await badSpace.json()) as { code: string }).code).toBe("param.openSpaceIdInvalid");
  });

  it("answers the monthly-quota error on demand and once the quota is used up", async () => {
    dt.fault({ route: "card.streaming", quota: true });
    await createCard(client, TEMPLATE, "q1", direct);
    const refused = await failure(streamCard(client, TEMPLATE, "q1", { content: "x" }));
    expect(refused).toMatchObject({ status: 403, code: "Forbidden.AccessDenied.ApiCountLimitForOrg", retryable: false });

    dt.setMonthlyQuota(2);
    await streamCard(client, TEMPLATE, "q1", { content: "一" });
    await client.send(group, { kind: "markdown", title: "t", text: "二" });
    const over = await failure(streamCard(client, TEMPLATE, "q1", { content: "三" }));
    expect(over.code).toBe("Forbidden.AccessDenied.ApiCountLimitForOrg");
    dt.expireTokens();
    expect(await client.accessToken()).toBeTruthy();
    dt.setMonthlyQuota(undefined);
    await streamCard(client, TEMPLATE, "q1", { content: "四", finalize: true });
    expect(dt.card("q1")).toMatchObject({ status: "finished", params: { content: "四" } });
  });
});

describe("LLM double: images", () => {
  const sdk = () => new OpenAI({ apiKey: "k", baseURL: llm.url, maxRetries: 0 });
  const image = `data:image/png;base64,${PNG.toString("base64")}`;
  const ask = (model: string, url: string) =>
    sdk().chat.completions.create({
      model,
      messages: [{ role: "user", content: [{ type: "text", text: "看图" }, { type: "image_url", image_url: { url } }] }],
    });

  it("accepts and records images for vision models, refuses them for others and refuses bad data URLs", async () => {
    const ok = await ask("qwen-vl-plus", image);
    expect(ok.choices[0]!.message.content).toBe("echo: 看图");
    expect(llm.chatRequests().at(-1)!.images).toEqual([image]);
    await expect(ask("glm-4.7", image)).rejects.toMatchObject({ status: 400 });
    await expect(ask("qwen-vl-plus", "data:image/png;base64,@@@")).rejects.toMatchObject({ status: 400 });
    expect(llm.chatRequests().map((r) => r.served)).toEqual(["default", "400", "400"]);
  });
});
