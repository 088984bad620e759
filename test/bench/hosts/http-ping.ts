// Machine calibration: this process's CPU time per node:http keep-alive request (a ~600-byte POST) to
// a server that answers after about a millisecond. On virtual machines where waking another process
// is expensive this shows how much of every figure is the machine rather than dingclaw.
import { Agent, request } from "node:http";
import { exitOnSigterm, serveProbes, toParent } from "./ipc.js";

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const body = JSON.stringify({ pad: "x".repeat(560) });

function post(url: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.once("end", resolve);
    });
    req.once("error", reject);
    req.end(body);
  });
}

async function run(id: number, args: Record<string, unknown>): Promise<void> {
  const url = new URL(String(args.url));
  const count = Number(args.count);
  for (let i = 0; i < 50; i++) await post(url);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await post(url);
  const cpu = process.cpuUsage(cpu0);
  toParent({ type: "done", id, data: { cpuUsPerRequest: (cpu.user + cpu.system) / count, wallMsPerRequest: (performance.now() - t0) / count } });
}

exitOnSigterm();
serveProbes({
  onMessage: (message) => {
    if (message.type === "run") void run(message.id, message.args);
  },
});
toParent({ type: "ready", info: {} });
