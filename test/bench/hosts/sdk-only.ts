// Cold-start baseline bundle: an FC 2.0 HTTP handler holding only @aws-sdk/client-dynamodb, which
// answers its first request after the one write any claim needs (a conditional PutItem).
import { randomUUID } from "node:crypto";
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";

interface Fc2Response {
  setStatusCode(code: number): void;
  setHeader(name: string, value: string): void;
  send(body: string): void;
}

let client: DynamoDBClient | undefined;

export async function handler(_req: unknown, resp: Fc2Response): Promise<void> {
  client ??= new DynamoDBClient({
    endpoint: process.env.DINGCLAW_TABLE_ENDPOINT,
    region: "local",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  });
  const nowS = Math.floor(Date.now() / 1000);
  await client.send(
    new PutItemCommand({
      TableName: process.env.DINGCLAW_TABLE_NAME ?? "dingclaw",
      Item: { pk: { S: `msg#sdk-only:${randomUUID()}` }, sk: { S: "msg" }, expiresAt: { N: String(nowS + 86_400) } },
      ConditionExpression: "attribute_not_exists(pk) OR #e <= :nowS",
      ExpressionAttributeNames: { "#e": "expiresAt" },
      ExpressionAttributeValues: { ":nowS": { N: String(nowS) } },
    }),
  );
  resp.setStatusCode(200);
  resp.setHeader("content-type", "application/json");
  resp.send('{"msgtype":"empty"}');
}
