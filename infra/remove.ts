// `serverless remove`: deletes what deploy created — the FC service with its functions, trigger and
// async configs, the managed RAM role and policy, and the table when deploy created it (unless
// provider.table.retain). Resources deploy did not create are left alone and named.
import { readCredentials } from "./credentials.js";
import { fcClient, removeService } from "./fc.js";
import type { Reporter } from "./output.js";
import { ramClient, removeRole } from "./role.js";
import type { DeploySettings } from "./settings.js";
import { openDeployTable, removeDeployTable } from "./table.js";

export interface RemoveContext {
  settings: DeploySettings;
  env: Record<string, string | undefined>;
  out: Reporter;
}

export async function remove(ctx: RemoveContext): Promise<void> {
  const { settings: s, out } = ctx;
  const creds = readCredentials(ctx.env);
  out.note(`removing ${s.fcServiceName} from ${s.region} (account ${creds.accountId})`);

  const fc = fcClient(creds, s.region, ctx.env);
  if (!(await removeService(fc, s.fcServiceName, (what) => out.step(what)))) out.note(`service ${s.fcServiceName} does not exist`);

  const role = await removeRole(s, ramClient(creds, ctx.env));
  if (role === "deleted") out.step(`role ${s.managedRoleName} and policy ${s.managedPolicyName} deleted`);
  else if (role === "not-managed") out.warn(`role ${s.managedRoleName} was not created by deploy: kept`);
  else if (role === "existing") out.note(`role ${s.roleArn} comes from serverless.yml: kept`);

  if (!s.table.endpoint || !s.table.manage) {
    out.note(`table ${s.table.name} left alone (${s.table.endpoint ? "DINGCLAW_TABLE_MANAGE=false" : "DINGCLAW_TABLE_ENDPOINT not set"})`);
    return;
  }
  const db = await openDeployTable(s.table, creds);
  try {
    const t = await removeDeployTable(db, s.fcServiceName, s.table.retain);
    if (t === "deleted") out.step(`table ${s.table.name} deleted`);
    else if (t === "kept") out.note(`table ${s.table.name} kept (provider.table.retain is true)`);
    else if (t === "not-ours") out.note(`table ${s.table.name} was not created by this deploy: kept`);
    else out.note(`table ${s.table.name} does not exist`);
  } finally {
    await db.close();
  }
}
