// `serverless info`: the deployed service, its functions with their timer triggers, the callback's HTTP trigger URL, the role,
// the table and where the logs go, as FC reports them.
import { readCredentials } from "./credentials.js";
import { DeployError } from "./errors.js";
import * as z from "zod";
import { fc, fcClient, getService, httpTriggerUrl, type FcTarget } from "./fc.js";
import { kb } from "./bundle.js";
import type { Reporter } from "./output.js";
import type { DeploySettings } from "./settings.js";
import { safeEndpoint } from "../functions/core/store/errors.js";

export interface InfoContext {
  settings: DeploySettings;
  env: Record<string, string | undefined>;
  out: Reporter;
}

export interface InfoResult {
  url: string | undefined;
  functions: string[];
}

const TimerConfig = z.looseObject({ cronExpression: z.string(), enable: z.boolean().optional() });

/** "timer trigger timer: @every 1m (UTC, enabled)" for each trigger other than the callback's HTTP trigger (its URL has a line). */
async function triggersOf(client: FcTarget, service: string, fn: string): Promise<string[]> {
  const list = await fc(client, `list triggers of ${fn}`, client.client.listTriggers(service, fn, { limit: 100 }));
  return (list.data.triggers ?? []).flatMap((t) => {
    if (t.triggerType === "http") return [];
    const timer = t.triggerType === "timer" ? TimerConfig.safeParse(t.triggerConfig) : undefined;
    if (timer?.success) return [`timer trigger ${t.triggerName}: ${timer.data.cronExpression} (UTC, ${timer.data.enable === false ? "disabled" : "enabled"})`];
    return [`${t.triggerType} trigger ${t.triggerName}`];
  });
}

export async function info(ctx: InfoContext): Promise<InfoResult> {
  const { settings: s, out } = ctx;
  const creds = readCredentials(ctx.env);
  const client = fcClient(creds, s.region, ctx.env);
  const service = await getService(client, s.fcServiceName);
  if (!service) throw new DeployError(`service ${s.fcServiceName} is not deployed in ${s.region}: run serverless deploy${s.stage === "dev" ? "" : ` --stage ${s.stage}`}`);
  const list = await fc(client, `list functions of ${s.fcServiceName}`, client.client.listFunctions(s.fcServiceName, { limit: 100 }));
  const fns = list.data.functions ?? [];
  const triggers = await Promise.all(fns.map((f) => triggersOf(client, s.fcServiceName, f.functionName)));
  const url = fns.some((f) => f.functionName === "callback") ? await httpTriggerUrl(client, s.fcServiceName, "callback") : undefined;
  const log = service.logConfig?.project && service.logConfig.logstore ? `${service.logConfig.project}/${service.logConfig.logstore}` : undefined;
  const lines = [
    `service:   ${s.fcServiceName} (region ${s.region}, stage ${s.stage}, account ${creds.accountId})`,
    `role:      ${service.role || "(none)"}`,
    "functions:",
    ...fns.map(
      (f, i) =>
        `  ${f.functionName.padEnd(9)} ${f.runtime}, ${f.memorySize} MB, ${f.timeout} s, ` +
        `${f.instanceConcurrency ?? 1} per instance, code ${kb(f.codeSize)}, updated ${f.lastModifiedTime}` +
        (triggers[i]!.length ? `\n            ${triggers[i]!.join("; ")}` : ""),
    ),
    `callback URL: ${url ?? "(no HTTP trigger)"}`,
    `table:     ${s.table.name} at ${s.table.endpoint ? safeEndpoint(s.table.endpoint) : "(DINGCLAW_TABLE_ENDPOINT not set)"} ` +
      (s.table.kind === "tablestore" ? `(Tablestore, instance ${s.table.instance ?? "?"}, the functions' role)` : "(DynamoDB API)"),
    `logs:      ${log ?? "not configured (set provider.logConfig to use serverless logs)"}`,
  ];
  out.result(lines.join("\n"));
  return { url, functions: fns.map((f) => f.functionName) };
}
