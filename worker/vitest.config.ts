import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-plugin";

/**
 * Worker tests run inside workerd. The identity provider and Discord are real loopback servers
 * started by global-setup.ts (a JWKS server and the project's Discord simulator); their ports
 * reach the Worker's bindings through `inject`.
 */
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      main: "./src/index.ts",
      wrangler: { configPath: "../wrangler.toml" },
      miniflare: {
        bindings: {
          PRIMARY_GUILD_ID: `${inject<string>("guildId")},${inject<string>("otherGuildId")}`,
          HUB_SECRET: "test-hub-secret-0123456789abcdef",
          JWT_ISSUER: "https://idp.test",
          JWT_AUDIENCE: "spell-coven-test",
          JWT_PUBLIC_JWK_URL: `${inject<string>("idpUrl")}/.well-known/jwks.json`,
          DISCORD_BOT_TOKEN: inject<string>("botToken"),
          DISCORD_API_BASE: inject<string>("discordApiBase"),
          VITE_BASE_URL: "https://play.spellcoven.test",
          LOG_LEVEL: "ERROR",
          MAX_API_RETRIES: "2",
          WS_AUTH_TIMEOUT_MS: "400",
          ROOM_CREATE_LIMIT: "3",
          TURN_KEY_ID: "test-turn-key",
          TURN_KEY_API_TOKEN: "test-turn-api-token",
          TURN_API_BASE: inject<string>("turnApiBase"),
          TURN_TTL_SECONDS: "3600",
          STREAM_HEARTBEAT_MS: "300",
          METRICS_TOKEN: "test-metrics-token-0123456789abcdef",
          RTC_NODE_URL: inject<string>("rtcNodeUrl"),
        },
      },
    })),
  ],
  test: {
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    globalSetup: ["./test/global-setup.ts"],
    testTimeout: 20_000,
    // One simulator serves every file: files run one at a time so scripted Discord failures
    // of one test cannot leak into another.
    fileParallelism: false,
    // discord-api-types ships CommonJS behind an ESM wrapper; pre-bundling gives the Workers
    // module runner real ESM (its runtime enums were undefined otherwise).
    deps: { optimizer: { ssr: { enabled: true, include: ["discord-api-types/v10"] } } },
  },
});
