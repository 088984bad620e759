// `npm run usage -- [--month YYYY-MM] [--json]`: the month's usage report (as `/usage all` shows it)
// from the table the config points at (DINGCLAW_TABLE_* and the config, as the other commands): the
// org's tokens and cost by model, the top users and groups, DingTalk API calls against the budget.
// Exit 0 with the report on stdout; one secret-free line on stderr and exit 1 (2 for bad arguments).
import { readFlags, write } from "./cli-io.js";
import { ConfigError, loadConfig } from "./core/config.js";
import { describeError, redact, silentLogger } from "./core/log.js";
import { openTable, type Table } from "./core/store/table.js";
import { monthKey } from "./core/time-zone.js";
import { buildUsageReport, formatUsageReport, MonthSchema, reportDeps } from "./core/usage-report.js";

const USAGE = `usage: npm run usage -- [--month YYYY-MM] [--json]

  --month YYYY-MM  the month (in agents.defaults.timezone; default: this month)
  --json           the report as JSON instead of text
  -h, --help       show this help

Config: DINGCLAW_CONFIG (default ./config.json) and DINGCLAW_TABLE_ENDPOINT (empty: the embedded
store in DINGCLAW_DATA_DIR, which the running gateway holds: stop it first, or ask the bot /usage all).`;

async function main(argv: string[]): Promise<number> {
  const read = await readFlags(argv, { month: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } }, USAGE);
  if ("exit" in read) return read.exit;
  const args = read.flags;
  const month = args.month === undefined ? undefined : MonthSchema.safeParse(args.month);
  if (month && !month.success) {
    await write(process.stderr, `error: --month ${month.error.issues[0]?.message ?? "is not a month"}\n`);
    return 2;
  }

  let table: Table | undefined;
  try {
    const config = loadConfig(process.env);
    table = await openTable(config.table, { log: silentLogger });
    const report = await buildUsageReport(reportDeps(table, config), month?.data ?? monthKey(Date.now(), config.agent.timezone));
    await write(process.stdout, args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatUsageReport(report)}\n`);
    return 0;
  } catch (err) {
    const line = err instanceof ConfigError ? `config error: ${err.problems.join("; ")}` : `error: ${describeError(err).message}`;
    await write(process.stderr, `${redact(line)}\n`);
    return 1;
  } finally {
    await table?.close();
  }
}

process.exit(await main(process.argv.slice(2)));
