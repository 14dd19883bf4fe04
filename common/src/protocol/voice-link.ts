/**
 * The voice link between gateway-node and rtc-node (a WebSocket, `Authorization: Bearer
 * <LINK_TOKEN>`, loopback or private network only), and the bot control API the Worker calls on
 * rtc-node (HMAC-signed like internal posts). rtc-node never opens a Gateway session of its own:
 * it sends op 4 through the link and gets the bot's own voice dispatches back.
 */
import { z } from "zod";
import { Snowflake } from "../snowflake.ts";

/** rtc-node -> gateway-node: a Gateway op 4 (voice state update) for one guild. */
export const LinkVoiceStateCommand = z.object({
  type: z.literal("voice_state"),
  guildId: Snowflake,
  channelId: Snowflake.nullable(),
  selfMute: z.boolean(),
  selfDeaf: z.boolean(),
});
export type LinkVoiceStateCommand = z.infer<typeof LinkVoiceStateCommand>;
export const LinkCommand = z.discriminatedUnion("type", [LinkVoiceStateCommand]);
export type LinkCommand = z.infer<typeof LinkCommand>;

/** gateway-node -> rtc-node. */
export const LinkMessage = z.discriminatedUnion("type", [
  /** First message after the upgrade: who the bot is (null until a shard is READY). */
  z.object({ type: z.literal("hello"), botUserId: Snowflake.nullable() }),
  /** The bot's own VOICE_STATE_UPDATE or any VOICE_SERVER_UPDATE, as Discord sent it. */
  z.object({ type: z.literal("dispatch"), t: z.enum(["VOICE_STATE_UPDATE", "VOICE_SERVER_UPDATE"]), d: z.record(z.string(), z.unknown()) }),
  /** A shard has a new session (READY) or resumed: voice connections still signalling should ask again. */
  z.object({ type: z.literal("session"), event: z.enum(["ready", "resumed"]), botUserId: Snowflake }),
  /** A command was refused. */
  z.object({ type: z.literal("error"), code: z.string(), message: z.string() }),
]);
export type LinkMessage = z.infer<typeof LinkMessage>;

/** Stable error codes on the link. */
export const LinkErrorCode = {
  MalformedCommand: "LINK_MALFORMED_COMMAND",
  GuildNotHere: "LINK_GUILD_NOT_ON_THIS_PROCESS",
  SendFailed: "LINK_SEND_FAILED",
} as const;

/** Named cues the table bot can play. */
export const BotCueName = z.enum(["room_closing", "chime", "turn", "alert"]);
export type BotCueName = z.infer<typeof BotCueName>;

/** Worker -> rtc-node `POST /bot/join`: bring the bot to a table. */
export const BotJoinRequest = z.object({ guildId: Snowflake, channelId: Snowflake, requestedBy: Snowflake.optional() });
export type BotJoinRequest = z.infer<typeof BotJoinRequest>;
/** Worker -> rtc-node `POST /bot/leave`: send it away (only if it is at that table). */
export const BotLeaveRequest = z.object({ guildId: Snowflake, channelId: Snowflake });
export type BotLeaveRequest = z.infer<typeof BotLeaveRequest>;
/** Worker (or the hub's bot module) -> rtc-node `POST /bot/cue`. */
export const BotCueRequest = z.object({ guildId: Snowflake, channelId: Snowflake, cue: BotCueName });
export type BotCueRequest = z.infer<typeof BotCueRequest>;

/** rtc-node's answers. */
export const BotStatus = z.object({ guildId: Snowflake, channelId: Snowflake.nullable(), state: z.string() });
export type BotStatus = z.infer<typeof BotStatus>;
export const BotErrorCode = {
  Busy: "BOT_BUSY",
  NotHere: "BOT_NOT_AT_TABLE",
  Malformed: "BOT_MALFORMED_REQUEST",
  Unauthorized: "BOT_UNAUTHORIZED",
  JoinFailed: "BOT_JOIN_FAILED",
  LinkDown: "BOT_LINK_DOWN",
} as const;
