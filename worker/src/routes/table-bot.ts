/**
 * The table bot (JWT; seat holders only): a seated player calls the bot to their table, asks for
 * a cue, or sends it away. The Worker asks rtc-node over a signed request (RTC_NODE_URL).
 *   POST   /api/rooms/:channelId/bot         -> 200 {bot}   | 409 BOT_BUSY {details.busyChannelIds}
 *   POST   /api/rooms/:channelId/bot/cue {cue} -> 200 {played}
 *   DELETE /api/rooms/:channelId/bot         -> 200 {left}  | 404 BOT_NOT_AT_TABLE
 */
import { Hono, type Context } from "hono";
import { BotCueName } from "@spell-coven/common";
import { z } from "zod";
import { ApiError } from "../errors.ts";
import { jwtAuth } from "../middleware/jwt-auth.ts";
import type { AppEnv } from "../middleware/context.ts";
import { callRtcNode, type RtcNodeTarget } from "../rtc/rtc-node-client.ts";
import type { RoomOutcome } from "../hub/GuildHub.ts";
import { readJson } from "./body.ts";
import { snowflakeParam, unwrapOutcome } from "./hub-answers.ts";
import { zodDetails } from "./validation.ts";

/** The body of POST /api/rooms/:channelId/bot/cue (also in the OpenAPI document). */
export const BotCueRequest = z.object({ cue: BotCueName });

export const tableBot = new Hono<AppEnv>()
  .use("/api/rooms/:channelId/bot", jwtAuth)
  .use("/api/rooms/:channelId/bot/*", jwtAuth)

  .post("/api/rooms/:channelId/bot", async (c) => {
    const { guildId, channelId, userId } = await seated(c);
    const result = await callRtcNode(target(c), "/bot/join", { guildId, channelId, requestedBy: userId });
    c.get("log").info("table bot called", { channelId, userId });
    return c.json(result as object);
  })

  .post("/api/rooms/:channelId/bot/cue", async (c) => {
    const parsed = BotCueRequest.safeParse(await readJson(c.req.raw, 1024));
    if (!parsed.success) throw new ApiError("VALIDATION_FAILED", `cue must be one of ${BotCueName.options.join(", ")}.`, zodDetails(parsed.error));
    const { guildId, channelId } = await seated(c);
    return c.json((await callRtcNode(target(c), "/bot/cue", { guildId, channelId, cue: parsed.data.cue })) as object);
  })

  .delete("/api/rooms/:channelId/bot", async (c) => {
    const { guildId, channelId, userId } = await seated(c);
    const result = await callRtcNode(target(c), "/bot/leave", { guildId, channelId });
    c.get("log").info("table bot sent away", { channelId, userId });
    return c.json(result as object);
  });

/** The room exists and the caller holds a seat at it (creator or member). */
async function seated(c: Context<AppEnv>): Promise<{ guildId: string; channelId: string; userId: string }> {
  const channelId = snowflakeParam(c, "channelId");
  const guildId = c.get("config").PRIMARY_GUILD_ID[0]!;
  const room = unwrapOutcome((await c.env.GUILD_HUB.getByName(guildId).getRoom(guildId, channelId)) as RoomOutcome<{ creatorId: string; members: string[] }>);
  const { userId } = c.get("player");
  if (room.creatorId !== userId && !room.members.includes(userId)) {
    throw new ApiError("NOT_ROOM_MEMBER", "Only players seated at this table can call or dismiss the table bot.");
  }
  return { guildId, channelId, userId };
}

function target(c: Context<AppEnv>): RtcNodeTarget {
  const { RTC_NODE_URL, HUB_SECRET } = c.get("config");
  if (!RTC_NODE_URL || !HUB_SECRET) throw new ApiError("BOT_UNAVAILABLE", "The table bot is not set up on this server (RTC_NODE_URL and HUB_SECRET).");
  return { url: RTC_NODE_URL, secret: HUB_SECRET };
}
