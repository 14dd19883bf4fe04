import { defineConfig } from "vitest/config";

// Tests that run in Node: the shared code, the simulator, the sidecar kit, gateway-node (and later rtc-node, the
// client library). The Worker's tests run inside workerd with worker/vitest.config.ts.
export default defineConfig({
  test: {
    include: [
      "common/test/**/*.test.ts",
      "lobby/test/**/*.test.ts",
      "scripts/test/**/*.test.ts",
      "simulator/test/**/*.test.ts",
      "sidecar-kit/test/**/*.test.ts",
      "gateway-node/test/**/*.test.ts",
      "rtc-node/test/**/*.test.ts",
      "client/test/**/*.test.ts",
      "e2e/**/*.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // 2-core machines: files in parallel fight over the CPU and make timing-based protocol tests flaky.
    fileParallelism: false,
  },
});
