/**
 * The public event contract (ARCHITECTURE.md, "Wire contract"): one zod schema per event payload,
 * shared by every producer (gateway-node, the Worker's routes) and consumer (the GuildHub, clients).
 */
import { z } from "zod";
import { Snowflake } from "../snowflake.ts";
import { ChatEventPayloads } from "./chat.ts";

export const RoomCreatedPayload = z.object({
  channelId: Snowflake,
  name: z.string().min(1).max(100),
  guildId: Snowflake,
});
export const RoomDeletedPayload = z.object({ channelId: Snowflake, guildId: Snowflake });
export const VoiceJoinedPayload = z.object({ guildId: Snowflake, channelId: Snowflake, userId: Snowflake });
export const VoiceLeftPayload = z.object({
  guildId: Snowflake,
  channelId: Snowflake.nullable(),
  userId: Snowflake,
});

/** A room with nobody in voice will be removed at `closesAt` (Unix ms) unless someone joins. */
export const RoomClosingPayload = z.object({ guildId: Snowflake, channelId: Snowflake, closesAt: z.number().int() });
/** Someone joined during the warning: the room stays. */
export const RoomClosingCancelledPayload = z.object({ guildId: Snowflake, channelId: Snowflake });

/** A player took a seat in a game room (through the rooms API). */
export const RoomSeatedPayload = z.object({ guildId: Snowflake, channelId: Snowflake, userId: z.string().min(1).max(200) });
/**
 * A player gave up their seat: they left it, or took a seat at another table (a player sits at
 * one table at a time, so the old seat is released first).
 */
export const RoomUnseatedPayload = RoomSeatedPayload;

/** Payload schema of each public event, keyed by event name. */
export const EventPayloads = {
  "room.created": RoomCreatedPayload,
  "room.deleted": RoomDeletedPayload,
  "room.closing": RoomClosingPayload,
  "room.closing.cancelled": RoomClosingCancelledPayload,
  "room.seated": RoomSeatedPayload,
  "room.unseated": RoomUnseatedPayload,
  "voice.joined": VoiceJoinedPayload,
  "voice.left": VoiceLeftPayload,
  // Table chat (chat.ts): only for tables' channels, and only when gateway-node forwards messages.
  ...ChatEventPayloads,
} as const;

export type EventName = keyof typeof EventPayloads;
export type EventPayload<E extends EventName> = z.infer<(typeof EventPayloads)[E]>;
export const EventNames = Object.keys(EventPayloads) as EventName[];

/** Whether `name` is a public event of this contract (for routing untyped input). */
export const isEventName = (name: string): name is EventName => Object.hasOwn(EventPayloads, name);

/** One voice state as the hub keeps it: who is in which channel. */
export const VoiceMember = z.object({ userId: Snowflake, channelId: Snowflake });
export type VoiceMember = z.infer<typeof VoiceMember>;

/**
 * A full picture of a guild's voice presence, sent by gateway-node after every (re)identify and
 * when its outbox overflows. The hub diffs it against what it holds and broadcasts the difference
 * as ordinary voice.joined / voice.left events, so clients never need a special case.
 */
export const PresenceSnapshotPayload = z.object({
  guildId: Snowflake,
  voiceStates: z.array(VoiceMember).max(250_000),
  /**
   * Every voice channel of the guild as gateway-node last saw it (GUILD_CREATE plus the channel
   * dispatches since). When present, the hub also reconciles its rooms: channels it does not know
   * become `room.created`, known channels missing here become `room.deleted` (through the rooms
   * module's cleanup path). Optional so that an older gateway-node keeps working.
   */
  channels: z
    .array(z.object({ channelId: Snowflake, name: z.string().min(1).max(100) }))
    .max(1_000)
    .optional(),
});
export type PresenceSnapshotPayload = z.infer<typeof PresenceSnapshotPayload>;
