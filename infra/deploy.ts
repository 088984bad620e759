// `serverless deploy`: role → table → service → worker (+ async config) → notify → scheduler (+ timer
// trigger) → callback (+ HTTP trigger), each created or updated in place (a function no longer in
// serverless.yml is deleted), one progress line per step, ending with the URL to paste into DingTalk's console. Validates the bot config and every function's environment before touching the cloud.
import { readCredentials } from "./credentials.js";
import {
  fcClient,
  functionNames,
  httpTriggerUrl,
  putAsyncConfig,
  removeFunction,
  upsertFunction,
  upsertHttpTrigger,
  upsertService,
  upsertTimerTrigger,
} from "./fc.js";
import { functionEnvironment, readBotConfig } from "./function-env.js";
import type { Reporter } from "./output.js";
import { ensureRole, ramClient } from "./role.js";
import { declaredFunctions, FUNCTION_NAMES, type DeploySettings, type FunctionName } from "./settings.js";
import { ensureDeployTable, openDeployTable } from "./table.js";
import { kb } from "./bundle.js";

export interface DeployContext {
  settings: DeploySettings;
  /** The service directory (where serverless.yml and the config file are). */
  root: string;
  env: Record<string, string | undefined>;
  out: Reporter;
  sleep?: (ms: number) => Promise<void>;
}

export interface DeployResult {
  url: string;
  roleArn: string;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function deploy(ctx: DeployContext, zips: Partial<Record<FunctionName, Uint8Array>>): Promise<DeployResult> {
  const { settings: s, out } = ctx;
  const creds = readCredentials(ctx.env);
  const bot = readBotConfig(s, ctx.root, s.environment);
  for (const w of bot.config.warnings) out.warn(w);
  if (bot.config.models.length === 0) out.warn(`${bot.source}: model_list is empty; the bot will answer that no model is configured`);
  const functions = declaredFunctions(s);
  const envs = Object.fromEntries(functions.map((f) => [f.name, functionEnvironment(s, bot, f.name)])) as Partial<Record<FunctionName, Record<string, string>>>;
  out.note(`deploying ${s.fcServiceName} to ${s.region} (account ${creds.accountId}, stage ${s.stage}, config ${bot.source})`);

  const role = await ensureRole(s, creds, ramClient(creds, ctx.env));
  if (role.role === "existing") out.step(`role ${role.arn} (from serverless.yml)`);
  else out.step(`role ${s.managedRoleName} ${role.role}, policy ${s.managedPolicyName} ${role.policy}`);

  if (s.table.kind === "tablestore" && (s.table.accessKeyId || s.table.secretAccessKey))
    out.warn("provider.table.accessKeyId/secretAccessKey are ignored: the functions reach Tablestore with their role");
  if (s.table.manage) {
    const db = await openDeployTable(s.table, creds);
    try {
      const t = await ensureDeployTable(db, s.fcServiceName);
      out.step(`table ${s.table.name} ${t.created ? "created" : "ready"} (${s.table.kind}) at ${db.where} (TTL ${t.ttl})`);
    } finally {
      await db.close();
    }
  } else out.note(`table ${s.table.name} not checked (DINGCLAW_TABLE_MANAGE=false): it must already exist`);

  const fc = fcClient(creds, s.region, ctx.env);
  const service = await upsertService(
    fc,
    s.fcServiceName,
    { description: s.description, role: role.arn, logConfig: s.logConfig, vpcConfig: s.vpcConfig, internetAccess: s.internetAccess },
    { retryRole: role.role === "created", sleep: ctx.sleep ?? defaultSleep },
  );
  out.step(`service ${s.fcServiceName} ${service}${s.logConfig ? ` (logs → ${s.logConfig.project}/${s.logConfig.logstore})` : ""}`);

  for (const f of functions) {
    const name = f.name;
    const zip = zips[name];
    if (!zip) throw new Error(`no package for function ${name}`);
    const change = await upsertFunction(fc, s.fcServiceName, {
      name,
      description: f.description,
      runtime: s.runtime,
      handler: f.handler,
      memorySize: f.memorySize,
      timeout: f.timeout,
      instanceConcurrency: f.instanceConcurrency,
      environmentVariables: envs[name] ?? {},
      zip,
    });
    out.step(
      `function ${name} ${change} (${kb(zip.length)} zip, ${f.memorySize} MB, ${f.timeout} s, ` +
        `${f.instanceConcurrency} concurrent requests per instance)`,
    );
    if (f.async) {
      await putAsyncConfig(fc, s.fcServiceName, name, f.async);
      out.step(`${name} async invocation: ${f.async.maxAsyncRetryAttempts} retries, events expire after ${f.async.maxAsyncEventAgeInSeconds} s`);
    }
    if (f.http) {
      const trigger = await upsertHttpTrigger(fc, s.fcServiceName, name, f.http);
      out.step(`HTTP trigger ${f.http.name} ${trigger} (${f.http.authType}, ${f.http.methods.join("/")})`);
    }
    if (f.timer) {
      const trigger = await upsertTimerTrigger(fc, s.fcServiceName, name, f.timer);
      out.step(`timer trigger ${f.timer.name} ${trigger} (${f.timer.cronExpression}, UTC${f.timer.enable ? "" : ", disabled"})`);
    }
  }
  // Our functions that serverless.yml no longer declares (e.g. the scheduler taken out) go, with their triggers.
  const declared = new Set<string>(functions.map((f) => f.name));
  for (const name of await functionNames(fc, s.fcServiceName))
    if ((FUNCTION_NAMES as readonly string[]).includes(name) && !declared.has(name))
      await removeFunction(fc, s.fcServiceName, name, (what) => out.step(`${what} (no longer in serverless.yml)`));

  const url = await httpTriggerUrl(fc, s.fcServiceName, "callback");
  if (!url) throw new Error("the callback's HTTP trigger is missing right after deploy");
  out.note("Paste this URL into the DingTalk developer console (robot → message receiving mode HTTP → message receiving address):");
  out.result(url);
  return { url, roleArn: role.arn };
}
