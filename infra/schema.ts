// JSON schema of the `aliyun` provider's serverless.yml properties, registered with the framework's
// config validation (defineProvider) so typos are reported before anything runs. Generated from the
// zod schemas parseSettings uses (infra/settings.ts), with two adjustments for the framework's
// validator (Ajv, strict, coercing "20" to 20): a value from `${env:X, ''}` may arrive blank, so
// integers and booleans also accept a blank string; and type lists become anyOf (strict Ajv has no
// union types).
import * as z from "zod";
import { FunctionSchema, HttpEventSchema, ProviderSchema, TimerEventSchema } from "./settings.js";

type JsonSchema = Record<string, unknown>;

const BLANK = { type: "string", pattern: "^\\s*$" };

function adjust({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  const type = jsonSchema.type;
  if (Array.isArray(type)) {
    delete jsonSchema.type;
    jsonSchema.anyOf = type.map((t: unknown) => ({ type: t }));
  } else if (type === "integer" || type === "boolean") {
    const own = { ...jsonSchema };
    for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
    // Blank first: in the other branch, a coercing Ajv would turn " " into 0 before trying this one.
    jsonSchema.anyOf = [BLANK, own];
  }
}

function toJson(schema: z.ZodType): JsonSchema {
  const json: JsonSchema = z.toJSONSchema(schema, { target: "draft-7", io: "input", unrepresentable: "any", override: adjust });
  delete json.$schema;
  return json;
}

/** The properties of an object schema; `omit` names those the framework defines itself. */
function propertiesOf(schema: z.ZodObject, omit: string[]): { properties: JsonSchema } {
  const properties = toJson(schema).properties as JsonSchema;
  for (const key of omit) delete properties[key];
  return { properties };
}

export const providerSchema = {
  // `name` and `stage` are the framework's own provider properties, `events` its own function property.
  provider: propertiesOf(ProviderSchema, ["name", "stage"]),
  function: propertiesOf(FunctionSchema, ["events"]),
  functionEvents: { http: toJson(HttpEventSchema.shape.http), timer: toJson(TimerEventSchema.shape.timer) },
};

const region = { usage: "Alibaba Cloud region id, e.g. cn-shanghai (default: provider.region, else cn-hangzhou)", shortcut: "r", type: "string" };

/** CLI options the plugin reads, declared so the framework accepts them. */
export const pluginCommands = {
  package: { options: { region } },
  deploy: { options: { region } },
  remove: { options: { region } },
  info: { options: { region } },
  invoke: {
    options: {
      region,
      data: { usage: "Event (worker) or request body (callback) to send", shortcut: "d", type: "string" },
      path: { usage: "File with the event or request body", shortcut: "p", type: "string" },
    },
  },
  logs: {
    options: {
      region,
      startTime: { usage: "Logs since: 30m, 2h, 1d or a date (default 10m)", type: "string" },
      filter: { usage: "Extra SLS query, e.g. error", type: "string" },
      tail: { usage: "Keep polling for new lines", shortcut: "t", type: "boolean" },
      interval: { usage: "Polling interval in ms with --tail (default 2000)", shortcut: "i", type: "string" },
    },
  },
};
