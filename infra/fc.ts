// Function Compute 2.0 operations through @alicloud/fc2: create-or-update of the service, functions,
// HTTP and timer triggers and async-invoke config (idempotent: a second deploy updates in place), removal of
// everything in the service, and the HTTP trigger's URL. Every failure becomes a DeployError.
import FC from "@alicloud/fc2";
import { EnvSchema } from "../functions/core/env.js";
import * as z from "zod/mini";
import type { AliyunCredentials } from "./credentials.js";
import { DeployError, explainCloudError, isNotFound } from "./errors.js";

export interface FcTarget {
  client: FC;
  accountId: string;
  region: string;
  /** The API base URL without credentials, for messages and trigger URLs. */
  endpoint: string;
}

const FcEndpointEnv = z.pick(EnvSchema, { ALIBABA_CLOUD_FC_ENDPOINT: true });

/** FC client; ALIBABA_CLOUD_FC_ENDPOINT points it at another API endpoint (tests). */
export function fcClient(creds: AliyunCredentials, region: string, env: Record<string, string | undefined>): FcTarget {
  const parsed = FcEndpointEnv.safeParse(env);
  if (!parsed.success) throw new DeployError(`ALIBABA_CLOUD_FC_ENDPOINT ${parsed.error.issues[0]?.message ?? "is invalid"}`);
  const override = parsed.data.ALIBABA_CLOUD_FC_ENDPOINT;
  const client = new FC(creds.accountId, {
    accessKeyID: creds.accessKeyId,
    accessKeySecret: creds.accessKeySecret,
    ...(creds.securityToken ? { securityToken: creds.securityToken } : {}),
    region,
    secure: true,
    timeout: 60_000,
    ...(override ? { endpoint: override } : {}),
  });
  return {
    client,
    accountId: creds.accountId,
    region,
    endpoint: override ?? `https://${creds.accountId}.${region}.fc.aliyuncs.com`,
  };
}

export async function fc<T>(t: FcTarget, action: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw explainCloudError(err, "Function Compute", t.endpoint, action);
  }
}

async function fcOrUndefined<T>(t: FcTarget, action: string, p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw explainCloudError(err, "Function Compute", t.endpoint, action);
  }
}

export type Change = "created" | "updated";

export function getService(t: FcTarget, name: string) {
  return fcOrUndefined(t, `read service ${name}`, t.client.getService(name)).then((r) => r?.data);
}

export interface ServiceSpec {
  description: string;
  role: string;
  logConfig: { project: string; logstore: string } | undefined;
  vpcConfig: { vpcId: string; vSwitchIds: string[]; securityGroupId: string } | undefined;
  internetAccess: boolean;
}

export interface RetryOptions {
  /** Retry role-related refusals (a just-created RAM role takes a few seconds to become assumable). */
  retryRole: boolean;
  sleep: (ms: number) => Promise<void>;
}

function roleNotReady(err: unknown): boolean {
  return err instanceof Error && /role/i.test(err.message) && !/InvalidAccessKey|SignatureNotMatch/.test(err.message);
}

export async function upsertService(t: FcTarget, name: string, spec: ServiceSpec, retry: RetryOptions): Promise<Change> {
  const exists = (await getService(t, name)) !== undefined;
  const body = {
    description: spec.description,
    role: spec.role,
    internetAccess: spec.internetAccess,
    // On update, empty values switch logging / VPC access off again when removed from serverless.yml.
    ...(spec.logConfig || exists ? { logConfig: spec.logConfig ?? { project: "", logstore: "" } } : {}),
    ...(spec.vpcConfig || exists ? { vpcConfig: spec.vpcConfig ?? { vpcId: "", vSwitchIds: [], securityGroupId: "" } } : {}),
  };
  const delays = retry.retryRole ? [1000, 2000, 4000, 8000, 8000, 8000] : [];
  for (let attempt = 0; ; attempt++) {
    try {
      if (exists) await t.client.updateService(name, body);
      else await t.client.createService(name, body);
      return exists ? "updated" : "created";
    } catch (err) {
      const delay = delays[attempt];
      if (delay === undefined || !roleNotReady(err)) throw explainCloudError(err, "Function Compute", t.endpoint, `${exists ? "update" : "create"} service ${name}`);
      await retry.sleep(delay);
    }
  }
}

export interface FunctionSpec {
  name: string;
  description: string;
  runtime: string;
  handler: string;
  memorySize: number;
  timeout: number;
  instanceConcurrency: number;
  environmentVariables: Record<string, string>;
  zip: Uint8Array;
}

export async function upsertFunction(t: FcTarget, service: string, spec: FunctionSpec): Promise<Change> {
  const existing = await fcOrUndefined(t, `read function ${spec.name}`, t.client.getFunction(service, spec.name));
  const body = {
    description: spec.description,
    runtime: spec.runtime,
    handler: spec.handler,
    memorySize: spec.memorySize,
    timeout: spec.timeout,
    instanceConcurrency: spec.instanceConcurrency,
    environmentVariables: spec.environmentVariables,
    code: { zipFile: Buffer.from(spec.zip).toString("base64") },
  };
  if (existing) {
    await fc(t, `update function ${spec.name}`, t.client.updateFunction(service, spec.name, body));
    return "updated";
  }
  await fc(t, `create function ${spec.name}`, t.client.createFunction(service, { functionName: spec.name, ...body }));
  return "created";
}

export async function putAsyncConfig(
  t: FcTarget,
  service: string,
  fn: string,
  cfg: { maxAsyncRetryAttempts: number; maxAsyncEventAgeInSeconds: number },
): Promise<void> {
  await fc(t, `set the async-invoke config of ${fn}`, t.client.putFunctionAsyncConfig(service, fn, "LATEST", cfg));
}

export interface HttpTriggerSpec {
  name: string;
  authType: "anonymous" | "function";
  methods: string[];
}

export function upsertHttpTrigger(t: FcTarget, service: string, fn: string, spec: HttpTriggerSpec): Promise<Change> {
  return upsertTrigger(t, service, fn, "http", spec.name, { authType: spec.authType, methods: spec.methods });
}

/** Creates or updates the function's trigger of this type and name; its other triggers of the type (earlier names) are deleted. */
async function upsertTrigger(t: FcTarget, service: string, fn: string, type: "http" | "timer", name: string, triggerConfig: Record<string, unknown>): Promise<Change> {
  const list = await fc(t, `list triggers of ${fn}`, t.client.listTriggers(service, fn, { limit: 100 }));
  const triggers = list.data.triggers ?? [];
  for (const other of triggers.filter((x) => x.triggerType === type && x.triggerName !== name))
    await fc(t, `delete trigger ${other.triggerName}`, t.client.deleteTrigger(service, fn, other.triggerName));
  if (triggers.some((x) => x.triggerName === name)) {
    await fc(t, `update trigger ${name}`, t.client.updateTrigger(service, fn, name, { triggerConfig }));
    return "updated";
  }
  await fc(t, `create trigger ${name}`, t.client.createTrigger(service, fn, { triggerName: name, triggerType: type, triggerConfig }));
  return "created";
}

export interface TimerTriggerSpec {
  name: string;
  cronExpression: string;
  enable: boolean;
  payload: string;
}

/**
 * Creates or updates the function's FC 2.0 timer trigger (triggerType "timer", triggerConfig
 * {cronExpression, enable, payload}: FC's TimeTriggerConfig, alibabacloud.com/help/en/functioncompute/
 * fc-2-0/developer-reference/api-fc-open-2021-04-06-struct-timetriggerconfig).
 */
export function upsertTimerTrigger(t: FcTarget, service: string, fn: string, spec: TimerTriggerSpec): Promise<Change> {
  return upsertTrigger(t, service, fn, "timer", spec.name, { cronExpression: spec.cronExpression, enable: spec.enable, payload: spec.payload });
}

/**
 * The public URL of a function's HTTP trigger: what FC reports (`urlInternet`), else the FC 2.0 form
 * `{endpoint}/2016-08-15/proxy/{service}/{function}/`.
 */
export async function httpTriggerUrl(t: FcTarget, service: string, fn: string): Promise<string | undefined> {
  const list = await fcOrUndefined(t, `list triggers of ${fn}`, t.client.listTriggers(service, fn, { limit: 100 }));
  const trigger = list?.data.triggers?.find((x) => x.triggerType === "http") as { urlInternet?: unknown } | undefined;
  if (!trigger) return undefined;
  if (typeof trigger.urlInternet === "string" && /^https?:\/\//.test(trigger.urlInternet)) return trigger.urlInternet;
  return `${t.endpoint}/2016-08-15/proxy/${service}/${fn}/`;
}

/** Deletes one function with its triggers and async config. */
export async function removeFunction(t: FcTarget, service: string, name: string, onStep: (what: string) => void): Promise<void> {
  const triggers = await fcOrUndefined(t, `list triggers of ${name}`, t.client.listTriggers(service, name, { limit: 100 }));
  for (const tr of triggers?.data.triggers ?? []) {
    await fcOrUndefined(t, `delete trigger ${tr.triggerName}`, t.client.deleteTrigger(service, name, tr.triggerName));
    onStep(`trigger ${tr.triggerName} deleted`);
  }
  await fcOrUndefined(t, `delete the async-invoke config of ${name}`, t.client.deleteFunctionAsyncConfig(service, name, "LATEST"));
  await fcOrUndefined(t, `delete function ${name}`, t.client.deleteFunction(service, name));
  onStep(`function ${name} deleted`);
}

/** The names of the service's functions. */
export async function functionNames(t: FcTarget, service: string): Promise<string[]> {
  const fns = await fc(t, `list functions of ${service}`, t.client.listFunctions(service, { limit: 100 }));
  return (fns.data.functions ?? []).map((f) => f.functionName);
}

/** Deletes every trigger, async config and function of the service, then the service. */
export async function removeService(t: FcTarget, service: string, onStep: (what: string) => void): Promise<boolean> {
  if (!(await getService(t, service))) return false;
  for (const name of await functionNames(t, service)) await removeFunction(t, service, name, onStep);
  await fcOrUndefined(t, `delete service ${service}`, t.client.deleteService(service));
  onStep(`service ${service} deleted`);
  return true;
}
