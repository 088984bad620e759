// Messages between the double and a child-process function instance (Node IPC with the
// "advanced" serialisation, so Buffers travel as bytes). Both ends parse what they receive.
import { z } from "zod";
import type { ContextInit, EventOutcome, HttpOutcome, HttpRequestData } from "./fc-runtime.js";

export interface InvokeMessage {
  type: "invoke";
  id: number;
  codeDir: string;
  handler: string;
  initializer: string | undefined;
  context: ContextInit;
  input: { kind: "event"; payload: Uint8Array } | { kind: "http"; request: HttpRequestData };
}

export type ChildMessage =
  | { type: "started"; id: number }
  | { type: "log"; id: number; level: "debug" | "info" | "warn" | "error"; line: string }
  | { type: "result"; id: number; outcome: EventOutcome | HttpOutcome };

const bytes = z.instanceof(Uint8Array).transform((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength));

const ErrorOutcomeSchema = z.object({
  ok: z.literal(false),
  errorType: z.enum(["HandledInvocationError", "UnhandledInvocationError"]),
  error: z.object({
    errorMessage: z.string(),
    errorType: z.string().optional(),
    stackTrace: z.array(z.string()).optional(),
  }),
});

const OutcomeSchema = z.union([
  ErrorOutcomeSchema,
  z.object({ ok: z.literal(true), body: bytes }),
  z.object({
    ok: z.literal(true),
    response: z.object({ status: z.number().int(), headers: z.record(z.string(), z.string()), body: bytes }),
  }),
]);

const ChildMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("started"), id: z.number() }),
  z.object({ type: z.literal("log"), id: z.number(), level: z.enum(["debug", "info", "warn", "error"]), line: z.string() }),
  z.object({ type: z.literal("result"), id: z.number(), outcome: OutcomeSchema }),
]);

export function parseChildMessage(raw: unknown): ChildMessage | undefined {
  const r = ChildMessageSchema.safeParse(raw);
  return r.success ? r.data : undefined;
}

const ContextInitSchema = z.object({
  requestId: z.string(),
  credentials: z.object({
    accessKeyId: z.string().optional(),
    accessKeySecret: z.string().optional(),
    securityToken: z.string().optional(),
  }),
  function: z.object({
    name: z.string(),
    handler: z.string(),
    memory: z.number(),
    timeout: z.number(),
    initializer: z.string().optional(),
    initializationTimeout: z.number(),
  }),
  service: z.object({
    name: z.string(),
    logProject: z.string(),
    logStore: z.string(),
    qualifier: z.string(),
    versionId: z.string(),
  }),
  region: z.string(),
  accountId: z.string(),
});

const InvokeMessageSchema = z.object({
  type: z.literal("invoke"),
  id: z.number(),
  codeDir: z.string(),
  handler: z.string(),
  initializer: z.string().optional(),
  context: ContextInitSchema,
  input: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("event"), payload: bytes }),
    z.object({
      kind: z.literal("http"),
      request: z.object({
        method: z.string(),
        path: z.string(),
        url: z.string(),
        headers: z.record(z.string(), z.string()),
        queries: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
        clientIP: z.string(),
        body: bytes,
      }),
    }),
  ]),
});

export type ParsedInvokeMessage = z.infer<typeof InvokeMessageSchema>;

export function parseInvokeMessage(raw: unknown): ParsedInvokeMessage | undefined {
  const r = InvokeMessageSchema.safeParse(raw);
  return r.success ? r.data : undefined;
}
