/**
 * The internal events post, sidecar -> Worker (`POST /api/internal/events`).
 * Body: `{ "events": [InternalEvent, ...] }`, signed as described in hmac.ts.
 *
 * Internal events are the hub's input: what Discord did, as gateway-node saw it. The hub decides
 * which public events (events.ts) they yield; a sender never broadcasts directly.
 */
import { z } from "zod";
import { PresenceSnapshotPayload, RoomCreatedPayload, RoomDeletedPayload, VoiceFlagsPayload, VoiceJoinedPayload, VoiceLeftPayload } from "./events.ts";
import { Snowflake } from "../snowflake.ts";
import { SignalPayloads } from "./signals.ts";
import { ChatEventPayloads, TraceId } from "./chat.ts";

/** Largest accepted body. A 10,000-member presence snapshot is about 600 KB. */
export const MAX_INTERNAL_BODY_BYTES = 2 * 1024 * 1024;
/** Most events in one post; gateway-node batches up to this many. */
export const MAX_EVENTS_PER_POST = 500;

/** A unique id per event: a retried post carrying the same id is accepted once, broadcast once. */
export const EventId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\w.:@-]+$/, "may contain only letters, digits and . : @ _ -");

/** Payload schema of each internal event, keyed by event name. */
export const InternalEventPayloads = {
  "room.created": RoomCreatedPayload,
  "room.deleted": RoomDeletedPayload,
  "voice.joined": VoiceJoinedPayload,
  "voice.left": VoiceLeftPayload,
  "voice.flags": VoiceFlagsPayload,
  "presence.snapshot": PresenceSnapshotPayload,
  // Forwarded only with ENABLE_MESSAGE_EVENTS, for voice channels (text in voice); the hub keeps tables' ones.
  ...ChatEventPayloads,
} as const;
export type InternalEventName = keyof typeof InternalEventPayloads;
export const InternalEventNames = Object.keys(InternalEventPayloads) as InternalEventName[];

function internalEventSchema<E extends InternalEventName>(event: E) {
  return z.object({
    id: EventId,
    guildId: Snowflake,
    event: z.literal(event),
    payload: InternalEventPayloads[event],
    /** Unix ms when the sidecar saw the change (the hub uses its own clock when absent). */
    ts: z.number().int().nonnegative().optional(),
    /** W3C trace id gateway-node started when the dispatch arrived; kept by the hub and the envelope. */
    traceId: TraceId.optional(),
  });
}

/** One internal event of name `E` (all of them when `E` is left out). */
export type InternalEvent<E extends InternalEventName = InternalEventName> = {
  [K in E]: z.infer<ReturnType<typeof internalEventSchema<K>>>;
}[E];

export const InternalEvent = z
  .discriminatedUnion(
    "event",
    InternalEventNames.map(internalEventSchema) as unknown as [ReturnType<typeof internalEventSchema>, ...ReturnType<typeof internalEventSchema>[]],
  )
  .refine((e) => e.payload.guildId === e.guildId, {
    message: "payload.guildId must equal the event's guildId",
    path: ["payload", "guildId"],
  }) as unknown as z.ZodType<InternalEvent>;

export const InternalEventsBody = z.object({
  events: z.array(InternalEvent).min(1).max(MAX_EVENTS_PER_POST),
});
export type InternalEventsBody = z.infer<typeof InternalEventsBody>;

/**
 * `POST /api/internal/signals` (signed like events): signals a sidecar sends through the hub,
 * never stored. rtc-node reports who is speaking at the table its bot is in; the hub relays each
 * to that table's subscribers.
 */
export const InternalSignal = z.object({ guildId: Snowflake, signal: z.literal("voice.speaking"), payload: SignalPayloads["voice.speaking"] });
export type InternalSignal = z.infer<typeof InternalSignal>;
/** Most signals in one post (a few Hz per speaker at a 4-player table). */
export const MAX_SIGNALS_PER_POST = 100;
export const InternalSignalsBody = z.object({ signals: z.array(InternalSignal).min(1).max(MAX_SIGNALS_PER_POST) });
export type InternalSignalsBody = z.infer<typeof InternalSignalsBody>;
export const InternalSignalsResult = z.object({ delivered: z.number().int(), requestId: z.string() });
export type InternalSignalsResult = z.infer<typeof InternalSignalsResult>;

/** What the Worker answers to an accepted post. */
export const InternalEventsResult = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  requestId: z.string(),
});
export type InternalEventsResult = z.infer<typeof InternalEventsResult>;
