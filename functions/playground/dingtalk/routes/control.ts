// Control API of the DingTalk double, for tests in other processes: register apps, mint session
// webhooks, add files and faults, expire tokens, move the clock, read calls and sent messages.
import * as z from "zod";
import type { CardPlatform } from "../cards.js";
import { LEGACY_THROTTLE_CODES, NEW_API_THROTTLE_CODES, type FaultSpec } from "../faults.js";
import { json, type DoubleRequest, type DoubleResponse, type Route } from "../router.js";
import type { DoubleState } from "../state.js";

const AppBody = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  robotCode: z.string().min(1).optional(),
  tokenTtlSeconds: z.number().int().positive().optional(),
});
const SessionBody = z.object({
  conversationId: z.string().min(1),
  conversationType: z.enum(["direct", "group"]).default("group"),
  staffId: z.string().min(1).optional(),
  robotCode: z.string().min(1).optional(),
  expiresAt: z.number().optional(),
  ttlMs: z.number().optional(),
});
const FileBody = z
  .object({
    text: z.string().optional(),
    base64: z.string().optional(),
    fileName: z.string().optional(),
    contentType: z.string().optional(),
    robotCode: z.string().optional(),
  })
  .refine((b) => (b.text === undefined) !== (b.base64 === undefined), { error: "give exactly one of text, base64" });
const FaultBody = z.object({
  route: z.string().min(1),
  times: z.number().int().positive().nullish(),
  status: z.number().int().min(100).max(599).optional(),
  body: z.unknown().optional(),
  throttle: z.union([z.enum(NEW_API_THROTTLE_CODES), z.literal(LEGACY_THROTTLE_CODES)]).optional(),
  delayMs: z.number().int().min(0).max(120_000).optional(),
  drop: z.boolean().optional(),
  quota: z.boolean().optional(),
});
const QuotaBody = z.object({ limit: z.number().int().min(0).nullable() });
const TemplateBody = z.object({ templateId: z.string().min(1) });
const CardSettingsBody = z.object({
  maxAppendBytes: z.number().int().positive().optional(),
  maxContentBytes: z.number().int().positive().optional(),
});
const ExpireBody = z.object({ clientId: z.string().optional() });
const ClockBody = z.object({ advanceMs: z.number() });

/** A control handler that parses the JSON body with `schema` first; a bad body → 400 `{error}`. */
export function withBody<S extends z.ZodType>(schema: S, fn: (body: z.output<S>, state: DoubleState) => DoubleResponse | Promise<DoubleResponse>) {
  return (req: DoubleRequest, state: DoubleState): DoubleResponse | Promise<DoubleResponse> => {
    const parsed = schema.safeParse(req.json ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return json(400, { error: `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}` });
    }
    return fn(parsed.data, state);
  };
}

/** A control route: named after its path, neither recorded nor faulted. */
export const control = (method: Route["method"], path: string, handle: Route["handle"]): Route => ({
  name: `control${path.slice("/__control".length).replace(/\//g, ".")}`,
  method,
  path,
  control: true,
  handle,
});

export const controlRoutes: Route[] = [
  control("GET", "/__control/health", () => json(200, { ok: true })),
  control(
    "POST",
    "/__control/apps",
    withBody(AppBody, (b, state) => {
      const app = state.addApp(b.clientId, b.clientSecret, {
        ...(b.robotCode ? { robotCode: b.robotCode } : {}),
        ...(b.tokenTtlSeconds ? { tokenTtlSeconds: b.tokenTtlSeconds } : {}),
      });
      return json(200, { clientId: app.clientId, robotCode: app.robotCode });
    }),
  ),
  control(
    "POST",
    "/__control/session-webhooks",
    withBody(SessionBody, (b, state) => {
      const { expiresAt, ttlMs, ...conv } = b;
      const hook = state.createSession(conv, { ...(expiresAt !== undefined ? { expiresAt } : {}), ...(ttlMs !== undefined ? { ttlMs } : {}) });
      return json(200, { url: hook.url, expiresAt: hook.expiresAt });
    }),
  ),
  control(
    "POST",
    "/__control/files",
    withBody(FileBody, (b, state) => {
      const bytes = b.text !== undefined ? Buffer.from(b.text, "utf8") : Buffer.from(b.base64 ?? "", "base64");
      const file = state.addFile(bytes, {
        ...(b.fileName ? { fileName: b.fileName } : {}),
        ...(b.contentType ? { contentType: b.contentType } : {}),
        ...(b.robotCode ? { robotCode: b.robotCode } : {}),
      });
      return json(200, { downloadCode: file.downloadCode });
    }),
  ),
  control(
    "POST",
    "/__control/faults",
    withBody(FaultBody, (b, state) => {
      const spec: FaultSpec = { route: b.route };
      if (b.times === null) spec.times = Infinity;
      else if (b.times !== undefined) spec.times = b.times;
      if (b.status !== undefined) spec.status = b.status;
      if (b.body !== undefined) spec.body = b.body;
      if (b.throttle !== undefined) spec.throttle = b.throttle;
      if (b.delayMs !== undefined) spec.delayMs = b.delayMs;
      if (b.drop !== undefined) spec.drop = b.drop;
      if (b.quota !== undefined) spec.quota = b.quota;
      state.addFault(spec);
      return json(200, { ok: true });
    }),
  ),
  control("DELETE", "/__control/faults", (_req, state) => {
    state.faults.length = 0;
    return json(200, { ok: true });
  }),
  control(
    "POST",
    "/__control/tokens/expire",
    withBody(ExpireBody, (b, state) => {
      state.expireTokens(b.clientId);
      return json(200, { ok: true });
    }),
  ),
  control(
    "POST",
    "/__control/clock",
    withBody(ClockBody, (b, state) => {
      state.advance(b.advanceMs);
      return json(200, { now: state.now() });
    }),
  ),
  control("GET", "/__control/calls", (req, state) => {
    const route = req.query.get("route");
    return json(200, route ? state.calls.filter((c) => c.route === route) : state.calls);
  }),
  control("GET", "/__control/sent", (_req, state) => json(200, state.sentMessages)),
  control("POST", "/__control/reset", (_req, state) => {
    state.reset();
    return json(200, { ok: true });
  }),
  control(
    "POST",
    "/__control/quota",
    withBody(QuotaBody, (b, state) => {
      state.quota.limit = b.limit ?? undefined;
      state.quota.used = 0;
      return json(200, { ok: true });
    }),
  ),
];

/** Control routes of the AI card platform: templates, settings, the cards made so far. */
export function cardControlRoutes(cards: CardPlatform): Route[] {
  return [
    control(
      "POST",
      "/__control/card-templates",
      withBody(TemplateBody, (b) => {
        cards.templates.add(b.templateId);
        return json(200, { ok: true });
      }),
    ),
    control(
      "POST",
      "/__control/card-settings",
      withBody(CardSettingsBody, (b) => {
        if (b.maxAppendBytes !== undefined) cards.settings.maxAppendBytes = b.maxAppendBytes;
        if (b.maxContentBytes !== undefined) cards.settings.maxContentBytes = b.maxContentBytes;
        return json(200, cards.settings);
      }),
    ),
    control("GET", "/__control/cards", () => json(200, cards.list())),
  ];
}
