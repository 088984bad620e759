// Deploy credentials from the standard ALIBABA_CLOUD_* variables, checked with zod, secrets registered
// for masking. Missing or malformed values give one line naming every variable to set.
import { EnvSchema } from "../functions/core/env.js";
import * as z from "zod/mini";
import { registerSecret } from "../functions/core/log.js";
import { DeployError } from "./errors.js";

export interface AliyunCredentials {
  accountId: string;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string | undefined;
}

const CredentialsEnv = z.pick(EnvSchema, {
  ALIBABA_CLOUD_ACCOUNT_ID: true,
  ALIBABA_CLOUD_ACCESS_KEY_ID: true,
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: true,
  ALIBABA_CLOUD_SECURITY_TOKEN: true,
});

export function readCredentials(env: Record<string, string | undefined>): AliyunCredentials {
  const e = CredentialsEnv.parse(env);
  registerSecret(e.ALIBABA_CLOUD_ACCESS_KEY_SECRET);
  registerSecret(e.ALIBABA_CLOUD_SECURITY_TOKEN);
  const missing = (["ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_ACCOUNT_ID"] as const).filter(
    (k) => !e[k],
  );
  if (missing.length > 0)
    throw new DeployError(
      `Alibaba Cloud credentials missing: set ${missing.join(", ")} (an AccessKey of a RAM user allowed to manage FC, ` +
        `and your numeric account id, e.g. ALIBABA_CLOUD_ACCOUNT_ID=1234567890123456)`,
    );
  const accountId = e.ALIBABA_CLOUD_ACCOUNT_ID!;
  if (!/^\d{4,32}$/.test(accountId))
    throw new DeployError("ALIBABA_CLOUD_ACCOUNT_ID must be your numeric Alibaba Cloud account id (UID), e.g. 1234567890123456");
  if (e.ALIBABA_CLOUD_ACCESS_KEY_ID!.startsWith("STS.") && !e.ALIBABA_CLOUD_SECURITY_TOKEN)
    throw new DeployError("ALIBABA_CLOUD_SECURITY_TOKEN is required with a temporary (STS.) access key");
  return {
    accountId,
    accessKeyId: e.ALIBABA_CLOUD_ACCESS_KEY_ID!,
    accessKeySecret: e.ALIBABA_CLOUD_ACCESS_KEY_SECRET!,
    securityToken: e.ALIBABA_CLOUD_SECURITY_TOKEN,
  };
}
