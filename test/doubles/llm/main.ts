// LLM double as a standalone process: `tsx test/doubles/llm/main.ts --port N [--host H]
// [--base-path /v1] [--keys k1,k2] [--models m1,m2]`. Prints one JSON line with its URL when ready;
// scripted over HTTP at `/__control/*`; exits on SIGTERM/SIGINT.
import { parseArgs } from "node:util";
import { startLlmDouble } from "./server.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    "base-path": { type: "string", default: "/v1" },
    keys: { type: "string" },
    models: { type: "string" },
  },
});

const list = (v: string | undefined) =>
  v
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`llm-double: --port must be an integer 0-65535 (got "${values.port}")\n`);
  process.exit(2);
}

const double = await startLlmDouble({
  port,
  host: values.host,
  basePath: values["base-path"],
  keys: list(values.keys),
  models: list(values.models),
});
process.stdout.write(
  `${JSON.stringify({ url: double.url, origin: double.origin, port: double.port, control: `${double.origin}/__control` })}\n`,
);

const stop = () => {
  void double.close().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
