// FC `notify` function (no trigger): `npx serverless invoke -f notify --data '{"to": …, "text": …}'`,
// authorised by the caller's Alibaba Cloud credentials. The same core as the gateway's POST /notify
// (proactive/notify.ts): returns where it went as JSON; a bad request or DingTalk's refusal is thrown,
// so the invocation fails with that one line.
import { createAppClient } from "./core/app-client.js";
import { loadConfig } from "./core/config.js";
import { readEnv } from "./core/env.js";
import { captureConsole, createLogger } from "./core/log.js";
import { notify, notifyAnswer, parseNotifyRequest, type NotifierDeps } from "./core/proactive/notify.js";
import { IdempotencyStore } from "./core/store/idempotency.js";
import { openTable } from "./core/store/table.js";
import { readContext } from "./fc/context.js";
import { roleCredentials, tableSigning } from "./fc/credentials.js";
import { parseEvent } from "./fc/event.js";

let instance: Promise<NotifierDeps> | undefined;
const role = roleCredentials();

async function init(): Promise<NotifierDeps> {
  const log = createLogger({ level: readEnv().LOG_LEVEL });
  captureConsole(log);
  const config = loadConfig(process.env);
  if (!config.table.endpoint) throw new Error("DINGCLAW_TABLE_ENDPOINT is not set: functions on FC need a table (Tablestore or DynamoDB-compatible)");
  const table = await openTable(config.table, { log, ...tableSigning(config.table.kind, role) });
  const app = createAppClient(config, table, { log, rateGate: "table" });
  return { dingtalk: app?.dingtalk, robotCode: config.dingtalk.credentials?.robotCode ?? "", idempotency: new IdempotencyStore(table, { log }), log };
}

export async function handler(event: unknown, context: unknown): Promise<string> {
  const ctx = readContext(context);
  role.update(ctx);
  const deps = await (instance ??= init().catch((err: unknown) => {
    instance = undefined;
    throw err;
  }));
  const parsed = parseNotifyRequest(parseEvent(event));
  if (!parsed.ok) throw new Error(`bad notification: ${parsed.reason}`);
  let answer;
  try {
    answer = notifyAnswer(await notify(parsed.request, { ...deps, log: deps.log.child({ fcRequestId: ctx.requestId }) }));
  } catch (error) {
    answer = notifyAnswer({ error });
  }
  if (!answer.body.ok) throw new Error(String(answer.body.error));
  return JSON.stringify(answer.body);
}
