// The double's in-memory FC account: services → functions (with their code zip) → triggers and
// async-invoke configs. Every operation validates like FC and throws FcApiError on conflicts.
import { randomUUID } from "node:crypto";
import { unzipSync } from "fflate";
import { crc64 } from "./crc64.js";
import { fcErrors } from "./errors.js";
import {
  type AsyncConfigFields,
  type FunctionFields,
  FunctionFieldsSchema,
  type ServiceFields,
  ServiceFieldsSchema,
  HttpTriggerConfigSchema,
  type TriggerFields,
} from "./schemas.js";
import { timerSettings, type TimerSchedule, type TimerSettings } from "./timer.js";

export const LATEST = "LATEST";
export const DEFAULT_MAX_ASYNC_RETRY_ATTEMPTS = 3;
export const DEFAULT_MAX_ASYNC_EVENT_AGE_SECONDS = 86400;

export interface ServiceRecord {
  name: string;
  id: string;
  fields: ServiceFields;
  createdTime: string;
  lastModifiedTime: string;
  functions: Map<string, FunctionRecord>;
}

export interface FunctionRecord {
  name: string;
  id: string;
  serviceName: string;
  fields: FunctionFields & { runtime: string; handler: string };
  code: Buffer;
  codeChecksum: string;
  createdTime: string;
  lastModifiedTime: string;
  triggers: Map<string, TriggerRecord>;
  asyncConfigs: Map<string, AsyncConfigRecord>;
}

export interface TriggerRecord {
  name: string;
  id: string;
  type: string;
  fields: TriggerFields;
  createdTime: string;
  lastModifiedTime: string;
}

export interface AsyncConfigRecord {
  qualifier: string;
  fields: AsyncConfigFields;
  createdTime: string;
  lastModifiedTime: string;
}

export interface HttpTriggerSettings {
  authType: "anonymous" | "function";
  methods: string[];
}

export interface ListQuery {
  prefix?: string | null;
  startKey?: string | null;
  nextToken?: string | null;
  limit?: string | null;
}

const DEFAULT_LIST_LIMIT = 20;
const MAX_LIST_LIMIT = 100;

/** FC 2.0's timestamp form, e.g. "2026-11-27T05:40:55.123+0000". */
export function fcTime(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "+0000");
}

function pick<T extends object>(value: T, keys: readonly string[]): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out as Partial<T>;
}

const SERVICE_KEYS = Object.keys(ServiceFieldsSchema.shape);
const FUNCTION_KEYS = Object.keys(FunctionFieldsSchema.shape).filter((k) => k !== "code");

function paginate<T>(items: Map<string, T>, query: ListQuery): { page: [string, T][]; nextToken?: string } {
  const limitText = query.limit ?? "";
  const limit = limitText === "" ? DEFAULT_LIST_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw fcErrors.invalidArgument(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  }
  const from = query.nextToken || query.startKey || "";
  const sorted = [...items.entries()]
    .filter(([name]) => name.startsWith(query.prefix ?? "") && name >= from)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const page = sorted.slice(0, limit);
  const next = sorted[limit];
  return next ? { page, nextToken: next[0] } : { page };
}

function decodeZip(zipBase64: string): Buffer {
  const zip = Buffer.from(zipBase64, "base64");
  try {
    unzipSync(zip);
  } catch (err) {
    throw fcErrors.invalidArgument(`code.zipFile is not a valid zip archive: ${(err as Error).message}`);
  }
  return zip;
}

function codeFrom(fields: FunctionFields): Buffer | undefined {
  if (!fields.code) return undefined;
  if ("zipFile" in fields.code) return decodeZip(fields.code.zipFile);
  throw fcErrors.invalidArgument("the FC double only accepts inline code (code.zipFile); OSS code is not supported");
}

function httpTriggerConfig(config: unknown): HttpTriggerSettings {
  const parsed = HttpTriggerConfigSchema.safeParse(config);
  if (!parsed.success) {
    throw fcErrors.invalidArgument(
      `triggerConfig: ${parsed.error.issues.map((i) => `${i.path.join(".") || "value"}: ${i.message}`).join("; ")}`,
    );
  }
  return { authType: parsed.data.authType, methods: parsed.data.methods };
}

export class FcState {
  readonly services = new Map<string, ServiceRecord>();

  constructor(
    private readonly now: () => number,
    private readonly proxyUrl: (svc: string, fn: string) => string,
  ) {}

  // ---- services

  createService(name: string, fields: ServiceFields): ServiceRecord {
    if (this.services.has(name)) throw fcErrors.serviceAlreadyExists(name);
    const t = fcTime(this.now());
    const record: ServiceRecord = {
      name,
      id: randomUUID(),
      fields: pick(fields, SERVICE_KEYS),
      createdTime: t,
      lastModifiedTime: t,
      functions: new Map(),
    };
    this.services.set(name, record);
    return record;
  }

  getService(name: string): ServiceRecord {
    const s = this.services.get(name);
    if (!s) throw fcErrors.serviceNotFound(name);
    return s;
  }

  updateService(name: string, fields: ServiceFields): ServiceRecord {
    const s = this.getService(name);
    s.fields = { ...s.fields, ...pick(fields, SERVICE_KEYS) };
    s.lastModifiedTime = fcTime(this.now());
    return s;
  }

  deleteService(name: string): void {
    const s = this.getService(name);
    if (s.functions.size > 0) throw fcErrors.serviceNotEmpty(name);
    this.services.delete(name);
  }

  listServices(query: ListQuery): { services: ServiceRecord[]; nextToken?: string } {
    const { page, nextToken } = paginate(this.services, query);
    return { services: page.map(([, s]) => s), ...(nextToken ? { nextToken } : {}) };
  }

  // ---- functions

  createFunction(serviceName: string, name: string, fields: FunctionFields): FunctionRecord {
    const s = this.getService(serviceName);
    if (s.functions.has(name)) throw fcErrors.functionAlreadyExists(serviceName, name);
    if (!fields.runtime) throw fcErrors.invalidArgument("runtime is required");
    if (!fields.handler) throw fcErrors.invalidArgument("handler is required");
    const code = codeFrom(fields);
    if (!code && fields.runtime !== "custom-container") throw fcErrors.invalidArgument("code is required");
    const t = fcTime(this.now());
    const known = pick(fields, FUNCTION_KEYS);
    const zip = code ?? Buffer.alloc(0);
    const record: FunctionRecord = {
      name,
      id: randomUUID(),
      serviceName,
      fields: { ...known, runtime: fields.runtime, handler: fields.handler },
      code: zip,
      codeChecksum: crc64(zip),
      createdTime: t,
      lastModifiedTime: t,
      triggers: new Map(),
      asyncConfigs: new Map(),
    };
    s.functions.set(name, record);
    return record;
  }

  getFunction(serviceName: string, name: string): FunctionRecord {
    const f = this.getService(serviceName).functions.get(name);
    if (!f) throw fcErrors.functionNotFound(serviceName, name);
    return f;
  }

  updateFunction(serviceName: string, name: string, fields: FunctionFields): FunctionRecord {
    const f = this.getFunction(serviceName, name);
    const code = codeFrom(fields);
    f.fields = { ...f.fields, ...pick(fields, FUNCTION_KEYS) };
    if (code) {
      f.code = code;
      f.codeChecksum = crc64(code);
    }
    f.lastModifiedTime = fcTime(this.now());
    return f;
  }

  deleteFunction(serviceName: string, name: string): void {
    const f = this.getFunction(serviceName, name);
    if (f.triggers.size > 0) throw fcErrors.functionNotEmpty(name);
    this.getService(serviceName).functions.delete(name);
  }

  listFunctions(serviceName: string, query: ListQuery): { functions: FunctionRecord[]; nextToken?: string } {
    const { page, nextToken } = paginate(this.getService(serviceName).functions, query);
    return { functions: page.map(([, f]) => f), ...(nextToken ? { nextToken } : {}) };
  }

  // ---- triggers

  createTrigger(serviceName: string, fnName: string, name: string, type: string, fields: TriggerFields): TriggerRecord {
    const f = this.getFunction(serviceName, fnName);
    if (f.triggers.has(name)) throw fcErrors.triggerAlreadyExists(serviceName, fnName, name);
    if (type === "timer") timerSettings(fields.triggerConfig, this.now());
    if (type === "http") {
      httpTriggerConfig(fields.triggerConfig);
      if ([...f.triggers.values()].some((t) => t.type === "http")) {
        throw fcErrors.invalidArgument(`function '${fnName}' already has an HTTP trigger`);
      }
    }
    const t = fcTime(this.now());
    const record: TriggerRecord = {
      name,
      id: randomUUID(),
      type,
      fields: pick(fields, ["triggerConfig", "sourceArn", "invocationRole", "qualifier", "description"]),
      createdTime: t,
      lastModifiedTime: t,
    };
    f.triggers.set(name, record);
    return record;
  }

  getTrigger(serviceName: string, fnName: string, name: string): TriggerRecord {
    const t = this.getFunction(serviceName, fnName).triggers.get(name);
    if (!t) throw fcErrors.triggerNotFound(serviceName, fnName, name);
    return t;
  }

  updateTrigger(serviceName: string, fnName: string, name: string, fields: TriggerFields): TriggerRecord {
    const t = this.getTrigger(serviceName, fnName, name);
    if (t.type === "http" && fields.triggerConfig !== undefined) httpTriggerConfig(fields.triggerConfig);
    if (t.type === "timer" && fields.triggerConfig !== undefined) timerSettings(fields.triggerConfig, this.now());
    t.fields = { ...t.fields, ...pick(fields, ["triggerConfig", "invocationRole", "qualifier", "description"]) };
    t.lastModifiedTime = fcTime(this.now());
    return t;
  }

  deleteTrigger(serviceName: string, fnName: string, name: string): void {
    this.getTrigger(serviceName, fnName, name);
    this.getFunction(serviceName, fnName).triggers.delete(name);
  }

  listTriggers(serviceName: string, fnName: string, query: ListQuery): { triggers: TriggerRecord[]; nextToken?: string } {
    const { page, nextToken } = paginate(this.getFunction(serviceName, fnName).triggers, query);
    return { triggers: page.map(([, t]) => t), ...(nextToken ? { nextToken } : {}) };
  }

  /** A timer trigger's settings and schedule (anchored at its last change), or undefined when it is no timer. */
  timerTrigger(serviceName: string, fnName: string, name: string): (TimerSettings & { next: TimerSchedule }) | undefined {
    const t = this.getTrigger(serviceName, fnName, name);
    return t.type === "timer" ? timerSettings(t.fields.triggerConfig, Date.parse(t.lastModifiedTime)) : undefined;
  }

  /** The function's HTTP trigger settings, or undefined when it has none. */
  httpTrigger(serviceName: string, fnName: string): HttpTriggerSettings | undefined {
    const t = [...this.getFunction(serviceName, fnName).triggers.values()].find((x) => x.type === "http");
    return t ? httpTriggerConfig(t.fields.triggerConfig) : undefined;
  }

  // ---- async-invoke configs

  putAsyncConfig(serviceName: string, fnName: string, qualifier: string, fields: AsyncConfigFields): AsyncConfigRecord {
    const f = this.getFunction(serviceName, fnName);
    const t = fcTime(this.now());
    const existing = f.asyncConfigs.get(qualifier);
    const record: AsyncConfigRecord = {
      qualifier,
      fields: pick(fields, ["maxAsyncEventAgeInSeconds", "maxAsyncRetryAttempts", "destinationConfig", "statefulInvocation"]),
      createdTime: existing?.createdTime ?? t,
      lastModifiedTime: t,
    };
    f.asyncConfigs.set(qualifier, record);
    return record;
  }

  getAsyncConfig(serviceName: string, fnName: string, qualifier: string): AsyncConfigRecord {
    const c = this.getFunction(serviceName, fnName).asyncConfigs.get(qualifier);
    if (!c) throw fcErrors.asyncConfigNotFound(serviceName, fnName);
    return c;
  }

  deleteAsyncConfig(serviceName: string, fnName: string, qualifier: string): void {
    this.getAsyncConfig(serviceName, fnName, qualifier);
    this.getFunction(serviceName, fnName).asyncConfigs.delete(qualifier);
  }

  /** Retry and age limits in force for async invocations of a function (FC's defaults when unset). */
  asyncLimits(serviceName: string, fnName: string, qualifier: string): { maxRetries: number; maxAgeMs: number } {
    const fields = this.services.get(serviceName)?.functions.get(fnName)?.asyncConfigs.get(qualifier)?.fields;
    return {
      maxRetries: fields?.maxAsyncRetryAttempts ?? DEFAULT_MAX_ASYNC_RETRY_ATTEMPTS,
      maxAgeMs: (fields?.maxAsyncEventAgeInSeconds ?? DEFAULT_MAX_ASYNC_EVENT_AGE_SECONDS) * 1000,
    };
  }

  // ---- wire shapes

  renderService(s: ServiceRecord): Record<string, unknown> {
    return {
      serviceName: s.name,
      serviceId: s.id,
      description: "",
      role: "",
      internetAccess: true,
      ...s.fields,
      createdTime: s.createdTime,
      lastModifiedTime: s.lastModifiedTime,
    };
  }

  renderFunction(f: FunctionRecord): Record<string, unknown> {
    return {
      functionId: f.id,
      functionName: f.name,
      description: "",
      timeout: 3,
      initializationTimeout: 3,
      memorySize: 128,
      instanceConcurrency: 1,
      instanceType: "e1",
      environmentVariables: {},
      ...f.fields,
      codeSize: f.code.length,
      codeChecksum: f.codeChecksum,
      createdTime: f.createdTime,
      lastModifiedTime: f.lastModifiedTime,
    };
  }

  renderTrigger(serviceName: string, fnName: string, t: TriggerRecord): Record<string, unknown> {
    const url = t.type === "http" ? { urlInternet: this.proxyUrl(serviceName, fnName), urlIntranet: "" } : {};
    return {
      triggerName: t.name,
      triggerId: t.id,
      triggerType: t.type,
      sourceArn: "",
      invocationRole: "",
      qualifier: "",
      description: "",
      ...t.fields,
      ...url,
      createdTime: t.createdTime,
      lastModifiedTime: t.lastModifiedTime,
    };
  }

  renderAsyncConfig(serviceName: string, fnName: string, c: AsyncConfigRecord): Record<string, unknown> {
    return {
      service: serviceName,
      function: fnName,
      qualifier: c.qualifier,
      ...c.fields,
      createdTime: c.createdTime,
      lastModifiedTime: c.lastModifiedTime,
    };
  }
}
