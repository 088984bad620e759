// Test helper: runs the osls CLI from the repository root as `npx serverless …` would, with only the
// given environment, and collects its output.
import { spawn } from "node:child_process";
import path from "node:path";
import { ROOT } from "./processes.js";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function serverless(args: string[], env: Record<string, string>, timeoutMs = 45_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "node_modules/osls/bin/serverless.js"), ...args], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
