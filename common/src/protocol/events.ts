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

/**
 * Whether a user in voice can be heard and can hear, as Discord's voice state says: muted or
 * deafened by themselves (`self_mute`, `self_deaf`) or by a moderator for the whole server
 * (`mute`, `deaf`). Stage channels' `suppress` is left out: tables are plain voice channels.
 */
export const VoiceFlags = z.object({ selfMute: z.boolean(), selfDeaf: z.boolean(), serverMute: z.boolean(), serverDeaf: z.boolean() });
export type VoiceFlags = z.infer<typeof VoiceFlags>;

/**
 * A user's flags changed while they stayed in `channelId`, or they joined with some flag set (it
 * follows their voice.joined). Leaving voice clears them: no flags event is sent for a leave.
 * The same payload as an internal event (gateway-node -> hub) and a public one (hub -> clients).
 */
export const VoiceFlagsPayload = VoiceFlags.extend({ guildId: Snowflake, channelId: Snowflake, userId: Snowflake });
export type VoiceFlagsPayload = z.infer<typeof VoiceFlagsPayload>;

/** One user's flags in a snapshot; snapshots list only users with at least one flag set. */
export const VoiceFlagsEntry = VoiceFlags.extend({ userId: Snowflake });
export type VoiceFlagsEntry = z.infer<typeof VoiceFlagsEntry>;

/** Most voice states (and so flag entries) one snapshot may carry. */
export const MAX_SNAPSHOT_VOICE_STATES = 250_000;

/** Whether any flag is set (snapshots carry only such users). */
export const hasVoiceFlag = (f: VoiceFlags): boolean => f.selfMute || f.selfDeaf || f.serverMute || f.serverDeaf;

/**
 * The four flags as one small number (bits 1, 2, 4, 8 in VoiceFlags' order), for what keeps one
 * per user in voice (gateway-node's cache, the hub's SQLite). Never on the wire.
 */
export function packVoiceFlags(f: VoiceFlags): number {
  return (f.selfMute ? 1 : 0) | (f.selfDeaf ? 2 : 0) | (f.serverMute ? 4 : 0) | (f.serverDeaf ? 8 : 0);
}

/** The flags `packVoiceFlags` packed (0: none set). */
export function unpackVoiceFlags(bits: number): VoiceFlags {
  return { selfMute: (bits & 1) !== 0, selfDeaf: (bits & 2) !== 0, serverMute: (bits & 4) !== 0, serverDeaf: (bits & 8) !== 0 };
}

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
  "voice.flags": VoiceFlagsPayload,
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
  voiceStates: z.array(VoiceMember).max(MAX_SNAPSHOT_VOICE_STATES),
  /**
   * Users in voice with a mute or deafen flag set (everyone else has none). When present the hub
   * sets each user's flags to these, publishing voice.flags for each change; absent (an older
   * gateway-node, a hand-made snapshot) the flags the hub holds stay as they are.
   */
  voiceFlags: z.array(VoiceFlagsEntry).max(MAX_SNAPSHOT_VOICE_STATES).optional(),
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
