/**
 * Rooms API (JWT): game rooms in the primary guild. The routes authenticate, validate and check
 * invites; the guild's GuildHub decides everything that must not race (seats, idempotency, who
 * may end a room) and talks to Discord. Contract: common/src/protocol/rooms-api.ts.
 */
import { Hono, type Context } from "hono";
import {
  CreateRoomRequest,
  JoinRoomRequest,
  Snowflake,
  toHex,
  type EndRoomResult,
  type Invite,
  type JoinRoomResult,
  type LeaveRoomResult,
  type Room,
  type RoomsList,
} from "@spell-coven/common";
import { ApiError } from "../errors.ts";
import { jwtAuth } from "../middleware/jwt-auth.ts";
import type { AppEnv } from "../middleware/context.ts";
import { signInvite, verifyInvite } from "../auth/invite-token.ts";
import { readJson } from "./body.ts";
import { snowflakeParam, unwrapOutcome } from "./hub-answers.ts";
import { zodDetails } from "./validation.ts";

const MAX_BODY = 16 * 1024;

export const rooms = new Hono<AppEnv>()
  .use("/api/create-room", jwtAuth)
  .use("/api/end-room/*", jwtAuth)
  .use("/api/rooms", jwtAuth)
  .use("/api/rooms/*", jwtAuth)

  .post("/api/create-room", async (c) => {
    const parsed = CreateRoomRequest.safeParse(await readJson(c.req.raw, MAX_BODY));
    if (!parsed.success) throw new ApiError("VALIDATION_FAILED", "The room request is invalid.", zodDetails(parsed.error));
    const body = parsed.data;
    const player = c.get("player");
    if (body.private) requireDiscordAccount(player.userId);
    const key = c.req.header("Idempotency-Key") ?? null;
    if (key !== null && !/^[\x21-\x7e]{1,255}$/.test(key)) throw new ApiError("VALIDATION_FAILED", "Idempotency-Key must be 1-255 visible ASCII characters.");

    const result = unwrapOutcome(await hub(c).createRoom(guildOf(c), player.userId, body, key, await hashOf(body)));
    if (result.replayed) c.header("Idempotent-Replayed", "true");
    return c.json(result.room satisfies Room, 201);
  })

  .get("/api/rooms", async (c) => {
    return c.json({ rooms: await hub(c).listRooms(guildOf(c)) } satisfies RoomsList);
  })

  .post("/api/rooms/:channelId/invites", async (c) => {
    const channelId = snowflakeParam(c, "channelId");
    const player = c.get("player");
    const room = unwrapOutcome(await hub(c).getRoom(guildOf(c), channelId));
    if (room.private && room.creatorId !== player.userId && !room.members.includes(player.userId)) {
      throw new ApiError("NOT_ROOM_MEMBER", "Only players in this private room can invite others to it.");
    }
    const { token, expiresAt } = await signInvite(hubSecret(c), { guildId: room.guildId, channelId, invitedBy: player.userId });
    const url = new URL(c.get("config").allowedOrigins[0] ?? new URL(c.req.url).origin);
    url.searchParams.set("room", channelId);
    url.searchParams.set("invite", token);
    return c.json({ token, expiresAt, url: url.toString() } satisfies Invite, 201);
  })

  .post("/api/rooms/:channelId/join", async (c) => {
    const channelId = snowflakeParam(c, "channelId");
    const parsed = JoinRoomRequest.safeParse(await readJson(c.req.raw, MAX_BODY));
    if (!parsed.success) throw new ApiError("VALIDATION_FAILED", "The join request is invalid.", zodDetails(parsed.error));
    const player = c.get("player");
    const guildId = guildOf(c);
    const room = unwrapOutcome(await hub(c).getRoom(guildId, channelId));
    if (parsed.data.invite) {
      const check = await verifyInvite(hubSecret(c), parsed.data.invite, { guildId, channelId });
      if (!check.ok) throw new ApiError(check.code, check.message);
    } else if (room.private && !room.members.includes(player.userId) && room.creatorId !== player.userId) {
      throw new ApiError("INVITE_REQUIRED", "This room is private: open the invite link you were sent.");
    }
    if (room.private) requireDiscordAccount(player.userId);
    const joined = unwrapOutcome(await hub(c).joinRoom(guildId, channelId, player.userId));
    return c.json({ room: joined.room, alreadyMember: joined.alreadyMember, leftChannelId: joined.leftChannelId } satisfies JoinRoomResult);
  })

  .post("/api/rooms/:channelId/leave", async (c) => {
    const channelId = snowflakeParam(c, "channelId");
    const player = c.get("player");
    const left = unwrapOutcome(await hub(c).leaveRoom(guildOf(c), channelId, player.userId));
    c.get("log").info("seat given up", { channelId, userId: player.userId });
    return c.json({ room: left.room } satisfies LeaveRoomResult);
  })

  .delete("/api/end-room/:channelId", async (c) => {
    const channelId = snowflakeParam(c, "channelId");
    const player = c.get("player");
    const roles = player.claims.roles;
    const isAdmin = Array.isArray(roles) && roles.includes(c.get("config").ROOM_ADMIN_ROLE);
    const guildId = guildOf(c);
    unwrapOutcome(await hub(c).endRoom(guildId, channelId, player.userId, isAdmin));
    c.get("log").info("room ended", { channelId, userId: player.userId, admin: isAdmin });
    return c.json({ channelId, guildId, deleted: true } satisfies EndRoomResult);
  });

const guildOf = (c: Context<AppEnv>) => c.get("config").PRIMARY_GUILD_ID[0]!;
const hub = (c: Context<AppEnv>) => c.env.GUILD_HUB.getByName(guildOf(c));

function hubSecret(c: Context<AppEnv>): string {
  const secret = c.get("config").HUB_SECRET;
  if (!secret) throw new ApiError("NOT_CONFIGURED", "HUB_SECRET is not set on the Worker; invites cannot be signed.");
  return secret;
}

/** Private rooms work through Discord roles, so the player's token must name their Discord user. */
function requireDiscordAccount(userId: string): void {
  if (!Snowflake.safeParse(userId).success) {
    throw new ApiError(
      "DISCORD_ACCOUNT_REQUIRED",
      "Private rooms need a Discord account linked to your sign-in (your token's subject is not a Discord user id).",
    );
  }
}

/** Fingerprint of a create request, so an Idempotency-Key cannot be reused for a different room. */
async function hashOf(body: CreateRoomRequest): Promise<string> {
  const canonical = JSON.stringify(Object.fromEntries(Object.entries(body).sort(([a], [b]) => a.localeCompare(b))));
  return toHex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical)));
}
