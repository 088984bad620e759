// Dispatch for FC: an async invocation of the worker function (a message job from the callback, a
// firing from the scheduler) through @alicloud/fc2, signed with the role credentials FC hands this
// instance (never a long-lived key).
import FC from "@alicloud/fc2/lib/client.js";
import type { Env } from "../core/env.js";
import type { Job } from "../core/job.js";
import { registerSecret } from "../core/log.js";
import type { FcContext } from "./context.js";

export interface WorkerAddress {
  serviceName: string;
  functionName: string;
  /** ALIBABA_CLOUD_FC_ENDPOINT: another FC API endpoint (tests); default FC's internal endpoint. */
  endpoint: string | undefined;
}

/** The worker of this service (DINGCLAW_WORKER_SERVICE / DINGCLAW_WORKER_FUNCTION override it). */
export function workerAddress(env: Pick<Env, "DINGCLAW_WORKER_SERVICE" | "DINGCLAW_WORKER_FUNCTION" | "ALIBABA_CLOUD_FC_ENDPOINT">, ctx: FcContext): WorkerAddress {
  return { serviceName: env.DINGCLAW_WORKER_SERVICE ?? ctx.serviceName ?? "dingclaw", functionName: env.DINGCLAW_WORKER_FUNCTION, endpoint: env.ALIBABA_CLOUD_FC_ENDPOINT };
}

export class DispatchConfigError extends Error {
  constructor(missing: string) {
    super(`cannot invoke the worker: ${missing} is not available in the FC context or environment`);
    this.name = "DispatchConfigError";
  }
}

const clients = new Map<string, FC>();

function clientFor(ctx: FcContext, endpoint: string | undefined): FC {
  if (!ctx.accountId) throw new DispatchConfigError("the account id");
  if (!ctx.region) throw new DispatchConfigError("the region");
  if (!ctx.credentials) throw new DispatchConfigError("role credentials (set a service role)");
  const { accessKeyId, accessKeySecret, securityToken } = ctx.credentials;
  registerSecret(accessKeySecret);
  registerSecret(securityToken);
  const key = [accessKeyId, securityToken ?? "", ctx.accountId, ctx.region, endpoint ?? ""].join("\n");
  let client = clients.get(key);
  if (!client) {
    clients.clear();
    client = new FC(ctx.accountId, {
      accessKeyID: accessKeyId,
      accessKeySecret,
      securityToken,
      region: ctx.region,
      secure: true,
      timeout: 5_000,
      ...(endpoint ? { endpoint } : { internal: true }),
    });
    clients.set(key, client);
  }
  return client;
}

/** Hands a job (a message's, or a scheduler's firing: proactive/firing.ts) to the worker. */
export function fcDispatch<J extends object = Job>(ctx: FcContext, worker: WorkerAddress): (job: J) => Promise<void> {
  return async (job) => {
    const client = clientFor(ctx, worker.endpoint);
    await client.invokeFunction(worker.serviceName, worker.functionName, JSON.stringify(job), {
      "x-fc-invocation-type": "Async",
    });
  };
}
