// Test runner settings: node environment, generous timeouts for end-to-end runs with real processes.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most files wait on real servers and child processes rather than compute: two at a time even on
    // a 2-core machine (vitest's default there is one) keeps the suite near 5 minutes.
    maxWorkers: 2,
    reporters: ["default"],
    // The dingtalk-stream SDK prints its connection state with console.info; hosts capture it into JSON
    // logs, in-process tests would only print it between the results.
    onConsoleLog: (log) => !/^(\[[^\]]+\] connect success|Disconnecting\.)\s*$/.test(log),
  },
});
