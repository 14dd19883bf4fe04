/**
 * Hub -> client messages on `/api/ws` (ARCHITECTURE.md): event envelopes (durable, sequenced),
 * batch frames, acks (auth.ok, error) and signal envelopes (signals.ts). Types are derived from
 * the schemas; the hub's fast string encoders are checked against them by a test.
 */
import { z } from "zod";
import { EventNames, EventPayloads, MAX_SNAPSHOT_VOICE_STATES, VoiceFlagsEntry, type EventName } from "./events.ts";
import { SignalEnvelope } from "./signals.ts";
import { TraceId } from "./chat.ts";
import { Snowflake } from "../snowflake.ts";

/** Presence as sent to clients: channelId -> userIds in that voice channel. */
export const Presence = z.record(Snowflake, z.array(Snowflake));
export type Presence = z.infer<typeof Presence>;

/**
 * Who in voice is muted or deafened, beside `Presence` (which stays channelId -> userIds for the
 * clients that read it so): only users with a flag set; absent means nobody.
 */
export const PresenceFlags = z.array(VoiceFlagsEntry).max(MAX_SNAPSHOT_VOICE_STATES);
export type PresenceFlags = z.infer<typeof PresenceFlags>;

function eventEnvelopeSchema<E extends EventName>(event: E) {
  return z.object({
    v: z.literal(1),
    type: z.literal("event"),
    event: z.literal(event),
    payload: EventPayloads[event],
    /** Unix milliseconds when the hub sequenced the event. */
    ts: z.number(),
    /** Per-guild, strictly increasing. */
    seq: z.number().int().positive(),
    /** W3C trace id of what caused the event (a Discord dispatch, a player's command), when known. */
    traceId: TraceId.optional(),
  });
}

/** The envelope of one public event of name `E` (all of them when `E` is left out). */
export type EventEnvelope<E extends EventName = EventName> = { [K in E]: z.infer<ReturnType<typeof eventEnvelopeSchema<K>>> }[E];

export const EventEnvelope = z.discriminatedUnion(
  "event",
  EventNames.map(eventEnvelopeSchema) as unknown as [ReturnType<typeof eventEnvelopeSchema>, ...ReturnType<typeof eventEnvelopeSchema>[]],
) as unknown as z.ZodType<EventEnvelope>;

/**
 * Stands in for an event that is not for this client: an event addressed to some players only
 * (a private table's chat goes to its players). It keeps the seq contiguous, so the client counts
 * the seq as processed instead of taking it for a gap. It says nothing of the event.
 */
export const SkipFrame = z.object({
  v: z.literal(1),
  type: z.literal("skip"),
  seq: z.number().int().positive(),
  ts: z.number(),
});
export type SkipFrame = z.infer<typeof SkipFrame>;

/** Most events the hub puts in one batch frame. */
export const MAX_BATCH_EVENTS = 500;

/**
 * Several consecutive events in one message, for clients that asked for batches at auth. The
 * events are checked one by one (EventEnvelope, or SkipFrame for a seq that is not for this
 * client) so that one bad event skips only itself.
 */
export const BatchFrame = z.object({ v: z.literal(1), type: z.literal("batch"), events: z.array(z.unknown()).min(1).max(MAX_BATCH_EVENTS) });
export type BatchFrame = { v: 1; type: "batch"; events: (EventEnvelope | SkipFrame)[] };

export const AuthOk = z.object({
  v: z.literal(1),
  type: z.literal("ack"),
  event: z.literal("auth.ok"),
  guildId: Snowflake,
  userId: z.string(),
  /** The hub's current seq; events after it follow on this socket. */
  seq: z.number().int().nonnegative(),
  /** Changes when the hub's history is reset; a resume from another epoch gets a snapshot. */
  epoch: z.string(),
  /** True when every missed event follows (replayed); false when `presence` is a fresh snapshot. */
  resumed: z.boolean(),
  presence: Presence,
  /** Mute and deafen flags of the users in `presence` who have one set; left out when nobody has. */
  voiceFlags: PresenceFlags.optional(),
  /** Unix ms when the token expires; the hub closes with TOKEN_EXPIRED then. */
  expiresAt: z.number().nullable(),
  /** Send an ack at least every this many events, or the hub treats the client as too slow. */
  maxLag: z.number().int().positive(),
  ts: z.number(),
});
export type AuthOk = z.infer<typeof AuthOk>;

/** Answer to a message the hub could not use; the socket stays open. */
export const ErrorAck = z.object({
  v: z.literal(1),
  type: z.literal("ack"),
  event: z.literal("error"),
  payload: z.object({ code: z.string(), message: z.string() }),
  ts: z.number(),
});
export type ErrorAck = z.infer<typeof ErrorAck>;

/** Every single message the hub sends (a batch frame's events are EventEnvelopes). */
export const ServerMessage = z.union([AuthOk, ErrorAck, EventEnvelope, SkipFrame, BatchFrame, SignalEnvelope]);
export type ServerMessage = AuthOk | ErrorAck | EventEnvelope | SkipFrame | BatchFrame | SignalEnvelope;
