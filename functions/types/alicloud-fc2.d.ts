// Type declarations for @alicloud/fc2 2.6.6, which ships none. Every signature was checked against
// node_modules/@alicloud/fc2/lib/client.js and lib/helper.js; comments name the SDK's quirks.
declare module "@alicloud/fc2" {
  import type { IncomingHttpHeaders } from "node:http";
  import type { Readable } from "node:stream";

  namespace FCClient {
    /** `new Client(accountId, config)`. */
    interface ClientConfig {
      accessKeyID: string;
      accessKeySecret: string;
      /** Read only when `accessKeyID` starts with "STS" (then required and sent as `x-fc-security-token`). */
      securityToken?: string;
      region: string;
      /** https instead of http for the default endpoint. Default: http. */
      secure?: boolean;
      /** Default endpoint becomes `{accountId}.{region}-internal.fc.aliyuncs.com`. */
      internal?: boolean;
      /** Overrides the whole base URL, e.g. "http://127.0.0.1:9000"; `host` is then its hostname without the port. */
      endpoint?: string;
      /** Milliseconds, applied to connect and read. Default 60000. */
      timeout?: number;
      /** Merged into every request after the SDK's own headers and before per-call headers. */
      headers?: RequestHeaders;
    }

    /** Per-call headers. Names starting with `x-fc-` (any case) are signed. */
    type RequestHeaders = Record<string, string>;

    /**
     * Query parameters, serialised with `querystring.stringify`. For `/proxy/...` paths only string
     * values and arrays are signed: a scalar number or boolean is sent but not signed, so the
     * server's signature check fails. Pass strings there.
     */
    type Query = Record<string, string | number | boolean | readonly (string | number | boolean)[] | undefined>;

    /** Request body: Buffer, string or stream go as application/octet-stream; objects as JSON. Streams get no content-md5. */
    type Body = Buffer | string | Readable | object;

    /** Third-party options of `post`/`request`/`invokeFunction`. */
    interface RequestOptions {
      /** Return the body as a Buffer (ignored when the response carries `x-fc-error-type`). */
      rawBuf?: boolean;
    }

    /**
     * What every call resolves to. `data` is JSON-parsed only when the response content-type starts
     * with application/json; otherwise a utf8 string, or a Buffer with `rawBuf`.
     */
    interface Response<T> {
      headers: IncomingHttpHeaders;
      data: T;
    }

    /**
     * What every call rejects with on a non-2xx status. `name` is `FC${ErrorCode}Error`
     * (e.g. "FCServiceNotFoundError"; "FCundefinedError" when the body had no ErrorCode) and `code`
     * the server's ErrorCode. Message: `"<METHOD> <path> failed with <status>. requestid: <id>, message: <ErrorMessage>."`.
     * Transport failures reject with httpx's own errors instead (e.g. name "RequestTimeoutError").
     */
    interface FCError extends Error {
      code: string | undefined;
    }

    interface LogConfig {
      project?: string;
      logstore?: string;
      enableRequestMetrics?: boolean;
      enableInstanceMetrics?: boolean;
      logBeginRule?: "DefaultRegex" | "None";
    }

    interface VpcConfig {
      vpcId?: string;
      vSwitchIds?: string[];
      securityGroupId?: string;
    }

    interface ServiceOptions {
      description?: string;
      role?: string;
      logConfig?: LogConfig;
      vpcConfig?: VpcConfig;
      internetAccess?: boolean;
      nasConfig?: Record<string, unknown>;
      tracingConfig?: Record<string, unknown>;
    }

    interface ServiceResponse extends ServiceOptions {
      serviceName: string;
      serviceId: string;
      createdTime: string;
      lastModifiedTime: string;
    }

    /** `code` is inline base64 (`zipFile`) or an OSS object. */
    type Code = { zipFile: string } | { ossBucketName: string; ossObjectName: string };

    interface FunctionOptions {
      functionName?: string;
      description?: string;
      runtime?: string;
      handler?: string;
      initializer?: string;
      /** Seconds. */
      timeout?: number | string;
      initializationTimeout?: number | string;
      /** MB. */
      memorySize?: number | string;
      instanceConcurrency?: number;
      instanceType?: string;
      code?: Code;
      environmentVariables?: Record<string, string>;
      customContainerConfig?: { image?: string; command?: string; args?: string };
      caPort?: number;
      layers?: string[];
      /**
       * When true, `code.zipFile` is a local file path uploaded through a temporary OSS bucket
       * (GET /services/{svc}/tempCodeBucketToken first). Removed from the options before sending.
       */
      withoutCodeLimit?: boolean;
    }

    interface CreateFunctionOptions extends FunctionOptions {
      functionName: string;
    }

    interface FunctionResponse {
      functionId: string;
      functionName: string;
      description?: string;
      runtime: string;
      handler: string;
      initializer?: string;
      timeout: number;
      initializationTimeout?: number;
      memorySize: number;
      instanceConcurrency?: number;
      instanceType?: string;
      environmentVariables?: Record<string, string>;
      codeSize: number;
      codeChecksum: string;
      createdTime: string;
      lastModifiedTime: string;
      layers?: string[];
      caPort?: number;
    }

    interface ListOptions {
      limit?: number;
      prefix?: string;
      startKey?: string;
      nextToken?: string;
    }

    interface ListServicesOptions extends ListOptions {
      /** Turned into `tag_<k>=<v>` query parameters. */
      tags?: Record<string, string>;
    }

    interface HttpTriggerConfig {
      authType: "anonymous" | "function";
      methods: string[];
    }

    interface TriggerOptions {
      triggerName?: string;
      /** "http", "oss", "timer", "log", "mns_topic", "cdn_events", "tablestore", "eventbridge", ... */
      triggerType?: string;
      triggerConfig?: HttpTriggerConfig | Record<string, unknown>;
      sourceArn?: string;
      invocationRole?: string;
      qualifier?: string;
      description?: string;
    }

    interface CreateTriggerOptions extends TriggerOptions {
      triggerName: string;
      triggerType: string;
    }

    interface TriggerResponse {
      triggerName: string;
      triggerType: string;
      triggerConfig: HttpTriggerConfig | Record<string, unknown>;
      sourceArn?: string;
      invocationRole?: string;
      qualifier?: string;
      description?: string;
      createdTime: string;
      lastModifiedTime: string;
    }

    interface Destination {
      destination: string;
    }

    interface AsyncConfigOptions {
      maxAsyncEventAgeInSeconds?: number;
      maxAsyncRetryAttempts?: number;
      destinationConfig?: { onSuccess?: Destination; onFailure?: Destination };
      statefulInvocation?: boolean;
    }

    interface AsyncConfigResponse extends AsyncConfigOptions {
      service?: string;
      function?: string;
      qualifier?: string;
      createdTime?: string;
      lastModifiedTime?: string;
    }
  }

  class FCClient {
    /** Throws TypeError when accountId, config, accessKeyID, accessKeySecret or region is missing, or an STS key lacks securityToken. */
    constructor(accountId: string, config: FCClient.ClientConfig);

    readonly accountid: string;
    readonly accessKeyID: string;
    readonly accessKeySecret: string;
    readonly securityToken?: string;
    readonly endpoint: string;
    readonly host: string;
    readonly version: "2016-08-15";
    readonly timeout: number;
    readonly headers: FCClient.RequestHeaders;
    readonly region: string;

    /**
     * `Authorization` value `FC <id>:<base64 HMAC-SHA256>`. `path` includes "/2016-08-15".
     * Reads `headers["content-md5"]`, `["content-type"]`, `["date"]` by exact lowercase name and every
     * header whose lowercased name starts with "x-fc-". `queries` (only for /proxy/ paths) adds
     * "\n" + the sorted `k=v` lines; the SDK passes `{}` there, never null, for /proxy/ paths.
     */
    static getSignature(
      accessKeyID: string,
      accessKeySecret: string,
      method: string,
      path: string,
      headers: Record<string, string | number | undefined>,
      queries?: Record<string, string | readonly string[]> | null,
    ): string;

    request<T = unknown>(
      method: string,
      path: string,
      query: FCClient.Query | null | undefined,
      body: FCClient.Body | null | undefined,
      headers?: FCClient.RequestHeaders,
      opts?: FCClient.RequestOptions,
    ): Promise<FCClient.Response<T>>;
    /** Raw GET on `/2016-08-15{path}`; `/proxy/{svc}/{fn}/...` paths call an HTTP trigger with the query signed. */
    get<T = unknown>(path: string, query?: FCClient.Query | null, headers?: FCClient.RequestHeaders): Promise<FCClient.Response<T>>;
    post<T = unknown>(
      path: string,
      body?: FCClient.Body | null,
      headers?: FCClient.RequestHeaders,
      queries?: FCClient.Query | null,
      opts?: FCClient.RequestOptions,
    ): Promise<FCClient.Response<T>>;
    put<T = unknown>(path: string, body?: FCClient.Body | null, headers?: FCClient.RequestHeaders): Promise<FCClient.Response<T>>;
    delete<T = unknown>(path: string, query?: FCClient.Query | null, headers?: FCClient.RequestHeaders): Promise<FCClient.Response<T>>;

    /** POST /services with body `{serviceName, ...options}`. */
    createService(
      serviceName: string,
      options?: FCClient.ServiceOptions,
      headers?: FCClient.RequestHeaders,
    ): Promise<FCClient.Response<FCClient.ServiceResponse>>;
    /** GET /services?limit&prefix&startKey&nextToken&tag_k=v (mutates `options.tags` away). */
    listServices(
      options?: FCClient.ListServicesOptions,
      headers?: FCClient.RequestHeaders,
    ): Promise<FCClient.Response<{ services: FCClient.ServiceResponse[]; nextToken?: string }>>;
    /** GET /services/{name[.qualifier]}. Note the order: headers before qualifier. */
    getService(
      serviceName: string,
      headers?: FCClient.RequestHeaders,
      qualifier?: string,
    ): Promise<FCClient.Response<FCClient.ServiceResponse>>;
    /** PUT /services/{name}. */
    updateService(
      serviceName: string,
      options?: FCClient.ServiceOptions,
      headers?: FCClient.RequestHeaders,
    ): Promise<FCClient.Response<FCClient.ServiceResponse>>;
    /**
     * DELETE /services/{name}. SDK quirk: the second argument is sent as request HEADERS (e.g.
     * `{ "if-match": etag }`) and a third argument would be dropped, so it is not declared.
     */
    deleteService(serviceName: string, headersAsOptions?: FCClient.RequestHeaders): Promise<FCClient.Response<unknown>>;

    /**
     * POST /services/{svc}/functions. Mutates `options`: drops `withoutCodeLimit`, `parseInt`s
     * memorySize/timeout/initializationTimeout and `String`s functionName/runtime/handler/initializer.
     */
    createFunction(
      serviceName: string,
      options: FCClient.CreateFunctionOptions,
      headers?: FCClient.RequestHeaders,
    ): Promise<FCClient.Response<FCClient.FunctionResponse>>;
    /** GET /services/{svc[.qualifier]}/functions?limit&prefix&startKey&nextToken. */
    listFunctions(
      serviceName: string,
      options?: FCClient.ListOptions,
      headers?: FCClient.RequestHeaders,
      qualifier?: string,
    ): Promise<FCClient.Response<{ functions: FCClient.FunctionResponse[]; nextToken?: string }>>;
    /** GET /services/{svc[.qualifier]}/functions/{fn}. */
    getFunction(
      serviceName: string,
      functionName: string,
      headers?: FCClient.RequestHeaders,
      qualifier?: string,
    ): Promise<FCClient.Response<FCClient.FunctionResponse>>;
    /** GET .../functions/{fn}/code → `{url, checksum}`. SDK bug: `headers` is sent as the QUERY, not as headers. */
    getFunctionCode(
      serviceName: string,
      functionName: string,
      headers?: FCClient.RequestHeaders,
      qualifier?: string,
    ): Promise<FCClient.Response<{ url: string; checksum: string }>>;
    /** PUT /services/{svc}/functions/{fn}; mutates `options` like createFunction. */
    updateFunction(
      serviceName: string,
      functionName: string,
      options: FCClient.FunctionOptions,
      headers?: FCClient.RequestHeaders,
    ): Promise<FCClient.Response<FCClient.FunctionResponse>>;
    /** DELETE /services/{svc}/functions/{fn}; `options` become the query string. */
    deleteFunction(
      serviceName: string,
      functionName: string,
      options?: FCClient.Query,
      headers?: FCClient.RequestHeaders,
    ): Promise<FCClient.Response<unknown>>;

    /**
     * POST /services/{svc[.qualifier]}/functions/{fn}/invocations with the event as octet-stream.
     * Throws TypeError SYNCHRONOUSLY (not a rejection) when `event` is neither string nor Buffer.
     * Async: header `x-fc-invocation-type: Async` → 202 with `data === ""`. A function error is a
     * 200 with header `x-fc-error-type` and data `{errorMessage, ...}`: it does not throw.
     */
    invokeFunction<T = unknown>(
      serviceName: string,
      functionName: string,
      event?: string | Buffer | null,
      headers?: FCClient.RequestHeaders,
      qualifier?: string | null,
      opts?: FCClient.RequestOptions,
    ): Promise<FCClient.Response<T>>;

    /** POST /services/{svc}/functions/{fn}/triggers. */
    createTrigger(
      serviceName: string,
      functionName: string,
      options: FCClient.CreateTriggerOptions,
      headers?: FCClient.RequestHeaders,
    ): Promise<FCClient.Response<FCClient.TriggerResponse>>;
    /** GET .../triggers?limit&prefix&startKey&nextToken. */
    listTriggers(
      serviceName: string,
      functionName: string,
      options?: FCClient.ListOptions,
      headers?: FCClient.RequestHeaders,
    ): Promise<FCClient.Response<{ triggers: FCClient.TriggerResponse[]; nextToken?: string }>>;
    /** GET .../triggers/{trigger}. */
    getTrigger(
      serviceName: string,
      functionName: string,
      triggerName: string,
      headers?: FCClient.RequestHeaders,
    ): Promise<FCClient.Response<FCClient.TriggerResponse>>;
    /** PUT .../triggers/{trigger}; FC reads `{invocationRole, triggerConfig, qualifier, description}`. */
    updateTrigger(
      serviceName: string,
      functionName: string,
      triggerName: string,
      options?: FCClient.TriggerOptions,
      headers?: FCClient.RequestHeaders,
    ): Promise<FCClient.Response<FCClient.TriggerResponse>>;
    /** DELETE .../triggers/{trigger}; `options` become the query string. */
    deleteTrigger(
      serviceName: string,
      functionName: string,
      triggerName: string,
      options?: FCClient.Query,
      headers?: FCClient.RequestHeaders,
    ): Promise<FCClient.Response<unknown>>;

    /** PUT /services/{svc[.qualifier]}/functions/{fn}/async-invoke-config. Note: qualifier comes BEFORE options. */
    putFunctionAsyncConfig(
      serviceName: string,
      functionName: string,
      qualifier: string | null | undefined,
      options?: FCClient.AsyncConfigOptions,
      headers?: FCClient.RequestHeaders,
    ): Promise<FCClient.Response<FCClient.AsyncConfigResponse>>;
    /** GET .../async-invoke-config. */
    getFunctionAsyncConfig(
      serviceName: string,
      functionName: string,
      qualifier?: string | null,
      headers?: FCClient.RequestHeaders,
    ): Promise<FCClient.Response<FCClient.AsyncConfigResponse>>;
    /** DELETE .../async-invoke-config. */
    deleteFunctionAsyncConfig(
      serviceName: string,
      functionName: string,
      qualifier?: string | null,
      headers?: FCClient.RequestHeaders,
    ): Promise<FCClient.Response<unknown>>;
    /** GET /services/{svc}/functions/{fn}/async-invoke-configs (no qualifier). */
    listFunctionAsyncConfigs(
      serviceName: string,
      functionName: string,
      options?: FCClient.ListOptions,
      headers?: FCClient.RequestHeaders,
    ): Promise<FCClient.Response<{ configs: FCClient.AsyncConfigResponse[]; nextToken?: string }>>;
  }

  export = FCClient;
}

/** The same client without the package index's ES5 fallback branch (keeps function bundles lean). */
declare module "@alicloud/fc2/lib/client.js" {
  import FCClient from "@alicloud/fc2";
  export = FCClient;
}
