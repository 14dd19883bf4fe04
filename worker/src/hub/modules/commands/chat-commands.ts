/**
 * Table chat commands from the browser (HTTP routes or WebSocket messages): sendMessage,
 * addReaction, typingStart into a table's chat (the text chat of its voice channel).
 *
 * Per command: the player must hold a seat at the table; a command id seen before is answered as
 * a duplicate without a second Discord call; the buckets (command-limits.ts) refuse locally, so a
 * refusal never reaches Discord; then the Discord call runs in the background and its outcome goes
 * to the sender's sockets as `command.result` (accepted now, then sent or failed). Sends carry the
 * command id as Discord's `nonce` with `enforce_nonce`, and `allowed_mentions: {parse: []}`; their
 * content starts with the player's mention (`siteMessageContent`) so Discord shows who wrote it.
 *
 * Every step logs the command's trace id (the browser's, else one started here); it is never
 * sent to Discord. The MESSAGE_CREATE the send causes carries the nonce, which chat-events.ts
 * turns back into this trace id.
 */
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import {
  chatEmojiRef,
  newTraceId,
  siteMessageContent,
  type ChatCommandName,
  type CommandAccepted,
  type CommandErrorCode,
  type CommandResultPayload,
  type Logger,
} from "@spell-coven/common";
import { DiscordApiError, DiscordRateLimitError, type DiscordRestClient } from "@spell-coven/common/rest";
import type { Fanout } from "../../fanout/fanout.ts";
import type { PublicEvent } from "../../hub-module.ts";
import type { RoomOutcome, RoomsService } from "../rooms/rooms-service.ts";
import type { ChatAudience, ChatEvent } from "./chat-audience.ts";
import type { CommandLimits } from "./command-limits.ts";
import type { CommandStore } from "./command-store.ts";

interface Common {
  channelId: string;
  commandId?: string | undefined;
  traceId?: string | undefined;
}
export type ChatCommand =
  | (Common & { command: "sendMessage"; content: string })
  | (Common & { command: "addReaction"; messageId: string; emoji: string })
  | (Common & { command: "typingStart" });

/** What a command's outcome was, for the metrics. */
export type CommandOutcomeLabel = "accepted" | "collapsed" | "duplicate" | "refused" | "sent" | "failed";

export interface ChatCommandsDeps {
  store: CommandStore;
  limits: CommandLimits;
  rooms: Pick<RoomsService, "get">;
  /** Addresses the chat events the commands publish themselves (the player's typing and reactions). */
  audience: ChatAudience;
  fanout: Fanout;
  publish(event: PublicEvent): void;
  /** The bot's user id: a site reaction is the bot's reaction in Discord. Null: not known (none published). */
  botUserId: string | null;
  guildId(): string;
  discord(): DiscordRestClient;
  log: Logger;
  /** Counts outcomes (hub metrics). */
  count?(command: ChatCommandName, outcome: CommandOutcomeLabel, code?: string): void;
}

/** A command id (and Discord nonce) for a command that came without one. */
export const newCommandId = () => crypto.randomUUID().replaceAll("-", "").slice(0, 25);

const refuse = (code: CommandErrorCode, status: number, message: string, extra: { retryAfterMs?: number; details?: unknown } = {}): RoomOutcome<never> => ({
  ok: false,
  code,
  status,
  message,
  ...extra,
});

export class ChatCommands {
  constructor(private readonly deps: ChatCommandsDeps) {}

  /** Checks and takes what the command costs; answers at once, the Discord call follows in the background. */
  run(userId: string, cmd: ChatCommand, now: number): RoomOutcome<CommandAccepted> {
    const { store, limits, rooms, log } = this.deps;
    const traceId = cmd.traceId ?? newTraceId();
    const commandId = cmd.commandId ?? newCommandId();
    const ctx = { traceId, commandId, command: cmd.command, channelId: cmd.channelId, userId };
    const out = (o: RoomOutcome<CommandAccepted>) => {
      if (o.ok) this.deps.count?.(cmd.command, o.value.status);
      else this.deps.count?.(cmd.command, "refused", o.code);
      return o;
    };

    const room = rooms.get(cmd.channelId);
    if (!room) return out(refuse("TABLE_NOT_FOUND", 404, "This table does not exist any more."));
    if (!room.members.includes(userId))
      return out(refuse("NOT_ROOM_MEMBER", 403, "Only players seated at this table can write in its chat; take a seat first."));

    if (cmd.commandId !== undefined) {
      const seen = store.get(cmd.commandId, now);
      if (seen && seen.userId !== userId) return out(refuse("IDEMPOTENCY_KEY_REUSED", 422, "This command id was already used; send a new one."));
      if (seen && seen.outcome !== "failed") {
        log.info("chat command repeated; not sent again", { ...ctx, traceId: seen.traceId, outcome: seen.outcome });
        // Answered with what became of the first one, so a client that lost that answer learns it now.
        this.tell(userId, {
          commandId,
          traceId: seen.traceId,
          command: cmd.command,
          channelId: cmd.channelId,
          status: seen.outcome,
          ...(seen.messageId ? { messageId: seen.messageId } : {}),
        });
        return out({ ok: true, value: { commandId, traceId: seen.traceId, status: "duplicate" } });
      }
      // A command that failed at Discord runs again: for a send, Discord's nonce returns the first
      // message if the first call did reach it after all.
      if (seen) log.info("chat command retried after a failure", { ...ctx, traceId: seen.traceId });
    }

    const verdict = limits.take(cmd.command, userId, cmd.channelId, now);
    if (!verdict.ok) {
      log.info("chat command refused by a local limit", { ...ctx, bucket: verdict.bucket, retryAfterMs: verdict.retryAfterMs });
      const what =
        verdict.bucket === "user"
          ? "You are sending too fast"
          : verdict.bucket === "channel"
            ? "This table's chat is busy"
            : "The site is sending too much to Discord";
      return out(
        refuse("RATE_LIMITED", 429, `${what}; retry in ${Math.ceil(verdict.retryAfterMs / 1000)} s.`, {
          retryAfterMs: verdict.retryAfterMs,
          details: { bucket: verdict.bucket, retryAfterMs: verdict.retryAfterMs },
        }),
      );
    }
    store.add({ commandId, command: cmd.command, userId, channelId: cmd.channelId, traceId, at: now });

    if (cmd.command === "typingStart") {
      // The page shows the player typing (Discord would show the bot).
      this.publishChat({ event: "typing.started", payload: { guildId: this.deps.guildId(), channelId: cmd.channelId, userId, at: now }, traceId });
      if (verdict.collapsed) {
        log.debug("typing collapsed: this channel's indicator is still lit", ctx);
        return out({ ok: true, value: { commandId, traceId, status: "collapsed" } });
      }
    }
    log.info("chat command accepted", ctx);
    this.tell(userId, { commandId, traceId, command: cmd.command, channelId: cmd.channelId, status: "accepted" });
    void this.execute(userId, cmd, commandId, traceId);
    return out({ ok: true, value: { commandId, traceId, status: "accepted" } });
  }

  private async execute(userId: string, cmd: ChatCommand, commandId: string, traceId: string): Promise<void> {
    const { log } = this.deps;
    const base = { commandId, traceId, command: cmd.command, channelId: cmd.channelId } as const;
    const started = Date.now();
    try {
      log.debug("chat command to discord", { ...base, userId });
      const discord = this.deps.discord();
      let messageId: string | undefined;
      if (cmd.command === "sendMessage") {
        // The command id is the nonce: a retry (ours or the REST client's after a 429) returns the first message.
        // Prefixed with the player's mention, so the people at the table in Discord see who wrote it.
        const content = siteMessageContent(userId, cmd.content);
        const message = await discord.sendMessage(cmd.channelId, content, { nonce: commandId, allowedMentions: { parse: [] } });
        messageId = message.id;
      } else if (cmd.command === "addReaction") {
        await discord.addReaction(cmd.channelId, cmd.messageId, cmd.emoji);
        messageId = cmd.messageId;
        // Discord reports the bot's reaction (once per emoji, whoever asked); the page shows the player's.
        if (this.deps.botUserId) {
          const payload = {
            guildId: this.deps.guildId(),
            channelId: cmd.channelId,
            messageId,
            userId: this.deps.botUserId,
            emoji: chatEmojiRef(cmd.emoji),
            sentBy: userId,
          };
          this.publishChat({ event: "message.reaction.added", payload, traceId });
        }
      } else {
        await discord.triggerTyping(cmd.channelId);
      }
      this.deps.store.sent(commandId, messageId);
      log.info("chat command sent", { ...base, userId, messageId, ms: Date.now() - started });
      this.deps.count?.(cmd.command, "sent");
      this.tell(userId, { ...base, status: "sent", ...(messageId ? { messageId } : {}) });
    } catch (err) {
      const { code, message, retryAfterMs } = explain(err, cmd.command);
      this.deps.store.failed(commandId);
      log.warn("chat command failed at discord", { ...base, userId, code, err, ms: Date.now() - started });
      this.deps.count?.(cmd.command, "failed", code);
      this.tell(userId, { ...base, status: "failed", code, message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
    }
  }

  private publishChat(e: ChatEvent): void {
    const addressed = this.deps.audience.address(e);
    if (addressed) this.deps.publish(addressed);
  }

  private tell(userId: string, payload: CommandResultPayload): void {
    this.deps.fanout.signal({ userId }, "command.result", payload);
  }
}

function explain(err: unknown, command: ChatCommandName): { code: CommandErrorCode; message: string; retryAfterMs?: number } {
  if (err instanceof DiscordRateLimitError) {
    return {
      code: "DISCORD_RATE_LIMITED",
      message: "Discord is rate limiting the bot; try again shortly.",
      retryAfterMs: Math.max(0, Math.ceil(err.retryAfterMs)),
    };
  }
  if (err instanceof DiscordApiError) {
    if (err.code === RESTJSONErrorCodes.UnknownEmoji)
      return { code: "UNKNOWN_EMOJI", message: "Discord does not know this emoji (custom emoji must be from this server)." };
    if (err.code === RESTJSONErrorCodes.UnknownMessage) return { code: "MESSAGE_NOT_FOUND", message: "That message does not exist any more." };
    if (err.status === 403)
      return {
        code: "DISCORD_FORBIDDEN",
        message: `The bot may not ${command === "addReaction" ? "react" : "write"} in this channel (a permission is missing in Discord).`,
      };
    if (err.status >= 500) return { code: "DISCORD_UNAVAILABLE", message: "Discord is having trouble; try again shortly." };
    return { code: "DISCORD_REJECTED", message: `Discord refused it: ${err.discordMessage}`.slice(0, 300) };
  }
  return { code: "DISCORD_UNAVAILABLE", message: "Discord could not be reached; try again shortly." };
}
