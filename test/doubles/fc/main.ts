// Standalone FC API double: `tsx test/doubles/fc/main.ts --port 9100` prints one JSON line with its
// URL once listening, and stops on SIGINT/SIGTERM. Credentials come from flags or the standard
// ALIBABA_CLOUD_* variables.
import { parseArgs } from "node:util";
import { z } from "zod";
import { startFcDouble } from "./server.js";

const ArgsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(0),
  host: z.string().default("127.0.0.1"),
  "account-id": z.string().min(1, { error: "--account-id (or ALIBABA_CLOUD_ACCOUNT_ID) is required" }),
  region: z.string().min(1).default("cn-hangzhou"),
  "access-key": z
    .array(z.string().regex(/^[^:]+:.+$/, { error: '--access-key must be "id:secret"' }))
    .min(1, { error: "give at least one --access-key id:secret (or ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET)" }),
  "child-process": z.boolean().default(false),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "account-id": { type: "string" },
      region: { type: "string" },
      "access-key": { type: "string", multiple: true },
      "child-process": { type: "boolean" },
    },
    strict: true,
  });
  const env = process.env;
  const envKey =
    env.ALIBABA_CLOUD_ACCESS_KEY_ID && env.ALIBABA_CLOUD_ACCESS_KEY_SECRET
      ? [`${env.ALIBABA_CLOUD_ACCESS_KEY_ID}:${env.ALIBABA_CLOUD_ACCESS_KEY_SECRET}`]
      : [];
  const parsed = ArgsSchema.safeParse({
    ...values,
    "account-id": values["account-id"] ?? env.ALIBABA_CLOUD_ACCOUNT_ID ?? "",
    region: values.region ?? env.ALIBABA_CLOUD_REGION,
    "access-key": values["access-key"] ?? envKey,
  });
  if (!parsed.success) {
    console.error(`fc-double: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
    process.exit(2);
  }
  const args = parsed.data;
  const accessKeys = Object.fromEntries(
    args["access-key"].map((pair) => {
      const i = pair.indexOf(":");
      return [pair.slice(0, i), pair.slice(i + 1)];
    }),
  );
  const double = await startFcDouble({
    accountId: args["account-id"],
    region: args.region,
    accessKeys,
    host: args.host,
    port: args.port,
    runMode: args["child-process"] ? "child-process" : "in-process",
    onFunctionLog: (l) => console.error(`[${l.service}/${l.function}] ${l.line}`),
  });
  console.log(JSON.stringify({ url: double.url, port: double.port, accountId: double.accountId, region: double.region }));
  const stop = () => {
    double.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: unknown) => {
  console.error("fc-double: failed to start:", err instanceof Error ? err.message : err);
  process.exit(1);
});
