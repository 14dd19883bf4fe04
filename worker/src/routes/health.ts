import { Hono } from "hono";
import { z } from "zod";
import { Snowflake } from "@spell-coven/common";
import type { AppEnv } from "../middleware/context.ts";

/** `GET /health`: liveness, and which settings are present (never their values). */
export const HealthStatus = z.object({
  status: z.literal("ok"),
  guilds: z.array(Snowflake),
  discordConfigured: z.boolean(),
  hubSecretConfigured: z.boolean(),
  time: z.string(),
});
export type HealthStatus = z.infer<typeof HealthStatus>;

/** Liveness plus whether the Worker is fully configured; no secret values, only their presence. */
export const health = new Hono<AppEnv>().get("/health", (c) => {
  const config = c.get("config");
  return c.json({
    status: "ok",
    guilds: config.PRIMARY_GUILD_ID,
    discordConfigured: Boolean(config.DISCORD_BOT_TOKEN),
    hubSecretConfigured: Boolean(config.HUB_SECRET),
    time: new Date().toISOString(),
  } satisfies HealthStatus);
});
