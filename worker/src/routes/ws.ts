/**
 * `GET /api/ws[?guildId=...]`: hands the upgrade to the guild's GuildHub untouched. Authentication
 * happens inside the hub with the first message, so the token never appears in a URL or log.
 */
import { Hono } from "hono";
import { Snowflake } from "@spell-coven/common";
import { ApiError } from "../errors.ts";
import { GUILD_ID_HEADER } from "../hub/GuildHub.ts";
import type { AppEnv } from "../middleware/context.ts";
import { isUpgrade } from "../middleware/skip-upgrades.ts";

export const ws = new Hono<AppEnv>().get("/api/ws", async (c) => {
  if (!isUpgrade(c.req.raw)) throw new ApiError("UPGRADE_REQUIRED", "This endpoint speaks WebSocket only.");
  const config = c.get("config");
  const guildId = c.req.query("guildId") ?? config.PRIMARY_GUILD_ID[0]!;
  if (!Snowflake.safeParse(guildId).success || !config.PRIMARY_GUILD_ID.includes(guildId)) {
    throw new ApiError("UNKNOWN_GUILD", `Guild ${guildId} is not served here.`);
  }
  // A browser always sends Origin: only the web app's origin (or this Worker's own) may connect.
  const origin = c.req.header("Origin");
  if (origin && origin !== new URL(c.req.url).origin && !config.allowedOrigins.includes(origin)) {
    throw new ApiError("ORIGIN_NOT_ALLOWED", `Origin ${origin} may not open this WebSocket.`);
  }
  const headers = new Headers(c.req.raw.headers);
  headers.set(GUILD_ID_HEADER, guildId);
  return c.env.GUILD_HUB.getByName(guildId).fetch(new Request(c.req.raw, { headers }));
});
