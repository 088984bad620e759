// The physical floor for the callback: a bare node:http server that only checks DingTalk's HMAC
// signature (constant-time) and parses the JSON body, then answers as the callback does.
import { createHmac, timingSafeEqual } from "node:crypto";
import { readBody, startHttpHost } from "./http-host.js";

const secret = process.env.BENCH_SECRET ?? "";
const ANSWER = JSON.stringify({ msgtype: "empty" });

await startHttpHost(async (req, res) => {
  const body = await readBody(req);
  const timestamp = String(req.headers.timestamp ?? "");
  const given = Buffer.from(String(req.headers.sign ?? ""), "utf8");
  const expected = Buffer.from(createHmac("sha256", secret).update(`${timestamp}\n${secret}`).digest("base64"), "utf8");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    res.writeHead(401, { "content-type": "application/json" });
    res.end('{"error":"signature"}');
    return;
  }
  JSON.parse(body.toString("utf8"));
  res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
  res.end(ANSWER);
});
