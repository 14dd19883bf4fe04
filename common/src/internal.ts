/**
 * The internal events post, gateway-node -> Worker (`POST /api/internal/events`).
 * Body: `{ "events": [HubEvent, ...] }`, signed as described in hmac.ts.
 */
import { z } from "zod";
import {
  PresenceSnapshotPayload,
  RoomCreatedPayload,
  RoomDeletedPayload,
  VoiceJoinedPayload,
  VoiceLeftPayload,
} from "./events.ts";
import { Snowflake } from "./snowflake.ts";

/** Largest accepted body. A 10,000-member presence snapshot is about 600 KB. */
export const MAX_INTERNAL_BODY_BYTES = 2 * 1024 * 1024;
/** Most events in one post; gateway-node batches up to this many. */
export const MAX_EVENTS_PER_POST = 500;

/** A unique id per event: a retried post carrying the same id is accepted once, broadcast once. */
export const EventId = z.string().min(1).max(200).regex(/^[\w.:@-]+$/, "may contain only letters, digits and . : @ _ -");

const base = { id: EventId, guildId: Snowflake, ts: z.number().int().nonnegative().optional() };

export const HubEvent = z.discriminatedUnion("event", [
  z.object({ ...base, event: z.literal("room.created"), payload: RoomCreatedPayload }),
  z.object({ ...base, event: z.literal("room.deleted"), payload: RoomDeletedPayload }),
  z.object({ ...base, event: z.literal("voice.joined"), payload: VoiceJoinedPayload }),
  z.object({ ...base, event: z.literal("voice.left"), payload: VoiceLeftPayload }),
  z.object({ ...base, event: z.literal("presence.snapshot"), payload: PresenceSnapshotPayload }),
]).refine((e) => e.payload.guildId === e.guildId, {
  message: "payload.guildId must equal the event's guildId",
  path: ["payload", "guildId"],
});
export type HubEvent = z.infer<typeof HubEvent>;

export const InternalEventsBody = z.object({
  events: z.array(HubEvent).min(1).max(MAX_EVENTS_PER_POST),
});
export type InternalEventsBody = z.infer<typeof InternalEventsBody>;

/** What the Worker answers to an accepted post. */
export const InternalEventsResult = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  requestId: z.string(),
});
export type InternalEventsResult = z.infer<typeof InternalEventsResult>;
