// JSON schema of the `aliyun` provider's serverless.yml properties, registered with the framework's
// config validation (defineProvider) so typos are reported before anything runs. Values that come
// from `${env:...}` arrive as strings, so numbers and booleans accept their string forms too.
const text = { type: "string" };
const integer = { anyOf: [{ type: "integer" }, { type: "string", pattern: "^\\s*\\d*\\s*$" }] };
const boolean = { anyOf: [{ type: "boolean" }, { type: "string", enum: ["true", "false", ""] }] };
const environment = {
  type: "object",
  patternProperties: { "^[A-Za-z][A-Za-z0-9_]*$": { anyOf: [{ type: "string" }, { type: "number" }, { type: "boolean" }] } },
  additionalProperties: false,
};

export const providerSchema = {
  provider: {
    properties: {
      runtime: { enum: ["nodejs20", "nodejs18"] },
      region: text,
      description: text,
      role: text,
      logConfig: {
        type: "object",
        properties: { project: text, logstore: text },
        additionalProperties: false,
      },
      vpcConfig: {
        type: "object",
        properties: { vpcId: text, vSwitchIds: { type: "array", items: text }, securityGroupId: text },
        additionalProperties: false,
      },
      internetAccess: boolean,
      config: text,
      configJson: text,
      table: {
        type: "object",
        properties: { endpoint: text, name: text, region: text, accessKeyId: text, secretAccessKey: text, retain: boolean, manage: boolean },
        additionalProperties: false,
      },
      environment,
    },
  },
  function: {
    properties: {
      handler: text,
      entry: text,
      description: text,
      memorySize: integer,
      timeout: integer,
      instanceConcurrency: integer,
      environment,
      async: {
        type: "object",
        properties: { maxAsyncRetryAttempts: integer, maxAsyncEventAgeInSeconds: integer },
        additionalProperties: false,
      },
      package: { type: "object", properties: { artifact: text }, additionalProperties: false },
    },
  },
  functionEvents: {
    http: {
      anyOf: [
        { type: "null" },
        {
          type: "object",
          properties: {
            name: text,
            authType: { enum: ["anonymous", "function"] },
            methods: { type: "array", items: { enum: ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"] } },
          },
          additionalProperties: false,
        },
      ],
    },
  },
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
