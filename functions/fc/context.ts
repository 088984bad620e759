// FC's invocation context and environment, parsed with zod: the role credentials, account, region
// and service that the callback needs to invoke the worker. Both FC 2.0 and 3.0 shapes.
import type { Env } from "../core/env.js";
import * as z from "zod/mini";
import "../core/zod-messages.js";

const optText = z.optional(z.string());
const ContextSchema = z.looseObject({
  requestId: optText,
  accountId: optText,
  region: optText,
  credentials: z.optional(z.looseObject({ accessKeyId: optText, accessKeySecret: optText, securityToken: optText })),
  service: z.optional(z.looseObject({ name: optText })),
  function: z.optional(z.looseObject({ name: optText })),
});

export interface FcContext {
  requestId: string | undefined;
  accountId: string | undefined;
  region: string | undefined;
  serviceName: string | undefined;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string } | undefined;
}

type FcEnv = Pick<
  Env,
  "ALIBABA_CLOUD_ACCESS_KEY_ID" | "ALIBABA_CLOUD_ACCESS_KEY_SECRET" | "ALIBABA_CLOUD_SECURITY_TOKEN" | "FC_ACCOUNT_ID" | "FC_REGION" | "FC_SERVICE_NAME"
>;

/** The invocation context as FC passed it, checked once per invocation (empty when it is not an object). */
export type RawContext = z.output<typeof ContextSchema>;

export function parseContext(context: unknown): RawContext {
  const c = ContextSchema.safeParse(context ?? {});
  return c.success ? c.data : {};
}

/** Context values first, FC's environment variables (when given) as the fallback. */
export function readContext(context: unknown, env: Partial<FcEnv> = {}): FcContext {
  return resolveContext(parseContext(context), env);
}

export function resolveContext(ctx: RawContext, env: Partial<FcEnv> = {}): FcContext {
  const id = ctx.credentials?.accessKeyId || env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const secret = ctx.credentials?.accessKeySecret || env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  const token = ctx.credentials?.securityToken || env.ALIBABA_CLOUD_SECURITY_TOKEN;
  return {
    requestId: ctx.requestId,
    accountId: ctx.accountId || env.FC_ACCOUNT_ID,
    region: ctx.region || env.FC_REGION,
    serviceName: ctx.service?.name || env.FC_SERVICE_NAME,
    credentials: id && secret ? { accessKeyId: id, accessKeySecret: secret, ...(token ? { securityToken: token } : {}) } : undefined,
  };
}
