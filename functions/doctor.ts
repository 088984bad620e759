// `npm run doctor`: checks the current config and environment and prints ✓/✗ with a one-line fix
// per problem; exit code 1 when anything failed. Thin: the checks live in core/doctor.ts.
import FC from "@alicloud/fc2";
import { formatResults, runDoctor } from "./core/doctor.js";
import { readEnv } from "./core/env.js";

/** Called only after runDoctor has read the environment without error. */
async function readFcService({ serviceName, region }: { serviceName: string; region: string }): Promise<void> {
  const env = readEnv();
  const client = new FC(env.ALIBABA_CLOUD_ACCOUNT_ID ?? "", {
    accessKeyID: env.ALIBABA_CLOUD_ACCESS_KEY_ID ?? "",
    accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? "",
    securityToken: env.ALIBABA_CLOUD_SECURITY_TOKEN,
    region,
    secure: true,
    timeout: 10_000,
    ...(env.ALIBABA_CLOUD_FC_ENDPOINT ? { endpoint: env.ALIBABA_CLOUD_FC_ENDPOINT } : {}),
  });
  await client.getService(serviceName);
}

const results = await runDoctor({ env: process.env, readFcService });
process.stdout.write(`${formatResults(results)}\n`);
const failed = results.filter((r) => !r.ok).length;
process.stdout.write(failed ? `\n${failed} problem(s) found.\n` : "\nAll checks passed.\n");
process.exit(failed ? 1 : 0);
