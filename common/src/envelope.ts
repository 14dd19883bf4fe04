/**
 * The client WebSocket protocol on `/api/ws` (ARCHITECTURE.md): messages in both directions, and
 * the close codes the hub uses. Shared by the GuildHub (producer) and the client library (consumer).
 */
import { z } from "zod";
import { EventPayloads, type EventName, type EventPayload } from "./events.ts";
import { Snowflake } from "./snowflake.ts";

// ---- client -> server -------------------------------------------------------------------------

export const ClientAuth = z.object({
  type: z.literal("auth"),
  token: z.string().min(1).max(8192),
  /** Resume point from a previous connection: the last `seq` seen and the hub `epoch` it belonged to. */
  resume: z.object({ seq: z.number().int().nonnegative(), epoch: z.string().max(64).optional() }).optional(),
  /**
   * The client also understands batch frames (BatchFrame): events posted together then arrive in
   * one WebSocket message instead of one each, which costs the hub one send per batch.
   */
  batch: z.boolean().optional(),
});
/** Tells the hub the client has processed every event up to `seq` (the slow-consumer check reads it). */
export const ClientAck = z.object({ type: z.literal("ack"), seq: z.number().int().nonnegative() });
export const ClientMessage = z.discriminatedUnion("type", [ClientAuth, ClientAck]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/**
 * Keep-alive: the client sends this exact text and the runtime answers "pong" without waking the
 * Durable Object (WebSocket auto-response).
 */
export const PING = "ping";
export const PONG = "pong";

// ---- server -> client -------------------------------------------------------------------------

/** Presence as sent to clients: channelId -> userIds in that voice channel. */
export const Presence = z.record(Snowflake, z.array(Snowflake));
export type Presence = z.infer<typeof Presence>;

export type EventEnvelope<E extends EventName = EventName> = {
  v: 1;
  type: "event";
  event: E;
  payload: EventPayload<E>;
  /** Unix milliseconds when the hub sequenced the event. */
  ts: number;
  /** Per-guild, strictly increasing. */
  seq: number;
};

export const EventEnvelope = z.discriminatedUnion(
  "event",
  (Object.keys(EventPayloads) as EventName[]).map((name) =>
    z.object({
      v: z.literal(1),
      type: z.literal("event"),
      event: z.literal(name),
      payload: EventPayloads[name],
      ts: z.number(),
      seq: z.number().int().positive(),
    }),
  ) as unknown as [z.ZodObject<any>, ...z.ZodObject<any>[]],
);

/** Several consecutive events in one message, for clients that asked for batches at auth. */
export const BatchFrame = z.object({ v: z.literal(1), type: z.literal("batch"), events: z.array(z.unknown()).min(1) });
export type BatchFrame = { v: 1; type: "batch"; events: EventEnvelope[] };
/** Most events the hub puts in one batch frame. */
export const MAX_BATCH_EVENTS = 500;

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

export const ServerMessage = z.union([AuthOk, ErrorAck, EventEnvelope]);

/** Close codes the hub uses, with reasons a person can read (each under 123 bytes). */
export const CloseCodes = {
  /** No auth message within the auth timeout. */
  AuthTimeout: 4001,
  /** The first message was not a valid auth message, or a message broke the protocol. */
  ProtocolError: 4002,
  /** The token was rejected (bad signature, wrong issuer/audience, unknown key, malformed). */
  AuthFailed: 4003,
  /** The token expired; get a fresh token and reconnect (with resume). */
  TokenExpired: 4004,
  /** The client fell more than `maxLag` events behind in its acks; reconnect with resume. */
  SlowConsumer: 4008,
  /** No ping or message for too long; the connection is presumed dead. */
  Idle: 4009,
  /** The guild is not served here (not in PRIMARY_GUILD_ID). */
  UnknownGuild: 4010,
} as const;
export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];

/** Close codes after which a client should not retry without user action (new token or config). */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([CloseCodes.AuthFailed, CloseCodes.UnknownGuild]);
