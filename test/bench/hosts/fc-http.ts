// Bench adapter for an FC 2.0 HTTP function bundle (the built callback, or the SDK-only baseline):
// `node fc-http.mjs <bundle.cjs>` requires the bundle, serves HTTP, and calls its `handler(req, resp,
// context)` per request exactly as FC 2.0 does, with a fresh context (role credentials) each time.
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { startHttpHost } from "./http-host.js";

interface Fc2Module {
  handler(req: unknown, resp: unknown, context: unknown): Promise<unknown>;
}

const bundle = process.argv[2];
if (!bundle) throw new Error("usage: fc-http.mjs <bundle.cjs>");
const context = JSON.parse(process.env.BENCH_FC_CONTEXT ?? "{}") as Record<string, unknown>;
const started = performance.now();
const mod = createRequire(import.meta.url)(resolve(bundle)) as Fc2Module;
const requireMs = performance.now() - started;
let requests = 0;

await startHttpHost(
  async (req, res) => {
    let sent = false;
    const resp = {
      setStatusCode: (code: number) => void (res.statusCode = code),
      setHeader: (name: string, value: string) => void res.setHeader(name, value),
      send: (body: string | Buffer) => {
        sent = true;
        res.end(body);
      },
    };
    await mod.handler(req, resp, { ...context, requestId: `bench-${++requests}` });
    if (!sent) throw new Error("the handler returned without calling resp.send");
  },
  { requireMs, requireStartMs: started },
);
