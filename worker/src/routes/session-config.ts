import { Hono } from "hono";
import type { SessionConfig } from "@spell-coven/common";
import type { AppEnv } from "../middleware/context.ts";

/** What a browser needs to start: public settings only (no auth, nothing secret). */
export const sessionConfig = new Hono<AppEnv>().get("/api/session-config", (c) => {
  const config = c.get("config");
  return c.json({
    guildId: config.PRIMARY_GUILD_ID[0]!,
    maxReconnectAttempts: config.MAX_WS_RECONNECT_ATTEMPTS,
    devIdentityUrl: config.DEV_IDENTITY_URL ?? null,
    discordWebUrl: config.DISCORD_WEB_URL,
  } satisfies SessionConfig);
});
