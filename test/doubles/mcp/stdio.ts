// The MCP double over stdio (for stdio servers in the gateway): `node --import tsx test/doubles/mcp/stdio.ts`.
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { build } from "./server.js";

await build([]).connect(new StdioServerTransport());
