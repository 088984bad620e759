// The FC 2016-08-15 control-plane routes the double serves: services, functions, triggers and
// async-invoke configs (create/get/update/delete/list) with FC's status codes and JSON shapes.
import { fcErrors } from "./errors.js";
import {
  AsyncConfigSchema,
  checkName,
  CreateFunctionSchema,
  CreateServiceSchema,
  CreateTriggerSchema,
  FunctionFieldsSchema,
  functionNameSchema,
  parseJsonBody,
  ServiceFieldsSchema,
  serviceNameSchema,
  TriggerFieldsSchema,
  triggerNameSchema,
} from "./schemas.js";
import { type FcState, LATEST, type ListQuery } from "./state.js";

export interface ApiRequest {
  method: string;
  /** decoded path segments after `/2016-08-15/`, e.g. ["services", "svc", "functions"] */
  segments: string[];
  query: URLSearchParams;
  body: Buffer;
}

export interface JsonReply {
  status: number;
  json?: unknown;
}

/** Splits `svc.qualifier`; only LATEST exists in the double (no versions or aliases). */
export function parseServiceRef(ref: string): { service: string; qualifier: string } {
  const dot = ref.indexOf(".");
  const service = dot < 0 ? ref : ref.slice(0, dot);
  const qualifier = dot < 0 ? LATEST : ref.slice(dot + 1);
  checkName(serviceNameSchema, service, "service name");
  if (qualifier !== LATEST) {
    throw /^\d+$/.test(qualifier) ? fcErrors.versionNotFound(service, qualifier) : fcErrors.aliasNotFound(service, qualifier);
  }
  return { service, qualifier };
}

function plainName(ref: string): string {
  checkName(serviceNameSchema, ref, "service name");
  return ref;
}

function listQuery(q: URLSearchParams): ListQuery {
  return { prefix: q.get("prefix"), startKey: q.get("startKey"), nextToken: q.get("nextToken"), limit: q.get("limit") };
}

/** Handles a control-plane request, or returns undefined when no route matches. */
export function handleControlPlane(state: FcState, req: ApiRequest): JsonReply | undefined {
  const { method, segments: s, body } = req;
  if (s[0] !== "services") return undefined;

  if (s.length === 1) {
    if (method === "POST") {
      const input = parseJsonBody(body, CreateServiceSchema);
      return { status: 201, json: state.renderService(state.createService(input.serviceName, input)) };
    }
    if (method === "GET") {
      const { services, nextToken } = state.listServices(listQuery(req.query));
      return { status: 200, json: { services: services.map((x) => state.renderService(x)), ...(nextToken ? { nextToken } : {}) } };
    }
    return undefined;
  }

  const ref = s[1]!;
  if (s.length === 2) {
    if (method === "GET") return { status: 200, json: state.renderService(state.getService(parseServiceRef(ref).service)) };
    if (method === "PUT") {
      const input = parseJsonBody(body, ServiceFieldsSchema);
      return { status: 200, json: state.renderService(state.updateService(plainName(ref), input)) };
    }
    if (method === "DELETE") {
      state.deleteService(plainName(ref));
      return { status: 204 };
    }
    return undefined;
  }

  if (s[2] !== "functions") return undefined;
  if (s.length === 3) {
    if (method === "POST") {
      const svc = plainName(ref);
      const input = parseJsonBody(body, CreateFunctionSchema);
      return { status: 201, json: state.renderFunction(state.createFunction(svc, input.functionName, input)) };
    }
    if (method === "GET") {
      const { functions, nextToken } = state.listFunctions(parseServiceRef(ref).service, listQuery(req.query));
      return { status: 200, json: { functions: functions.map((f) => state.renderFunction(f)), ...(nextToken ? { nextToken } : {}) } };
    }
    return undefined;
  }

  const fn = s[3]!;
  checkName(functionNameSchema, fn, "function name");
  if (s.length === 4) {
    if (method === "GET") return { status: 200, json: state.renderFunction(state.getFunction(parseServiceRef(ref).service, fn)) };
    if (method === "PUT") {
      const input = parseJsonBody(body, FunctionFieldsSchema);
      return { status: 200, json: state.renderFunction(state.updateFunction(plainName(ref), fn, input)) };
    }
    if (method === "DELETE") {
      state.deleteFunction(plainName(ref), fn);
      return { status: 204 };
    }
    return undefined;
  }

  const sub = s[4];
  if (sub === "code" && s.length === 5 && method === "GET") {
    const f = state.getFunction(parseServiceRef(ref).service, fn);
    return { status: 200, json: { url: `data:application/zip;base64,${f.code.toString("base64")}`, checksum: f.codeChecksum } };
  }

  if (sub === "triggers") {
    const svc = plainName(ref);
    if (s.length === 5) {
      if (method === "POST") {
        const input = parseJsonBody(body, CreateTriggerSchema);
        const t = state.createTrigger(svc, fn, input.triggerName, input.triggerType, input);
        return { status: 201, json: state.renderTrigger(svc, fn, t) };
      }
      if (method === "GET") {
        const { triggers, nextToken } = state.listTriggers(svc, fn, listQuery(req.query));
        return {
          status: 200,
          json: { triggers: triggers.map((t) => state.renderTrigger(svc, fn, t)), ...(nextToken ? { nextToken } : {}) },
        };
      }
      return undefined;
    }
    if (s.length === 6) {
      const trigger = s[5]!;
      checkName(triggerNameSchema, trigger, "trigger name");
      if (method === "GET") return { status: 200, json: state.renderTrigger(svc, fn, state.getTrigger(svc, fn, trigger)) };
      if (method === "PUT") {
        const input = parseJsonBody(body, TriggerFieldsSchema);
        return { status: 200, json: state.renderTrigger(svc, fn, state.updateTrigger(svc, fn, trigger, input)) };
      }
      if (method === "DELETE") {
        state.deleteTrigger(svc, fn, trigger);
        return { status: 204 };
      }
    }
    return undefined;
  }

  if (sub === "async-invoke-config" && s.length === 5) {
    const { service, qualifier } = parseServiceRef(ref);
    if (method === "PUT") {
      const input = parseJsonBody(body, AsyncConfigSchema);
      return { status: 200, json: state.renderAsyncConfig(service, fn, state.putAsyncConfig(service, fn, qualifier, input)) };
    }
    if (method === "GET") {
      return { status: 200, json: state.renderAsyncConfig(service, fn, state.getAsyncConfig(service, fn, qualifier)) };
    }
    if (method === "DELETE") {
      state.deleteAsyncConfig(service, fn, qualifier);
      return { status: 204 };
    }
    return undefined;
  }

  if (sub === "async-invoke-configs" && s.length === 5 && method === "GET") {
    const svc = plainName(ref);
    const configs = [...state.getFunction(svc, fn).asyncConfigs.values()].map((c) => state.renderAsyncConfig(svc, fn, c));
    return { status: 200, json: { configs } };
  }
  return undefined;
}
