// Test runner settings: node environment, generous timeouts for end-to-end runs with real processes.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default"],
    // The dingtalk-stream SDK prints its connection state with console.info; hosts capture it into JSON
    // logs, in-process tests would only print it between the results.
    onConsoleLog: (log) => !/^(\[[^\]]+\] connect success|Disconnecting\.)\s*$/.test(log),
  },
});
