// `serverless invoke -f NAME [--data JSON | --path FILE]`: event functions (worker, notify, scheduler)
// are invoked synchronously with the event; the callback (an HTTP function) gets an HTTP POST on its trigger, signed with the app's
// DingTalk secret like DingTalk signs it. Prints what the function returned; a function error fails.
import { readFileSync } from "node:fs";
import path from "node:path";
import { signTimestamp } from "../functions/core/dingtalk/sign.js";
import { readCredentials } from "./credentials.js";
import { DeployError } from "./errors.js";
import { fc, fcClient, getService, httpTriggerUrl } from "./fc.js";
import { readBotConfig } from "./function-env.js";
import type { Reporter } from "./output.js";
import { declaredFunctions, type DeploySettings, type FunctionName } from "./settings.js";

export interface InvokeContext {
  settings: DeploySettings;
  root: string;
  env: Record<string, string | undefined>;
  out: Reporter;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface InvokeInput {
  fn: string;
  data: string | undefined;
  path: string | undefined;
}

function payload(root: string, input: InvokeInput): string {
  if (input.data !== undefined && input.path !== undefined) throw new DeployError("give either --data or --path, not both");
  if (input.path !== undefined) {
    try {
      return readFileSync(path.resolve(root, input.path), "utf8");
    } catch (err) {
      throw new DeployError(`--path ${input.path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
  }
  return input.data ?? "{}";
}

export async function invoke(ctx: InvokeContext, input: InvokeInput): Promise<string> {
  const { settings: s, out } = ctx;
  const declared = declaredFunctions(s).map((f) => f.name);
  if (!(declared as string[]).includes(input.fn))
    throw new DeployError(`function "${input.fn}" is not part of this service (choose ${declared.join(", ")})`);
  const fn = input.fn as FunctionName;
  const settings = s.functions[fn]!;
  const body = payload(ctx.root, input);
  const creds = readCredentials(ctx.env);
  const client = fcClient(creds, s.region, ctx.env);
  if (!(await getService(client, s.fcServiceName))) throw new DeployError(`service ${s.fcServiceName} is not deployed in ${s.region}`);

  if (!settings.http) {
    const r = await fc(
      client,
      `invoke ${fn}`,
      client.client.invokeFunction<unknown>(s.fcServiceName, fn, body, { "x-fc-invocation-type": "Sync" }),
    );
    const text = typeof r.data === "string" ? r.data : Buffer.isBuffer(r.data) ? r.data.toString("utf8") : JSON.stringify(r.data);
    if (r.headers["x-fc-error-type"]) {
      const message = (r.data as { errorMessage?: unknown } | null)?.errorMessage;
      throw new DeployError(`function ${fn} failed (${String(r.headers["x-fc-error-type"])}): ${typeof message === "string" ? message : text}`);
    }
    out.result(text);
    return text;
  }

  const url = await httpTriggerUrl(client, s.fcServiceName, fn);
  if (!url) throw new DeployError(`function ${fn} has no HTTP trigger: run serverless deploy`);
  const secret = readBotConfig(s, ctx.root, s.environment).config.dingtalk.credentials?.clientSecret ?? "";
  const timestamp = String((ctx.now ?? Date.now)());
  const headers = { "content-type": "application/json; charset=utf-8", timestamp, sign: signTimestamp(timestamp, secret) };
  let status: number;
  let text: string;
  if (settings.http.authType === "function") {
    const proxyPath = `/proxy/${s.fcServiceName}/${fn}/`;
    const r = await fc(client, `call ${fn}`, client.client.post<unknown>(proxyPath, body, headers));
    status = 200;
    text = typeof r.data === "string" ? r.data : JSON.stringify(r.data);
  } else {
    let res: Response;
    try {
      res = await (ctx.fetch ?? fetch)(url, { method: "POST", headers, body, signal: AbortSignal.timeout(60_000) });
    } catch (err) {
      throw new DeployError(`cannot reach ${url}: ${err instanceof Error ? err.message : String(err)}`);
    }
    status = res.status;
    text = await res.text();
  }
  out.result(`HTTP ${status} ${text}`);
  if (status >= 400) throw new DeployError(`the callback answered HTTP ${status}`);
  return text;
}
