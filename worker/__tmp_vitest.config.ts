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
      main: "./src/ratelimit/__tmp_main.ts",
      wrangler: { configPath: "./src/ratelimit/__tmp_wrangler.toml" },
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
        },
      },
    })),
  ],
  test: {
    root: import.meta.dirname,
    include: ["test/**/*.test.ts"],
    globalSetup: ["./test/global-setup.ts"],
    testTimeout: 20_000,
  },
});
