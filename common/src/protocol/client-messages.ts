/**
 * Client -> hub messages on `/api/ws` (ARCHITECTURE.md): one zod schema per message, keyed by
 * `type`. The hub routes each `type` to the module that handles it; a feature adds its message
 * here and its handler in its hub module, nothing else.
 */
import { z } from "zod";
import { Snowflake } from "../snowflake.ts";
import { IceCandidate, PairGeneration, PeerId, SessionDescription } from "./signals.ts";
import { ChatContent, ChatEmoji, CommandId, TraceId } from "./chat.ts";

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

/** Join a table's call (board video). Seat holders are players; others may watch public tables. */
export const TableJoin = z.object({ type: z.literal("table.join"), channelId: Snowflake, camera: z.boolean() });
/** Leave the table's call (closing the socket does the same). */
export const TableLeave = z.object({ type: z.literal("table.leave"), channelId: Snowflake });
/** An offer, answer or ICE candidate for one peer at the same table; relayed only to `to`. */
export const RtcSignal = z
  .object({
    type: z.literal("rtc.signal"),
    to: PeerId,
    gen: PairGeneration,
    description: SessionDescription.optional(),
    candidate: IceCandidate.nullable().optional(),
  })
  .refine((m) => (m.description !== undefined) !== (m.candidate !== undefined), { message: "carries exactly one of description or candidate" });
/** Rebuild the connection to `to` as generation `gen` (only the pair's offerer decides). */
export const RtcReset = z.object({ type: z.literal("rtc.reset"), to: PeerId, gen: PairGeneration });

/**
 * Table chat commands over the WebSocket (the same as the HTTP routes): the outcome comes back as
 * a `command.result` signal on this socket's user. `traceId` is the browser's own, when it made one.
 */
export const ChatSend = z.object({
  type: z.literal("chat.send"),
  channelId: Snowflake,
  content: ChatContent,
  commandId: CommandId.optional(),
  traceId: TraceId.optional(),
});
export const ChatReact = z.object({
  type: z.literal("chat.react"),
  channelId: Snowflake,
  messageId: Snowflake,
  emoji: ChatEmoji,
  commandId: CommandId.optional(),
  traceId: TraceId.optional(),
});
export const ChatTyping = z.object({ type: z.literal("chat.typing"), channelId: Snowflake, commandId: CommandId.optional(), traceId: TraceId.optional() });

/** Every client message schema, keyed by its `type`. */
export const ClientMessages = {
  auth: ClientAuth,
  ack: ClientAck,
  "table.join": TableJoin,
  "table.leave": TableLeave,
  "rtc.signal": RtcSignal,
  "rtc.reset": RtcReset,
  "chat.send": ChatSend,
  "chat.react": ChatReact,
  "chat.typing": ChatTyping,
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

/** Largest client message the hub accepts (a big JWT is a few KB; an SDP offer at most 16 KB). */
export const MAX_CLIENT_MESSAGE_BYTES = 32 * 1024;
