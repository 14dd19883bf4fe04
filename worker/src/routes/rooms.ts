/**
 * Rooms API (JWT): a room is a Discord voice channel in the primary guild. Creating or ending one
 * calls Discord through the shared REST client, then announces it through the guild's hub with
 * the same event id gateway-node uses for the matching CHANNEL_CREATE / CHANNEL_DELETE, so each
 * room change reaches clients once whichever path reports it first.
 */
import { Hono } from "hono";
import { z } from "zod";
import { Snowflake, type HubEvent } from "@spell-coven/common";
import { ApiError } from "../errors.ts";
import { jwtAuth } from "../middleware/jwt-auth.ts";
import type { AppEnv } from "../middleware/context.ts";
import { discordClient, toApiError } from "../discord.ts";
import { readJson } from "./body.ts";
import { zodDetails } from "./validation.ts";

const CreateRoomBody = z.object({
  name: z.string().trim().min(1).max(100).optional(),
  parentId: Snowflake.optional(),
  userLimit: z.number().int().min(0).max(99).optional(),
});

export const rooms = new Hono<AppEnv>()
  .use("/api/create-room", jwtAuth)
  .use("/api/end-room/*", jwtAuth)
  .post("/api/create-room", async (c) => {
    const parsed = CreateRoomBody.safeParse(await readJson(c.req.raw, 16 * 1024));
    if (!parsed.success) throw new ApiError("VALIDATION_FAILED", "The room request is invalid.", zodDetails(parsed.error));
    const { name = "Game Room", parentId, userLimit } = parsed.data;
    const config = c.get("config");
    const player = c.get("player");
    const guildId = config.PRIMARY_GUILD_ID[0]!;

    const channel = await discordClient(c)
      .createVoiceChannel(guildId, name, { parentId, userLimit, reason: `Room created by player ${player.userId}` })
      .catch((err: unknown) => {
        throw toApiError(err, "create the room's voice channel");
      });

    const room = { channelId: channel.id, name: channel.name ?? name, guildId };
    await announce(c.env, { id: `room.created:${room.channelId}`, guildId, event: "room.created", payload: room });
    c.get("log").info("room created", { channelId: room.channelId, userId: player.userId });
    return c.json(room, 201);
  })
  .delete("/api/end-room/:channelId", async (c) => {
    const channelId = c.req.param("channelId");
    if (!Snowflake.safeParse(channelId).success) throw new ApiError("VALIDATION_FAILED", "channelId must be a Discord snowflake.");
    const player = c.get("player");
    const guildId = c.get("config").PRIMARY_GUILD_ID[0]!;

    await discordClient(c)
      .deleteChannel(channelId, { reason: `Room ended by player ${player.userId}` })
      .catch((err: unknown) => {
        throw toApiError(err, `delete channel ${channelId}`);
      });

    await announce(c.env, { id: `room.deleted:${channelId}`, guildId, event: "room.deleted", payload: { channelId, guildId } });
    c.get("log").info("room ended", { channelId, userId: player.userId });
    return c.json({ channelId, guildId, deleted: true });
  });

function announce(env: AppEnv["Bindings"], event: HubEvent) {
  return env.GUILD_HUB.getByName(event.guildId).ingest([event]);
}
