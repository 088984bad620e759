// AI cards in the DingTalk double (reference §5): registered templates, card instances made by
// `createAndDeliver`, and every streaming update (`PUT /v1.0/card/streaming`) applied and recorded,
// with DingTalk's error codes for unknown templates, duplicate ids, bad spaces and bad updates.
import * as z from "zod";
import { apiError, json, type DoubleRequest, type DoubleResponse, type Route } from "./router.js";
import { checkAccessToken } from "./routes/auth.js";
import { requestId, type DoubleState } from "./state.js";

export type CardStatus = "processing" | "inputting" | "finished" | "failed";

export interface CardUpdate {
  guid: string;
  key: string;
  content: string;
  isFull: boolean;
  isFinalize: boolean;
  isError: boolean;
  time: number;
  /** A repeated guid: acknowledged, not applied. */
  duplicate: boolean;
}

export interface CardInstance {
  outTrackId: string;
  templateId: string;
  robotCode: string;
  spaceType: "IM_GROUP" | "IM_ROBOT";
  /** openConversationId (groups) or the staff id (1:1). */
  spaceId: string;
  callbackType: string | undefined;
  /** cardParamMap as created, then as streamed. */
  params: Record<string, string>;
  status: CardStatus;
  updates: CardUpdate[];
  createdAt: number;
}

/**
 * The streaming update's content limits, from "AI卡片流式更新" (PUT /v1.0/card/streaming,
 * open.dingtalk.com/document/development/api-streamingupdate): "内容 size 单次不要超过 1 K，总大小建议
 * 不要超过 3 K", error 400 `param.stream.content` "content is too large". Read here as: an appended
 * piece (`isFull: false`) at most 1 KB, the variable's whole content (what an `isFull: true` update
 * carries, and what appends add up to) at most 3 KB. Users report what happens past it on real
 * DingTalk: blank cards and updates failing mid-answer (soimy/openclaw-channel-dingtalk issues 615, 292).
 */
export interface CardSettings {
  /** Bytes of one appended piece (`isFull: false`); default 1024. */
  maxAppendBytes: number;
  /** Bytes of the variable's whole content after the update; default 3072. */
  maxContentBytes: number;
}

const s = z.string();
const CreateBody = z.looseObject({
  cardTemplateId: s.min(1),
  outTrackId: s.min(1).max(128),
  cardData: z.looseObject({ cardParamMap: z.record(s, s) }),
  callbackType: z.enum(["STREAM", "HTTP"]).optional(),
  openSpaceId: s,
  userIdType: z.number().optional(),
  imGroupOpenDeliverModel: z.looseObject({ robotCode: s.min(1) }).optional(),
  imRobotOpenDeliverModel: z.looseObject({ spaceType: z.literal("IM_ROBOT"), robotCode: s.optional() }).optional(),
});
const StreamBody = z.looseObject({
  outTrackId: s.optional(),
  guid: s.optional(),
  key: s.optional(),
  content: s.optional(),
  isFull: z.unknown().optional(),
  isFinalize: z.boolean().optional(),
  isError: z.boolean().optional(),
});

const fail = (code: string, message: string): DoubleResponse => apiError(400, code, message, requestId());

export class CardPlatform {
  readonly templates = new Set<string>();
  readonly instances = new Map<string, CardInstance>();
  readonly settings: CardSettings = { maxAppendBytes: 1024, maxContentBytes: 3072 };

  constructor(private readonly state: DoubleState) {
    state.resetHooks.push(() => this.reset());
  }

  list(): CardInstance[] {
    return [...this.instances.values()];
  }

  reset(): void {
    this.instances.clear();
  }

  create(req: DoubleRequest): DoubleResponse {
    const auth = checkAccessToken(req, this.state);
    if (!auth.ok) return auth.response;
    const parsed = CreateBody.safeParse(req.json);
    if (!parsed.success) {
      const field = parsed.error.issues[0]?.path.join(".") || "body";
      return fail(`invalidParameter.${field}`, `参数错误：${field}`);
    }
    const b = parsed.data;
    if (!this.templates.has(b.cardTemplateId)) return fail("param.templateNotExist", "卡片模板不存在");
    if (this.instances.has(b.outTrackId)) return fail("param.cardAlreadyExist", "卡片已存在");
    const space = /^dtv1\.card\/\/(IM_GROUP|IM_ROBOT)\.(.+)$/.exec(b.openSpaceId);
    if (!space) return fail("param.openSpaceIdInvalid", "openSpaceId不合法");
    const spaceType = space[1] as CardInstance["spaceType"];
    const app = this.state.apps.get(auth.token.clientId)!;
    const deliverRobot = spaceType === "IM_GROUP" ? b.imGroupOpenDeliverModel?.robotCode : b.imRobotOpenDeliverModel ? (b.imRobotOpenDeliverModel.robotCode ?? app.robotCode) : undefined;
    if (!deliverRobot) return fail("param.openSpaceIdInvalid", `缺少${spaceType === "IM_GROUP" ? "imGroupOpenDeliverModel" : "imRobotOpenDeliverModel"}`);
    if (deliverRobot !== app.robotCode) return fail("invalidParameter.robotCode.auth", "robotCode与应用不匹配");
    for (const [k, v] of Object.entries(b.cardData.cardParamMap))
      if (Buffer.byteLength(k) > 100 || Buffer.byteLength(v) > 1024) return fail("param.cardParamMap", "cardParamMap的key或value过长");
    this.instances.set(b.outTrackId, {
      outTrackId: b.outTrackId,
      templateId: b.cardTemplateId,
      robotCode: app.robotCode,
      spaceType,
      spaceId: space[2]!,
      callbackType: b.callbackType,
      params: { ...b.cardData.cardParamMap },
      status: "processing",
      updates: [],
      createdAt: this.state.now(),
    });
    this.state.events.emit("card", this.instances.get(b.outTrackId)!);
    return json(200, {
      success: true,
      result: {
        outTrackId: b.outTrackId,
        deliverResults: [{ spaceType, spaceId: space[2], success: true, carrierId: `carrier${this.instances.size}` }],
      },
    });
  }

  stream(req: DoubleRequest): DoubleResponse {
    const auth = checkAccessToken(req, this.state);
    if (!auth.ok) return auth.response;
    const parsed = StreamBody.safeParse(req.json);
    if (!parsed.success) return fail("param.stream.content", "参数错误");
    const b = parsed.data;
    if (!b.guid) return fail("param.stream.guidEmpty", "guid is empty");
    if (!b.key) return fail("param.stream.keyEmpty", "key is empty");
    if (b.content === undefined || (b.content === "" && !b.isError && !b.isFinalize)) return fail("param.stream.contentEmpty", "content is empty");
    if (typeof b.isFull !== "boolean") return fail("param.stream.isFull", "isFull is required");
    const card = b.outTrackId ? this.instances.get(b.outTrackId) : undefined;
    if (!card) return fail("param.stream.outTrackId", "card is not exist");
    const whole = b.isFull ? b.content : (card.params[b.key] ?? "") + b.content;
    if ((!b.isFull && Buffer.byteLength(b.content) > this.settings.maxAppendBytes) || Buffer.byteLength(whole) > this.settings.maxContentBytes)
      return fail("param.stream.content", "content is too large");
    const duplicate = card.updates.some((u) => u.guid === b.guid);
    card.updates.push({
      guid: b.guid,
      key: b.key,
      content: b.content,
      isFull: b.isFull,
      isFinalize: b.isFinalize ?? false,
      isError: b.isError ?? false,
      time: this.state.now(),
      duplicate,
    });
    if (!duplicate) {
      card.params[b.key] = whole;
      card.status = b.isError ? "failed" : b.isFinalize ? "finished" : "inputting";
      this.state.events.emit("card", card);
    }
    return json(200, { success: true, result: true });
  }

  routes(): Route[] {
    return [
      { name: "card.createAndDeliver", method: "POST", path: "/v1.0/card/instances/createAndDeliver", handle: (req) => this.create(req) },
      { name: "card.streaming", method: "PUT", path: "/v1.0/card/streaming", handle: (req) => this.stream(req) },
    ];
  }
}
