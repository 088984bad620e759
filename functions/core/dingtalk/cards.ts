// DingTalk AI card API (reference §5): create-and-deliver a card from a template into a 1:1 or group
// chat, then stream its markdown variable with `PUT /v1.0/card/streaming` (full text, `isFull: true`),
// finalizing or marking it failed at the end. Thin wrappers over DingTalkClient.callOpenApi.
import { createHash, randomUUID } from "node:crypto";
import * as z from "zod";
import type { OpenApiRequest } from "./client.js";
import { DingTalkApiError, apiError } from "./http.js";
import type { ReplyTarget } from "./outgoing.js";
import type { CallPriority } from "./rate-gate.js";

export interface CardApiClient {
  callOpenApi<S extends z.ZodType>(req: OpenApiRequest<S>): Promise<z.output<S>>;
}

export interface CardTemplate {
  /** "….schema" from DingTalk's card platform. */
  templateId: string;
  /** The template's markdown variable the answer streams into (default "content"). */
  contentKey: string;
}

const CreateAnswer = z.looseObject({
  success: z.boolean().optional(),
  result: z
    .looseObject({
      outTrackId: z.string().optional(),
      deliverResults: z
        .array(z.looseObject({ success: z.boolean().optional(), errorMsg: z.string().nullish(), spaceId: z.string().nullish() }))
        .nullish(),
    })
    .nullish(),
});
const StreamAnswer = z.looseObject({ success: z.boolean().optional(), result: z.unknown().optional() });

/** The card id for a message: stable across retries (so a retry never makes a second card), ≤ 64 chars. */
export function cardIdFor(messageKey: string): string {
  return `dingclaw-${createHash("sha256").update(messageKey).digest("hex").slice(0, 40)}`;
}

/** Whether a card can reach this chat: groups always; 1:1 only with the partner's staff id. */
export function canDeliverCard(target: ReplyTarget): boolean {
  return target.conversationType === "group" || Boolean(target.staffId);
}

/** True for answers that mean "stop using cards for a while": any 403 (permission, quota, QPS) or 429. */
export function isCardQuotaError(err: unknown): err is DingTalkApiError {
  return err instanceof DingTalkApiError && (err.status === 403 || err.status === 429);
}

function deliverBody(target: ReplyTarget): Record<string, unknown> {
  if (target.conversationType === "group")
    return {
      openSpaceId: `dtv1.card//IM_GROUP.${target.conversationId}`,
      imGroupOpenSpaceModel: { supportForward: true },
      imGroupOpenDeliverModel: { robotCode: target.robotCode },
    };
  if (!target.staffId) throw apiError("card.createAndDeliver", 0, "noRoute", "a 1:1 card needs the partner's staffId");
  return {
    openSpaceId: `dtv1.card//IM_ROBOT.${target.staffId}`,
    imRobotOpenSpaceModel: { supportForward: true },
    imRobotOpenDeliverModel: { spaceType: "IM_ROBOT", robotCode: target.robotCode },
  };
}

/**
 * Creates the card and delivers it to the chat. `existed: true` when a card with this outTrackId
 * already exists (an earlier attempt made it): the caller streams into that one.
 */
export async function createCard(
  client: CardApiClient,
  template: CardTemplate,
  outTrackId: string,
  target: ReplyTarget,
  opts: { maxAttempts?: number } = {},
): Promise<{ existed: boolean }> {
  try {
    await client.callOpenApi({
      api: "card.createAndDeliver",
      path: "/v1.0/card/instances/createAndDeliver",
      body: {
        cardTemplateId: template.templateId,
        outTrackId,
        cardData: { cardParamMap: { [template.contentKey]: "" } },
        callbackType: "STREAM",
        userIdType: 1,
        ...deliverBody(target),
      },
      schema: CreateAnswer,
      ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}),
      check: (a) => {
        const failed = a.result?.deliverResults?.find((r) => r.success === false);
        if (failed) return apiError("card.createAndDeliver", 200, "card.deliverFailed", failed.errorMsg ?? "delivery failed");
        if (a.success === false) return apiError("card.createAndDeliver", 200, "card.createFailed", "success is false");
        return undefined;
      },
    });
    return { existed: false };
  } catch (err) {
    if (err instanceof DingTalkApiError && err.code === "param.cardAlreadyExist") return { existed: true };
    throw err;
  }
}

export interface StreamUpdate {
  /** The whole text so far (sent with `isFull: true`, as markdown variables require). */
  content: string;
  finalize?: boolean;
  error?: boolean;
  maxAttempts?: number;
  /** "update" for intermediate text: the app's rate gate may skip it (see rate-gate.ts). */
  priority?: CallPriority;
}

/** One `PUT /v1.0/card/streaming`; each call has its own guid. */
export async function streamCard(client: CardApiClient, template: CardTemplate, outTrackId: string, update: StreamUpdate): Promise<void> {
  await client.callOpenApi({
    api: "card.streaming",
    method: "PUT",
    path: "/v1.0/card/streaming",
    body: {
      outTrackId,
      guid: randomUUID(),
      key: template.contentKey,
      content: update.content,
      isFull: true,
      isFinalize: update.finalize ?? false,
      isError: update.error ?? false,
    },
    schema: StreamAnswer,
    ...(update.maxAttempts ? { maxAttempts: update.maxAttempts } : {}),
    ...(update.priority ? { priority: update.priority } : {}),
    check: (a) => (a.success === false ? apiError("card.streaming", 200, "card.streamFailed", "success is false") : undefined),
  });
}
