// `npm run doctor`: the troubleshooting list as checks. Each check answers ✓ or ✗ with a one-line
// fix, distinguishing the usual causes (bad credentials vs network, missing permission, quota…).
// Nothing here sends a real message or prints a secret.
import * as z from "zod";
import { ConfigError, loadConfig, MODEL_ENTRY_EXAMPLE, type AppConfig, type ModelEndpoint } from "./config.js";
import { EnvError, readEnv, type Env, type EnvSource } from "./env.js";
import { DingTalkClient } from "./dingtalk/client.js";
import { DingTalkApiError } from "./dingtalk/http.js";
import { LlmClient, LlmError } from "./llm/index.js";
import { describeError, silentLogger } from "./log.js";
import { probeTable, type TableCheckResult } from "./store/probe.js";
import { openTable } from "./store/table.js";

export interface CheckResult {
  name: string;
  ok: boolean;
  /** What was found, e.g. "token received" or "invalid client id or secret". */
  detail: string;
  /** One line: what to do about a ✗. */
  fix?: string;
}

export interface DoctorOptions {
  env: EnvSource;
  fetch?: typeof fetch;
  /** Reads the FC service with the deploy credentials (the host wires @alicloud/fc2). */
  readFcService?: (names: { serviceName: string; region: string }) => Promise<void>;
  /** Tablestore: invokes the deployed worker's table check (`{"check":"table"}`), which runs with the functions' role. */
  checkTableAsWorker?: (names: { serviceName: string; region: string }) => Promise<TableCheckResult>;
}

const pass = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, ok: false, detail, fix });

function isNetwork(err: DingTalkApiError): boolean {
  return err.code === "network" || err.code === "timeout";
}

async function checkDingTalk(config: AppConfig, opts: DoctorOptions): Promise<CheckResult[]> {
  const creds = config.dingtalk.credentials;
  if (!creds)
    return [fail("DingTalk credentials", "not configured", "set channels.dingtalk.client_id and client_secret (or DINGTALK_CLIENT_ID / DINGTALK_CLIENT_SECRET)")];
  const client = new DingTalkClient({
    credentials: creds,
    apiBase: config.dingtalk.apiBase,
    oapiBase: config.dingtalk.oapiBase,
    fetch: opts.fetch,
    maxAttempts: 1,
    timeoutMs: 8_000,
    log: silentLogger,
  });
  try {
    await client.accessToken();
  } catch (err) {
    const name = "DingTalk access token";
    if (err instanceof DingTalkApiError && isNetwork(err))
      return [fail(name, `cannot reach ${config.dingtalk.apiBase} (${err.code})`, "check the network / proxy, or DINGTALK_API_BASE")];
    if (err instanceof DingTalkApiError && ["invalidClientIdOrSecret", "40096", "40089"].includes(err.code))
      return [fail(name, `DingTalk rejected client id "${creds.clientId}" or its secret`, "copy Client ID and Client Secret again from the developer console (凭证与基础信息)")];
    return [fail(name, describeError(err).message, "see the DingTalk developer console for the app's status")];
  }
  const results = [pass("DingTalk access token", `token received for ${creds.clientId}`)];
  results.push(await probeSend(client, creds.robotCode));
  const cards = config.dingtalk.cards;
  if (cards.mode === "answer" && cards.templateId) results.push(...(await probeCards(client, creds.robotCode, cards.templateId, cards.contentKey)));
  return results;
}

function permissionFailure(name: string, err: unknown, permission: string): CheckResult {
  if (err instanceof DingTalkApiError && (err.status === 403 || err.code.includes("PermissionDenied")))
    return fail(name, `the app lacks ${permission} (${err.code})`, `developer console → 权限管理: add ${permission}, then publish the app`);
  if (err instanceof DingTalkApiError && isNetwork(err)) return fail(name, `cannot reach DingTalk (${err.code})`, "check the network");
  return fail(name, describeError(err).message, "check the card settings in README → Rich messages and AI cards");
}

/**
 * Card permissions without showing anyone a card: a streaming update of a card that does not exist
 * and a delivery into an invalid space both fail on their parameters only once the permission passed.
 */
async function probeCards(client: DingTalkClient, robotCode: string, templateId: string, key: string): Promise<CheckResult[]> {
  const probe = "dingclaw-doctor-probe";
  const create = "card create (Card.Instance.Write)";
  const stream = "card streaming (Card.Streaming.Write)";
  const results: CheckResult[] = [];
  try {
    await client.callOpenApi({
      api: "card.createAndDeliver",
      path: "/v1.0/card/instances/createAndDeliver",
      body: { cardTemplateId: templateId, outTrackId: probe, cardData: { cardParamMap: {} }, openSpaceId: "dtv1.card//IM_ROBOT.", imRobotOpenDeliverModel: { spaceType: "IM_ROBOT", robotCode } },
      schema: z.unknown(),
    });
    results.push(pass(create, "granted"));
  } catch (err) {
    if (err instanceof DingTalkApiError && err.code === "param.templateNotExist")
      results.push(fail(create, `template ${templateId} does not exist for this app`, "check channels.dingtalk.card_template_id (card platform → your template → 模板ID)"));
    else if (err instanceof DingTalkApiError && err.code.startsWith("param.")) results.push(pass(create, "granted"));
    else results.push(permissionFailure(create, err, "Card.Instance.Write"));
  }
  try {
    await client.callOpenApi({
      api: "card.streaming",
      method: "PUT",
      path: "/v1.0/card/streaming",
      body: { outTrackId: probe, guid: `${probe}-${Date.now()}`, key, content: "probe", isFull: true, isFinalize: false, isError: false },
      schema: z.unknown(),
    });
    results.push(pass(stream, "granted"));
  } catch (err) {
    if (err instanceof DingTalkApiError && err.code.startsWith("param.")) results.push(pass(stream, "granted"));
    else results.push(permissionFailure(stream, err, "Card.Streaming.Write"));
  }
  return results;
}

/** Asks batchSend to message a staff id that does not exist: permission problems show, nothing is delivered. */
async function probeSend(client: DingTalkClient, robotCode: string): Promise<CheckResult> {
  const name = "robot can send";
  try {
    await client.callOpenApi({
      api: "robot.oToMessages.batchSend",
      path: "/v1.0/robot/oToMessages/batchSend",
      body: { robotCode, userIds: ["dingclaw-doctor-probe"], msgKey: "sampleText", msgParam: JSON.stringify({ content: "dingclaw doctor" }) },
      schema: z.unknown(),
    });
    return pass(name, `robot ${robotCode} may send 1:1 messages`);
  } catch (err) {
    if (!(err instanceof DingTalkApiError)) return fail(name, describeError(err).message, "retry; if it persists, check the app");
    if (err.code === "staffId.notExisted" || err.code === "invalidStaffId") return pass(name, `robot ${robotCode} may send 1:1 messages`);
    if (err.code.includes("PermissionDenied"))
      return fail(name, "the app lacks the robot send permission (qyapi_robot_sendmsg)", "developer console → 权限管理: add 企业内机器人发送消息权限, then publish the app");
    if (err.code.startsWith("invalidParameter.robotCode") || err.code === "chatbotId.notAllow.sendOTO")
      return fail(name, `robot code "${robotCode}" is not usable (${err.code})`, "enable the robot capability of the app, or set channels.dingtalk.robot_code");
    if (isNetwork(err)) return fail(name, `cannot reach DingTalk (${err.code})`, "check the network");
    return fail(name, `${err.code}: ${err.message}`, "check the app's robot settings in the developer console");
  }
}

function describeModelFailure(err: LlmError): { detail: string; fix: string } {
  const last = err.attempts.at(-1);
  const detail = last?.detail ?? err.message;
  if (last?.status === 404 || /model.*(not.?exist|not.?found|不存在)|model_not_found|\b1211\b/i.test(detail))
    return { detail: "the provider does not know this model id", fix: "check the model id after the provider prefix in model_list[].model" };
  switch (err.kind) {
    case "auth":
      return { detail: "invalid API key", fix: "check model_list[].api_key for this entry" };
    case "quota":
      return { detail: "quota or balance exhausted", fix: "top up the provider account or use another key" };
    case "rate_limit":
      return { detail: "rate limited right now", fix: "wait and retry; consider a fallback model" };
    case "network":
    case "timeout":
      return { detail: `cannot reach the provider (${err.kind})`, fix: "check the network, or api_base" };
    default:
      return { detail: `${err.kind}${last?.status ? ` (HTTP ${last.status})` : ""}`, fix: "check api_base and the model id" };
  }
}

async function checkModel(config: AppConfig, endpoint: ModelEndpoint, opts: DoctorOptions): Promise<CheckResult> {
  const name = `model ${endpoint.name} (${endpoint.provider}/${endpoint.model} at ${new URL(endpoint.baseURL).host})`;
  const llm = new LlmClient(
    { models: [endpoint], agent: { ...config.agent, primary: endpoint.name, fallbacks: [], maxTokens: 8, llmTimeoutMs: 20_000 } },
    { fetch: opts.fetch },
  );
  try {
    const r = await llm.chat({ messages: [{ role: "user", content: "ping" }] });
    return pass(name, `answers (${r.totalMs} ms)`);
  } catch (err) {
    if (!(err instanceof LlmError)) return fail(name, describeError(err).message, "check this model_list entry");
    const { detail, fix } = describeModelFailure(err);
    return fail(name, detail, fix);
  }
}

async function checkTable(config: AppConfig, env: Env, opts: DoctorOptions): Promise<CheckResult[]> {
  const name = "table";
  if (!config.table.endpoint) return [pass(name, `embedded store in ${config.table.dataDir} (created by npm start)`)];
  const tablestore = config.table.kind === "tablestore";
  const results: CheckResult[] = [];
  let table;
  try {
    table = await openTable(config.table, { log: silentLogger, env: opts.env });
    const probe = await probeTable(table);
    // DynamoDB API: the machine holds the same key as the functions. Tablestore: the deploy key, not the role.
    if (probe.status === "table-ok") results.push(pass(name, tablestore ? `${probe.detail} with the deploy key` : probe.detail));
    else
      results.push(
        fail(
          name,
          probe.detail,
          tablestore
            ? "run npx serverless deploy (it creates the table); check DINGCLAW_TABLE_ENDPOINT / _INSTANCE and ALIBABA_CLOUD_ACCESS_KEY_*"
            : "run npx serverless deploy (it creates the table); check DINGCLAW_TABLE_ENDPOINT and the AWS_* credentials",
        ),
      );
  } catch (err) {
    results.push(
      fail(
        name,
        `cannot reach ${config.table.endpoint}: ${describeError(err).message}`,
        tablestore
          ? "check DINGCLAW_TABLE_ENDPOINT, DINGCLAW_TABLE_INSTANCE, ALIBABA_CLOUD_ACCESS_KEY_* and the network (a VPC endpoint is reachable only from the VPC)"
          : "check DINGCLAW_TABLE_ENDPOINT, the AWS_* credentials and the network (same VPC/region)",
      ),
    );
  } finally {
    await table?.close();
  }
  if (tablestore && opts.checkTableAsWorker && env.ALIBABA_CLOUD_ACCOUNT_ID) {
    const label = "table from the functions";
    const { serviceName, region } = deployedService(env);
    try {
      const r = await opts.checkTableAsWorker({ serviceName, region });
      results.push(r.status === "table-ok" ? pass(label, `${r.detail} with the worker's role`) : fail(label, r.detail, "deploy again (it grants the role this table's row operations); check the endpoint is reachable from FC (VPC endpoint needs vpcConfig)"));
    } catch (err) {
      results.push(fail(label, `cannot ask the deployed worker: ${describeError(err).message}`, "deploy first, with the same stage (DINGCLAW_STAGE) and region"));
    }
  }
  return results;
}

/** The deployed FC service doctor looks at. */
function deployedService(env: Env): { serviceName: string; region: string } {
  return { serviceName: env.DINGCLAW_SERVICE_NAME ?? `dingclaw-${env.DINGCLAW_STAGE ?? "dev"}`, region: env.ALIBABA_CLOUD_REGION ?? env.FC_REGION ?? "cn-hangzhou" };
}

async function checkDeploy(env: Env, opts: DoctorOptions): Promise<CheckResult | undefined> {
  if (!env.ALIBABA_CLOUD_ACCESS_KEY_ID && !env.ALIBABA_CLOUD_ACCESS_KEY_SECRET) return undefined;
  const name = "deploy credentials";
  if (!env.ALIBABA_CLOUD_ACCESS_KEY_ID || !env.ALIBABA_CLOUD_ACCESS_KEY_SECRET || !env.ALIBABA_CLOUD_ACCOUNT_ID)
    return fail(name, "incomplete", "set ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_ACCOUNT_ID");
  if (!opts.readFcService) return undefined;
  const { serviceName, region } = deployedService(env);
  try {
    await opts.readFcService({ serviceName, region });
    return pass(name, `can read FC service ${serviceName} in ${region}`);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === "ServiceNotFound") return pass(name, `valid; service ${serviceName} is not deployed yet in ${region}`);
    if (code === "InvalidAccessKeyID" || code === "SignatureNotMatch")
      return fail(name, `FC rejected the access key (${String(code)})`, "check ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    if (code === "AccessDenied") return fail(name, "the key may not read FC services", "grant the RAM user AliyunFCFullAccess (or a custom FC policy)");
    return fail(name, describeError(err).message, "check ALIBABA_CLOUD_ACCOUNT_ID, the region and ALIBABA_CLOUD_FC_ENDPOINT");
  }
}

function configResult(config: AppConfig): CheckResult {
  if (config.missingFile)
    return fail(
      "config",
      `no config file: ${config.missingFile} does not exist (and DINGCLAW_CONFIG_JSON is not set)`,
      "create it (README → Configuration has one to start from) or point DINGCLAW_CONFIG at yours",
    );
  if (config.hints.length > 0) return fail("config", config.hints.join("; "), "rename the keys as suggested (README → Configuration)");
  return pass("config", config.warnings.length ? `parses (${config.warnings.join("; ")})` : "parses");
}

/** Runs every check that applies; never throws. */
export async function runDoctor(opts: DoctorOptions): Promise<CheckResult[]> {
  let env: Env;
  try {
    env = readEnv(opts.env);
  } catch (err) {
    if (!(err instanceof EnvError)) throw err;
    return [fail("environment", err.problems.join("; "), "fix or unset the variables named above (README → Configuration)")];
  }
  let config: AppConfig;
  try {
    config = loadConfig(opts.env);
  } catch (err) {
    const detail = err instanceof ConfigError ? err.problems.join("; ") : describeError(err).message;
    return [fail("config", detail, "fix what is named above (README → Configuration)")];
  }
  const results = [configResult(config)];
  results.push(...(await checkDingTalk(config, opts)));
  if (config.models.length === 0)
    results.push(fail("models", "model_list is empty", `add e.g. ${MODEL_ENTRY_EXAMPLE}`));
  results.push(...(await Promise.all(config.models.map((m) => checkModel(config, m, opts)))));
  results.push(...(await checkTable(config, env, opts)));
  const deploy = await checkDeploy(env, opts);
  if (deploy) results.push(deploy);
  return results;
}

export function formatResults(results: CheckResult[]): string {
  return results.map((r) => (r.ok ? `✓ ${r.name}: ${r.detail}` : `✗ ${r.name}: ${r.detail}\n    → ${r.fix ?? ""}`)).join("\n");
}
