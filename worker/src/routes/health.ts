import { Hono } from "hono";
import type { AppEnv } from "../middleware/context.ts";

/** Liveness plus whether the Worker is fully configured; no secret values, only their presence. */
export const health = new Hono<AppEnv>().get("/health", (c) => {
  const config = c.get("config");
  return c.json({
    status: "ok",
    guilds: config.PRIMARY_GUILD_ID,
    discordConfigured: Boolean(config.DISCORD_BOT_TOKEN),
    hubSecretConfigured: Boolean(config.HUB_SECRET),
    time: new Date().toISOString(),
  });
});
