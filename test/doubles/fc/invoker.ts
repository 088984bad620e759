// Turns "invoke function X" into a run: looks the function up, unzips its code, builds FC's
// environment and context (role credentials only when the service has a role), picks the runner
// (in-process or child process) and collects the invocation's log lines.
import { createHash } from "node:crypto";
import type { CodeStore } from "./code-store.js";
import { ChildProcessRunner, type KillTrigger } from "./runtime/child-process.js";
import type {
  ErrorOutcome,
  EventOutcome,
  FcCredentials,
  HttpOutcome,
  HttpRequestData,
  LogLevel,
} from "./runtime/fc-runtime.js";
import { InProcessRunner } from "./runtime/in-process.js";
import type { InvocationHooks, InvocationTarget, Runner } from "./runtime/types.js";
import type { FcState } from "./state.js";

export type RunMode = "in-process" | "child-process";

export interface FunctionLogLine {
  service: string;
  function: string;
  requestId: string | undefined;
  level: LogLevel | "stdout" | "stderr";
  line: string;
}

export interface KillOptions extends KillTrigger {
  serviceName?: string;
}

export interface InvokerOptions {
  state: FcState;
  codeStore: CodeStore;
  accountId: string;
  region: string;
  roleCredentials: { accessKeyId: string; accessKeySecret: string; securityToken: string };
  runMode: (serviceName: string, functionName: string) => RunMode;
  onLog: (line: FunctionLogLine) => void;
}

export interface InvocationResult<O> {
  outcome: O;
  codeChecksum: string;
  /** lines the function logged through context.logger during this invocation */
  logs: string[];
}

function unsupportedRuntime(runtime: string): ErrorOutcome {
  return {
    ok: false,
    errorType: "UnhandledInvocationError",
    error: { errorMessage: `the FC double runs only nodejs runtimes, not '${runtime}'` },
  };
}

export class Invoker {
  private readonly inProcess = new InProcessRunner();
  private readonly child: ChildProcessRunner;

  constructor(private readonly opts: InvokerOptions) {
    this.child = new ChildProcessRunner((label, stream, line) => {
      const [service = "", fn = ""] = label.split("/");
      opts.onLog({ service, function: fn, requestId: undefined, level: stream, line });
    });
  }

  invokeEvent(svc: string, fn: string, qualifier: string, requestId: string, payload: Buffer) {
    return this.run<EventOutcome>(svc, fn, qualifier, requestId, (runner, target, hooks) =>
      runner.invokeEvent(target, payload, hooks),
    );
  }

  invokeHttp(svc: string, fn: string, qualifier: string, requestId: string, request: HttpRequestData) {
    return this.run<HttpOutcome>(svc, fn, qualifier, requestId, (runner, target, hooks) =>
      runner.invokeHttp(target, request, hooks),
    );
  }

  /**
   * Kills the child process running the next invocation of `functionName` (in `serviceName`, or
   * any service) when its handler starts or logs `afterLog`, plus `afterMs`. Resolves once killed.
   */
  killNextInvocation(functionName: string, opts: KillOptions = {}): Promise<void> {
    if (this.opts.runMode(opts.serviceName ?? "", functionName) !== "child-process") {
      throw new Error(`killNextInvocation needs runMode "child-process" for function '${functionName}'`);
    }
    return this.child.armKill(
      (label) => label === `${opts.serviceName ?? label.split("/")[0]}/${functionName}`,
      { afterMs: opts.afterMs, afterLog: opts.afterLog },
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.inProcess.close(), this.child.close()]);
  }

  private async run<O extends EventOutcome | HttpOutcome>(
    svc: string,
    fnName: string,
    qualifier: string,
    requestId: string,
    call: (runner: Runner, target: InvocationTarget, hooks: InvocationHooks) => Promise<O>,
  ): Promise<InvocationResult<O | ErrorOutcome>> {
    const { state } = this.opts;
    const service = state.getService(svc);
    const f = state.getFunction(svc, fnName);
    const logs: string[] = [];
    const hooks: InvocationHooks = {
      onLog: (level, line) => {
        logs.push(line);
        this.opts.onLog({ service: svc, function: fnName, requestId, level, line });
      },
    };
    const runtime = f.fields.runtime;
    if (!runtime.startsWith("nodejs")) return { outcome: unsupportedRuntime(runtime), codeChecksum: f.codeChecksum, logs };

    const codeDir = await this.opts.codeStore.dirFor(f);
    const role = service.fields.role ? this.opts.roleCredentials : undefined;
    const credentials: FcCredentials = {
      accessKeyId: role?.accessKeyId,
      accessKeySecret: role?.accessKeySecret,
      securityToken: role?.securityToken,
    };
    const memory = f.fields.memorySize ?? 128;
    const timeout = f.fields.timeout ?? 3;
    const env: Record<string, string> = {
      ...f.fields.environmentVariables,
      FC_FUNCTION_NAME: fnName,
      FC_SERVICE_NAME: svc,
      FC_QUALIFIER: qualifier,
      FC_REGION: this.opts.region,
      FC_ACCOUNT_ID: this.opts.accountId,
      FC_FUNC_CODE_PATH: codeDir,
      FC_FUNCTION_HANDLER: f.fields.handler,
      FC_FUNCTION_MEMORY_SIZE: String(memory),
      ...(role
        ? {
            ALIBABA_CLOUD_ACCESS_KEY_ID: role.accessKeyId,
            ALIBABA_CLOUD_ACCESS_KEY_SECRET: role.accessKeySecret,
            ALIBABA_CLOUD_SECURITY_TOKEN: role.securityToken,
          }
        : {}),
    };
    const instanceKey = createHash("sha256")
      .update(JSON.stringify([f.id, f.codeChecksum, f.fields.handler, f.fields.initializer ?? "", env, timeout]))
      .digest("hex")
      .slice(0, 16);
    const target: InvocationTarget = {
      instanceKey,
      label: `${svc}/${fnName}`,
      codeDir,
      handler: f.fields.handler,
      initializer: f.fields.initializer || undefined,
      timeoutMs: timeout * 1000,
      env,
      context: {
        requestId,
        credentials,
        function: {
          name: fnName,
          handler: f.fields.handler,
          memory,
          timeout,
          initializer: f.fields.initializer || undefined,
          initializationTimeout: f.fields.initializationTimeout ?? 3,
        },
        service: {
          name: svc,
          logProject: service.fields.logConfig?.project ?? "",
          logStore: service.fields.logConfig?.logstore ?? "",
          qualifier,
          versionId: "",
        },
        region: this.opts.region,
        accountId: this.opts.accountId,
      },
    };
    const runner: Runner = this.opts.runMode(svc, fnName) === "child-process" ? this.child : this.inProcess;
    const outcome = await call(runner, target, hooks);
    return { outcome, codeChecksum: f.codeChecksum, logs };
  }
}
