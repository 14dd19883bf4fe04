/**
 * `GET /api/rtc/ice-servers?channelId=` (JWT): the ICE servers for a table's board-video call,
 * only for those who may be in that call (its players, and anyone for a public table).
 */
import { Hono } from "hono";
import { Snowflake, type IceServersResult } from "@spell-coven/common";
import { ApiError } from "../errors.ts";
import { jwtAuth } from "../middleware/jwt-auth.ts";
import type { AppEnv } from "../middleware/context.ts";
import { iceServersFor } from "../rtc/ice-servers.ts";

export const rtc = new Hono<AppEnv>().use("/api/rtc/*", jwtAuth).get("/api/rtc/ice-servers", async (c) => {
  const channelId = c.req.query("channelId") ?? "";
  if (!Snowflake.safeParse(channelId).success) throw new ApiError("VALIDATION_FAILED", "Say which table: ?channelId=<the table's voice channel id>.");
  const config = c.get("config");
  const player = c.get("player");
  const guildId = config.PRIMARY_GUILD_ID[0]!;
  const room = await c.env.GUILD_HUB.getByName(guildId).getRoom(guildId, channelId);
  if (!room.ok) throw new ApiError("ROOM_NOT_FOUND", "This table does not exist any more.");
  if (room.value.private && !room.value.members.includes(player.userId)) {
    throw new ApiError("NOT_ROOM_MEMBER", "This table is private: only its players can join its call.");
  }
  const result = await iceServersFor(config);
  c.header("Cache-Control", "no-store");
  return c.json(result satisfies IceServersResult);
});
