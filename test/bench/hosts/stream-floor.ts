// Baseline for the gateway's Stream connect time: the official dingtalk-stream SDK alone, started the
// same way as `npm start` (node + tsx), opening one connection to DINGTALK_API_BASE and staying up.
import { DWClient, TOPIC_ROBOT } from "dingtalk-stream";

const base = process.env.DINGTALK_API_BASE ?? "";

class FloorClient extends DWClient {
  override async getEndpoint(): Promise<this> {
    const res = await fetch(`${base}/v1.0/gateway/connections/open`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({
        clientId: this.config.clientId,
        clientSecret: this.config.clientSecret,
        ua: "dingclaw-bench-floor",
        subscriptions: this.config.subscriptions,
      }),
    });
    const { endpoint, ticket } = (await res.json()) as { endpoint: string; ticket: string };
    (this as unknown as { dw_url: string }).dw_url = `${endpoint}?ticket=${encodeURIComponent(ticket)}`;
    return this;
  }
}

const client = new FloorClient({
  clientId: process.env.DINGTALK_CLIENT_ID ?? "",
  clientSecret: process.env.DINGTALK_CLIENT_SECRET ?? "",
  subscriptions: [{ type: "CALLBACK", topic: TOPIC_ROBOT }],
} as ConstructorParameters<typeof DWClient>[0]);
client.config.autoReconnect = false;
await client.connect();
process.on("SIGTERM", () => {
  client.disconnect();
  process.exit(0);
});
