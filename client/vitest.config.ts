import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The client library's Node tests and the browser tests. Each file starts the local system
// (simulator + wrangler dev + gateway-node) once, so files run one at a time.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("..", import.meta.url)),
    include: ["client/test/**/*.test.ts", "e2e/browser/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
