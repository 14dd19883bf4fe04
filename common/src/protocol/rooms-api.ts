/**
 * The rooms API contract (Worker routes <-> lobby page and client library): request and answer
 * schemas, and the stable error codes a client can branch on.
 */
import { z } from "zod";
import { Snowflake } from "../snowflake.ts";

/** Default seats: a Commander pod. */
export const DEFAULT_ROOM_USER_LIMIT = 4;
export const MAX_ROOM_USER_LIMIT = 99;

export const CreateRoomRequest = z.object({
  name: z.string().trim().min(1).max(100).optional(),
  parentId: Snowflake.optional(),
  userLimit: z.number().int().min(1).max(MAX_ROOM_USER_LIMIT).optional(),
  /** Private: only players holding the room's role (given through an invite) may see and join it. */
  private: z.boolean().optional(),
});
export type CreateRoomRequest = z.infer<typeof CreateRoomRequest>;

export const Room = z.object({
  channelId: Snowflake,
  name: z.string(),
  guildId: Snowflake,
  private: z.boolean(),
  userLimit: z.number().int(),
  creatorId: z.string(),
  createdAt: z.number().int(),
  lastActivityAt: z.number().int(),
  /** Players holding a seat (creator and everyone who joined through the API). */
  members: z.array(z.string()),
  /** Users in the room's voice channel right now. */
  voice: z.array(z.string()),
  /** Set while the room is in its closing warning (Unix ms of removal). */
  closingAt: z.number().int().nullable(),
});
export type Room = z.infer<typeof Room>;

export const RoomsList = z.object({ rooms: z.array(Room) });
export type RoomsList = z.infer<typeof RoomsList>;

export const Invite = z.object({
  token: z.string(),
  /** Unix ms. */
  expiresAt: z.number().int(),
  /** A link to the lobby that joins with this invite. */
  url: z.string(),
});
export type Invite = z.infer<typeof Invite>;

export const JoinRoomRequest = z.object({ invite: z.string().min(1).max(4096).optional() });
export type JoinRoomRequest = z.infer<typeof JoinRoomRequest>;

export const JoinRoomResult = z.object({
  room: Room,
  alreadyMember: z.boolean(),
  /** The table whose seat was given up to take this one (a player sits at one table at a time). */
  leftChannelId: Snowflake.nullable(),
});
export type JoinRoomResult = z.infer<typeof JoinRoomResult>;

/** `POST /api/rooms/:channelId/leave`: the room as it is after the seat was given up. */
export const LeaveRoomResult = z.object({ room: Room });
export type LeaveRoomResult = z.infer<typeof LeaveRoomResult>;

/** `DELETE /api/end-room/:channelId`: the room's channel (and role) are gone from Discord. */
export const EndRoomResult = z.object({ channelId: Snowflake, guildId: Snowflake, deleted: z.literal(true) });
export type EndRoomResult = z.infer<typeof EndRoomResult>;

/** `GET /api/session-config`: the public settings a browser needs to start (nothing secret). */
export const SessionConfig = z.object({
  guildId: Snowflake,
  /** The Worker's MAX_WS_RECONNECT_ATTEMPTS. */
  maxReconnectAttempts: z.number().int().nonnegative(),
  /** The development identity provider (the simulator); null with a real one. */
  devIdentityUrl: z.string().url().nullable(),
  /** Where "Open in Discord" links point: discord.com, or the simulator's page in the local run. */
  discordWebUrl: z.string().url(),
});
export type SessionConfig = z.infer<typeof SessionConfig>;

/** Error codes of the rooms API (besides the generic ones: UNAUTHORIZED, VALIDATION_FAILED, ...). */
export const RoomErrorCodes = [
  "ROOM_NOT_FOUND",
  "ROOM_FULL",
  "INVITE_REQUIRED",
  "INVITE_INVALID",
  "INVITE_EXPIRED",
  "INVITE_WRONG_ROOM",
  "NOT_ROOM_CREATOR",
  "NOT_ROOM_MEMBER",
  "RATE_LIMITED",
  "IDEMPOTENCY_KEY_REUSED",
] as const;
export type RoomErrorCode = (typeof RoomErrorCodes)[number];
