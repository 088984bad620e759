// `npm run doctor`: checks the current config and environment and prints ✓/✗ with a one-line fix
// per problem; exit code 1 when anything failed. Thin: the checks live in core/doctor.ts.
import FC from "@alicloud/fc2";
import { formatResults, runDoctor } from "./core/doctor.js";
import { readEnv } from "./core/env.js";
import { TableCheckResult } from "./core/store/probe.js";

/** Called only after runDoctor has read the environment without error. */
function fcClient(region: string): FC {
  const env = readEnv();
  return new FC(env.ALIBABA_CLOUD_ACCOUNT_ID ?? "", {
    accessKeyID: env.ALIBABA_CLOUD_ACCESS_KEY_ID ?? "",
    accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? "",
    securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN,
    region,
    secure: true,
    timeout: 10_000,
    ...(env.ALIBABA_CLOUD_FC_ENDPOINT ? { endpoint: env.ALIBABA_CLOUD_FC_ENDPOINT } : {}),
  });
}

async function readFcService({ serviceName, region }: { serviceName: string; region: string }): Promise<void> {
  await fcClient(region).getService(serviceName);
}

/** Runs the deployed worker's table check synchronously: it answers with the functions' own role. */
async function checkTableAsWorker({ serviceName, region }: { serviceName: string; region: string }): Promise<TableCheckResult> {
  const out = await fcClient(region).invokeFunction(serviceName, "worker", JSON.stringify({ check: "table" }));
  const body: unknown = typeof out.data === "string" ? JSON.parse(out.data) : out.data;
  const parsed = TableCheckResult.safeParse(body);
  if (!parsed.success) throw new Error(`the worker answered ${JSON.stringify(body).slice(0, 200)} (deploy this version first)`);
  return parsed.data;
}

const results = await runDoctor({ env: process.env, readFcService, checkTableAsWorker });
process.stdout.write(`${formatResults(results)}\n`);
const failed = results.filter((r) => !r.ok).length;
process.stdout.write(failed ? `\n${failed} problem(s) found.\n` : "\nAll checks passed.\n");
process.exit(failed ? 1 : 0);
