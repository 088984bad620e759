// Runs the DingTalk double as its own process: `tsx test/doubles/dingtalk/main.ts --port N
// [--host H] [--app clientId:secret[:robotCode]]...`; prints one JSON line {"url","port"} when ready.
import { parseArgs } from "node:util";
import { startDingTalkDouble } from "./index.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    app: { type: "string", multiple: true, default: [] },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port must be 0..65535, got ${values.port}\n`);
  process.exit(2);
}
const apps = values.app.map((spec) => {
  const [clientId, clientSecret, robotCode] = spec.split(":");
  if (!clientId || !clientSecret) {
    process.stderr.write(`--app must be clientId:secret[:robotCode], got ${spec}\n`);
    process.exit(2);
  }
  return { clientId, clientSecret, ...(robotCode ? { robotCode } : {}) };
});

const double = await startDingTalkDouble({ port, host: values.host, apps });
process.stdout.write(`${JSON.stringify({ url: double.url, port: double.port })}\n`);

const stop = () => {
  void double.close().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
