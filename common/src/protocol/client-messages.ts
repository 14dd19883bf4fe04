/**
 * Client -> hub messages on `/api/ws` (ARCHITECTURE.md): one zod schema per message, keyed by
 * `type`. The hub routes each `type` to the module that handles it; a feature adds its message
 * here and its handler in its hub module, nothing else.
 */
import { z } from "zod";

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
export type ClientAuth = z.infer<typeof ClientAuth>;

/** Tells the hub the client has processed every event up to `seq` (the slow-consumer check reads it). */
export const ClientAck = z.object({ type: z.literal("ack"), seq: z.number().int().nonnegative() });
export type ClientAck = z.infer<typeof ClientAck>;

/** Every client message schema, keyed by its `type`. */
export const ClientMessages = {
  auth: ClientAuth,
  ack: ClientAck,
} as const;
export type ClientMessageType = keyof typeof ClientMessages;
/** One client message of type `T` (all of them when `T` is left out). */
export type ClientMessage<T extends ClientMessageType = ClientMessageType> = { [K in T]: z.infer<(typeof ClientMessages)[K]> }[T];

export const ClientMessage = z.discriminatedUnion(
  "type",
  Object.values(ClientMessages) as unknown as [(typeof ClientMessages)[ClientMessageType], ...(typeof ClientMessages)[ClientMessageType][]],
) as unknown as z.ZodType<ClientMessage>;

/**
 * Keep-alive: the client sends this exact text and the runtime answers "pong" without waking the
 * Durable Object (WebSocket auto-response).
 */
export const PING = "ping";
export const PONG = "pong";

/** Largest client message the hub accepts (an auth message with a big JWT is a few KB). */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;
