// `npm run notify -- (--user <id>[,<id>…] | --group <openConversationId>) (--text <t> | --markdown <md>
// [--title <t>])`: one notification through the robot OpenAPI with the configured app (DINGCLAW_CONFIG
// and the DINGTALK_* overrides, as the other commands). Exit 0 once DingTalk accepted it (a line on
// stdout says where it went), else one secret-free line on stderr and exit 1 (2 for bad arguments).
import { readFlags, write } from "./cli-io.js";
import { createAppClient } from "./core/app-client.js";
import { ConfigError, loadConfig } from "./core/config.js";
import { readEnv } from "./core/env.js";
import { createLogger, describeError, redact, silentLogger } from "./core/log.js";
import { notify, notifyAnswer, parseNotifyRequest } from "./core/proactive/notify.js";

const USAGE = `usage: npm run notify -- (--user ID[,ID…] | --group OPEN_CONVERSATION_ID) (--text TEXT | --markdown MD [--title TITLE])

  --user IDS       staff ids (userid) to message 1:1, comma-separated or repeated
  --group ID       a group's openConversationId (the robot must be in the group)
  --text TEXT      plain text
  --markdown MD    markdown (rendered for DingTalk; long messages are split)
  --title TITLE    the chat-list title of a markdown message (default: its first line)
  -h, --help       show this help

Config: DINGCLAW_CONFIG (default ./config.json); the app needs the permission qyapi_robot_sendmsg.`;

/** The request's field names in a parse reason as this command's flags ("to.users: …" → "--user: …"). */
function asFlags(reason: string): string {
  return reason.replace(/(^|; )(to\.users(\.\d+)?|to\.group|to|text|markdown|title)(?=: )/g, (_, sep: string, field: string) => {
    const flag = field.startsWith("to.users") ? "--user" : field === "to.group" ? "--group" : field === "to" ? "--user/--group" : `--${field}`;
    return `${sep}${flag}`;
  });
}

async function main(argv: string[]): Promise<number> {
  const read = await readFlags(
    argv,
    {
      user: { type: "string", multiple: true },
      group: { type: "string" },
      text: { type: "string" },
      markdown: { type: "string" },
      title: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    USAGE,
  );
  if ("exit" in read) return read.exit;
  const args = read.flags;
  const users = (args.user ?? []).flatMap((u) => u.split(",")).map((u) => u.trim()).filter(Boolean);
  if ((users.length > 0) === (args.group !== undefined)) {
    await write(process.stderr, `error: give either --user or --group\n${USAGE}\n`);
    return 2;
  }
  const request = {
    to: args.group !== undefined ? { group: args.group } : { users },
    ...(args.text !== undefined ? { text: args.text } : {}),
    ...(args.markdown !== undefined ? { markdown: args.markdown } : {}),
    ...(args.title !== undefined ? { title: args.title } : {}),
  };
  const parsed = parseNotifyRequest(request);
  if (!parsed.ok) {
    await write(process.stderr, `error: ${asFlags(parsed.reason)}\n`);
    return 2;
  }

  try {
    const config = loadConfig(process.env);
    const level = readEnv().LOG_LEVEL;
    const log = level ? createLogger({ level, write: (line) => process.stderr.write(`${line}\n`) }) : silentLogger;
    const app = createAppClient(config, undefined, { log });
    const robotCode = config.dingtalk.credentials?.robotCode ?? "";
    let answer;
    try {
      answer = notifyAnswer(await notify(parsed.request, { dingtalk: app?.dingtalk, robotCode, log }));
    } catch (error) {
      answer = notifyAnswer({ error });
    }
    const body = answer.body;
    if (!body.ok) {
      await write(process.stderr, `${redact(`error: ${String(body.error)}`)}\n`);
      return 1;
    }
    const parts = Number(body.parts) > 1 ? ` in ${String(body.parts)} messages` : "";
    await write(process.stdout, `sent to ${String(body.to)}${parts}\n`);
    const invalid = body.invalidStaffIds as string[] | undefined;
    const held = body.flowControlledStaffIds as string[] | undefined;
    if (invalid) await write(process.stderr, `warning: DingTalk did not send to these staff ids (unknown, or the bot may not message them): ${invalid.join(", ")}\n`);
    if (held) await write(process.stderr, `warning: DingTalk held these staff ids back (flow control): ${held.join(", ")}\n`);
    return 0;
  } catch (err) {
    const line = err instanceof ConfigError ? `config error: ${err.problems.join("; ")}` : `error: ${describeError(err).message}`;
    await write(process.stderr, `${redact(line)}\n`);
    return 1;
  }
}

process.exit(await main(process.argv.slice(2)));
