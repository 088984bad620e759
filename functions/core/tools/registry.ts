// The tool registry: built-in tools plus tools from providers listed per turn (MCP servers, cached
// by the provider), resolved into the set one turn offers. Each tool's zod schema becomes the JSON
// Schema sent to the model (z.toJSONSchema), computed once per tool.
import * as z from "zod";
import type { ToolSpec } from "../llm/index.js";
import type { Logger } from "../log.js";
import type { Tool } from "./types.js";

/** A source of tools whose list can change (an MCP server); a failing source offers none. */
export interface ToolProvider {
  readonly name: string;
  list(log: Logger): Promise<Tool[]>;
  /** Releases connections and child processes (host shutdown). */
  close?(): Promise<void>;
}

export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const specs = new WeakMap<Tool, ToolSpec>();

/** The function spec the model sees for a tool. */
export function specOf(tool: Tool): ToolSpec {
  let spec = specs.get(tool);
  if (!spec) {
    const { $schema: _drop, ...generated } = z.toJSONSchema(tool.args, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
    spec = { name: tool.name, description: tool.description, parameters: tool.parameters ?? generated };
    specs.set(tool, spec);
  }
  return spec;
}

/** The tools one turn may use. */
export class ToolSet {
  private readonly byName = new Map<string, Tool>();

  constructor(tools: readonly Tool[]) {
    for (const t of tools) if (!this.byName.has(t.name)) this.byName.set(t.name, t);
  }

  get size(): number {
    return this.byName.size;
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): Tool | undefined {
    return this.byName.get(name);
  }

  specs(): ToolSpec[] {
    return [...this.byName.values()].map(specOf);
  }
}

export class ToolRegistry {
  private readonly builtins: Tool[];

  constructor(
    builtins: readonly Tool[],
    private readonly providers: readonly ToolProvider[] = [],
  ) {
    for (const t of builtins) if (!TOOL_NAME.test(t.name)) throw new Error(`tool name "${t.name}" must match ${TOOL_NAME}`);
    this.builtins = [...builtins];
  }

  /** Builds the built-in tools' specs ahead of the first turn (see warm-up.ts). */
  prepareSpecs(): void {
    for (const t of this.builtins) specOf(t);
  }

  get empty(): boolean {
    return this.builtins.length === 0 && this.providers.length === 0;
  }

  async close(): Promise<void> {
    await Promise.all(this.providers.map((p) => (p.close ? p.close().catch(() => undefined) : Promise.resolve())));
  }

  /** Built-ins plus whatever each provider lists now; a provider that fails contributes nothing. */
  async forTurn(log: Logger): Promise<ToolSet> {
    const listed = await Promise.all(
      this.providers.map((p) =>
        p.list(log).catch((err: unknown) => {
          log.warn("tools: provider unavailable", { provider: p.name, error: err instanceof Error ? err.message : String(err) });
          return [] as Tool[];
        }),
      ),
    );
    return new ToolSet([...this.builtins, ...listed.flat()]);
  }
}
