// zod schemas for the control-plane request bodies the double accepts. Unknown fields pass
// validation (FC ignores them) but are not stored; limits follow FC 2.0's documented ones.
import { z } from "zod";
import { fcErrors } from "./errors.js";

const resourceName = (max: number) =>
  z
    .string()
    .max(max, { error: `must be at most ${max} characters` })
    .regex(/^[_a-zA-Z][-_a-zA-Z0-9]*$/, {
      error: "must start with a letter or underscore and contain only letters, digits, '_' and '-'",
    });

export const serviceNameSchema = resourceName(128);
export const functionNameSchema = resourceName(64);
export const triggerNameSchema = resourceName(128);

const LogConfigSchema = z.looseObject({
  project: z.string().optional(),
  logstore: z.string().optional(),
  enableRequestMetrics: z.boolean().optional(),
  enableInstanceMetrics: z.boolean().optional(),
  logBeginRule: z.string().optional(),
});

const VpcConfigSchema = z.looseObject({
  vpcId: z.string().optional(),
  vSwitchIds: z.array(z.string()).optional(),
  securityGroupId: z.string().optional(),
});

export const ServiceFieldsSchema = z.looseObject({
  description: z.string().max(256).optional(),
  role: z.string().optional(),
  logConfig: LogConfigSchema.optional(),
  vpcConfig: VpcConfigSchema.optional(),
  internetAccess: z.boolean().optional(),
  nasConfig: z.record(z.string(), z.unknown()).optional(),
  tracingConfig: z.record(z.string(), z.unknown()).optional(),
});
export const CreateServiceSchema = ServiceFieldsSchema.extend({ serviceName: serviceNameSchema });
export type ServiceFields = z.infer<typeof ServiceFieldsSchema>;

const ENV_TOTAL_LIMIT = 4096;
const EnvSchema = z
  .record(
    z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, { error: "environment variable names start with a letter and use letters, digits and '_'" }),
    z.string(),
  )
  .superRefine((env, ctx) => {
    const reserved = Object.keys(env).filter((k) => k.startsWith("FC_"));
    if (reserved.length > 0) ctx.addIssue({ code: "custom", message: `reserved names (FC_*): ${reserved.join(", ")}` });
    const size = Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    if (size > ENV_TOTAL_LIMIT) ctx.addIssue({ code: "custom", message: `total size ${size} bytes exceeds ${ENV_TOTAL_LIMIT}` });
  });

const CodeSchema = z.union([
  z.object({ zipFile: z.base64({ error: "code.zipFile must be base64" }) }),
  z.object({ ossBucketName: z.string(), ossObjectName: z.string() }),
]);

export const FunctionFieldsSchema = z.looseObject({
  description: z.string().max(256).optional(),
  runtime: z.string().min(1).optional(),
  handler: z.string().min(1).optional(),
  initializer: z.string().optional(),
  timeout: z.number().int().min(1).max(86400).optional(),
  initializationTimeout: z.number().int().min(1).max(300).optional(),
  memorySize: z.number().int().min(128).max(32768).optional(),
  instanceConcurrency: z.number().int().min(1).max(200).optional(),
  instanceType: z.string().optional(),
  code: CodeSchema.optional(),
  environmentVariables: EnvSchema.optional(),
  caPort: z.number().int().optional(),
  customContainerConfig: z.record(z.string(), z.unknown()).optional(),
  layers: z.array(z.string()).optional(),
});
export const CreateFunctionSchema = FunctionFieldsSchema.extend({ functionName: functionNameSchema });
export type FunctionFields = z.infer<typeof FunctionFieldsSchema>;

export const HTTP_METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"] as const;

export const HttpTriggerConfigSchema = z.looseObject({
  authType: z.enum(["anonymous", "function"], { error: 'authType must be "anonymous" or "function"' }),
  methods: z
    .array(z.string().transform((m) => m.toUpperCase()).pipe(z.enum(HTTP_METHODS)))
    .min(1, { error: "methods must list at least one HTTP method" }),
});

export const TriggerFieldsSchema = z.looseObject({
  triggerConfig: z.unknown().optional(),
  sourceArn: z.string().optional(),
  invocationRole: z.string().optional(),
  qualifier: z.string().optional(),
  description: z.string().optional(),
});
export const CreateTriggerSchema = TriggerFieldsSchema.extend({
  triggerName: triggerNameSchema,
  triggerType: z.string().min(1),
});
export type TriggerFields = z.infer<typeof TriggerFieldsSchema>;

export const AsyncConfigSchema = z.looseObject({
  maxAsyncEventAgeInSeconds: z.number().int().min(1).max(86400).optional(),
  maxAsyncRetryAttempts: z.number().int().min(0).max(8).optional(),
  destinationConfig: z
    .looseObject({
      onSuccess: z.object({ destination: z.string() }).optional(),
      onFailure: z.object({ destination: z.string() }).optional(),
    })
    .optional(),
  statefulInvocation: z.boolean().optional(),
});
export type AsyncConfigFields = z.infer<typeof AsyncConfigSchema>;

/** Parses a JSON body with `schema`; malformed JSON or a schema miss → 400 InvalidArgument. */
export function parseJsonBody<T extends z.ZodType>(body: Buffer, schema: T): z.infer<T> {
  let value: unknown;
  try {
    value = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw fcErrors.invalidArgument(`the request body is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((i) => `${i.path.length > 0 ? i.path.join(".") : "body"}: ${i.message}`)
      .join("; ");
    throw fcErrors.invalidArgument(detail);
  }
  return parsed.data;
}

/** Validates a value from a URL path segment. */
export function checkName(schema: z.ZodType, value: string, what: string): void {
  const r = schema.safeParse(value);
  if (!r.success) throw fcErrors.invalidArgument(`${what} '${value}' ${r.error.issues[0]?.message ?? "is invalid"}`);
}
