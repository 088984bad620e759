// The Serverless Framework (osls) provider plugin `aliyun`: registers the provider and its config
// schema, declares the CLI options it reads, and maps the lifecycle hooks to the actions in this
// folder (package → bundles, deploy, remove, info, invoke, logs). Failures surface as one-line
// framework errors without a stack trace; secrets are masked, in `serverless print` too.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { redact } from "../functions/core/log.js";
import { readCredentials } from "./credentials.js";
import { DeployError } from "./errors.js";
import { maskConfiguration } from "./print-mask.js";
import type { Reporter } from "./output.js";
import { pluginCommands, providerSchema } from "./schema.js";
import { declaredFunctions, parseSettings, type DeploySettings, type FunctionName } from "./settings.js";

// Actions load lazily: each command pulls in only the SDKs it needs (osls start-up is slow enough).
interface FunctionObject {
  package?: { artifact?: string };
}

/** The parts of the framework's `serverless` instance this plugin uses. */
export interface ServerlessLike {
  serviceDir: string;
  service: {
    service: unknown;
    provider: unknown;
    functions: Record<string, FunctionObject | undefined>;
  };
  processedInput: { commands: string[] };
  /** serverless.yml with its variables resolved (what `serverless print` prints). */
  configurationInput: Record<string, unknown>;
  setProvider(name: string, provider: unknown): void;
  configSchemaHandler: { defineProvider(name: string, schema: object): void };
  classes: { Error: new (message: string, code?: string) => Error };
}

export interface PluginWriters {
  log: ((message: string) => void) & {
    notice(message: string): void;
    success?(message: string): void;
    warning(message: string): void;
  };
  writeText(text: string): void;
}

export type PluginOptions = Record<string, unknown>;

const CLOUD_COMMANDS = new Set(["deploy", "remove", "info", "invoke", "logs"]);

function option(options: PluginOptions, name: string): string | undefined {
  const v = options[name];
  return typeof v === "string" && v.trim() !== "" ? v : undefined;
}

export class AliyunProvider {
  static getProviderName(): string {
    return "aliyun";
  }

  readonly commands = pluginCommands;
  readonly hooks: Record<string, () => Promise<void>>;
  private readonly out: Reporter;

  constructor(
    private readonly serverless: ServerlessLike,
    private readonly options: PluginOptions,
    writers?: PluginWriters,
  ) {
    serverless.setProvider("aliyun", this);
    serverless.configSchemaHandler.defineProvider("aliyun", providerSchema);
    const log = writers?.log;
    this.out = {
      step: (m) => (log?.success ? log.success(redact(m)) : (log?.notice ?? console.error)(`✔ ${redact(m)}`)),
      note: (m) => (log?.notice ?? console.error)(redact(m)),
      warn: (m) => (log?.warning ?? console.error)(redact(m)),
      result: (t) => (writers?.writeText ?? console.log)(redact(t)),
    };
    const guard = (fn: () => Promise<void> | void) => () => this.guard(fn);
    this.hooks = {
      initialize: guard(() => this.precheck()),
      "before:package:createDeploymentArtifacts": guard(() => this.packageFunctions()),
      "deploy:deploy": guard(() => this.deploy()),
      "remove:remove": guard(async () => {
        const { remove } = await import("./remove.js");
        await remove({ settings: this.settings(), env: process.env, out: this.out });
      }),
      "info:info": guard(async () => {
        const { info } = await import("./info.js");
        await info({ settings: this.settings(), env: process.env, out: this.out });
      }),
      "invoke:invoke": guard(async () => {
        const { invoke } = await import("./invoke.js");
        await invoke(
          { settings: this.settings(), root: this.serverless.serviceDir, env: process.env, out: this.out },
          { fn: option(this.options, "function") ?? "", data: option(this.options, "data"), path: option(this.options, "path") },
        );
      }),
      "logs:logs": guard(() => this.logs()),
      "before:print:print": guard(() => maskConfiguration(this.serverless.configurationInput)),
    };
  }

  settings(): DeploySettings {
    return parseSettings(
      { service: this.serverless.service.service, provider: this.serverless.service.provider, functions: this.serverless.service.functions },
      { region: option(this.options, "region"), stage: option(this.options, "stage") },
    );
  }

  /** Fails fast (before packaging) on a broken serverless.yml or missing credentials. */
  private precheck(): void {
    const command = this.serverless.processedInput.commands[0] ?? "";
    if (!CLOUD_COMMANDS.has(command) && command !== "package") return;
    this.settings();
    if (CLOUD_COMMANDS.has(command)) readCredentials(process.env);
  }

  private async guard(fn: () => Promise<void> | void): Promise<void> {
    try {
      await fn();
    } catch (err) {
      const message =
        err instanceof DeployError ? err.message : `unexpected ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
      throw new this.serverless.classes.Error(redact(message), "DINGCLAW_ALIYUN");
    }
  }

  private artifactPath(name: FunctionName): string {
    return path.join(this.serverless.serviceDir, ".serverless", `${name}.zip`);
  }

  /** Builds one bundle per function into .serverless/<name>.zip and hands it to the framework as the artifact. */
  private async packageFunctions(): Promise<void> {
    const s = this.settings();
    const { buildBundle, describeBundle } = await import("./bundle.js");
    await mkdir(path.join(this.serverless.serviceDir, ".serverless"), { recursive: true });
    for (const f of declaredFunctions(s)) {
      const name = f.name;
      const bundle = await buildBundle({ name, entry: f.entry, handler: f.handler, table: s.table.kind }, this.serverless.serviceDir);
      const file = this.artifactPath(name);
      await writeFile(file, bundle.zip);
      const fnObject = this.serverless.service.functions[name];
      if (fnObject) fnObject.package = { ...fnObject.package, artifact: path.relative(this.serverless.serviceDir, file) };
      this.out.step(`bundle ${describeBundle(bundle)}`);
    }
  }

  private async deploy(): Promise<void> {
    const zips: Partial<Record<FunctionName, Uint8Array>> = {};
    for (const { name } of declaredFunctions(this.settings())) {
      const artifact = this.serverless.service.functions[name]?.package?.artifact ?? this.artifactPath(name);
      try {
        zips[name] = await readFile(path.resolve(this.serverless.serviceDir, artifact));
      } catch {
        throw new DeployError(`the package of ${name} is missing (${artifact}): run serverless deploy without --package`);
      }
    }
    const { deploy } = await import("./deploy.js");
    await deploy({ settings: this.settings(), root: this.serverless.serviceDir, env: process.env, out: this.out }, zips);
  }

  private async logs(): Promise<void> {
    const { runLogs } = await import("./logs.js");
    const interval = Number(option(this.options, "interval") ?? 2000);
    await runLogs(
      { settings: this.settings(), env: process.env, out: this.out },
      {
        fn: option(this.options, "function") ?? "",
        startTime: option(this.options, "startTime"),
        filter: option(this.options, "filter"),
        tail: this.options.tail === true,
        intervalMs: Number.isFinite(interval) && interval >= 500 ? interval : 2000,
      },
    );
  }
}
