// The DingTalk Stream gateway double (reference §2): installs the open API, the `/connect` WebSocket
// upgrade and the `/__control/stream` routes on the double's server, and returns the gateway handle.
import type { DoubleContext } from "../server.js";
import { StreamGateway } from "./gateway.js";
import type { StreamGatewayOptions } from "./types.js";
import { streamRoutes } from "./routes.js";

export { StreamGateway } from "./gateway.js";
export type * from "./types.js";
export { TOPIC_ROBOT, UpstreamFrame, type DownstreamFrame } from "./frames.js";

export function installStreamGateway(ctx: DoubleContext, opts: StreamGatewayOptions = {}): StreamGateway {
  const gateway = new StreamGateway(ctx.state, opts);
  ctx.router.add(...streamRoutes(gateway));
  ctx.server.on("upgrade", (req, socket, head: Buffer) => {
    if (gateway.handleUpgrade(req, socket, head)) return;
    if (ctx.server.listenerCount("upgrade") === 1) socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
  return gateway;
}
