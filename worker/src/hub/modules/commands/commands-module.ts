/**
 * The table chat module: commands from the browser over the WebSocket (chat.send, chat.react,
 * chat.typing; the HTTP routes reach the same ChatCommands through the GuildHub's RPC), and the
 * message events gateway-node forwards, applied as ordinary sequenced events.
 *
 * Events are kept only for channels that are tables (rooms), addressed to who may read the chat
 * (chat-audience.ts: a private table's chat reaches only its players). A message the site sent
 * through the bot names the player who wrote it (`sentBy`) and carries the trace id of their
 * command (the nonce ties them), so one trace id runs from the browser's command to the
 * message.created it caused. The bot's own reactions and typing in Discord are dropped: they are
 * the site players', which the commands publish themselves, naming the player.
 */
import { newTraceId, parseSiteMessage, type ChatMessagePayload, type InternalEvent, type Logger } from "@spell-coven/common";
import type { Fanout } from "../../fanout/fanout.ts";
import type { ClientMessageContext, HubModule, PublicEvent } from "../../hub-module.ts";
import type { ChatAudience, ChatEvent } from "./chat-audience.ts";
import { newCommandId, type ChatCommand, type ChatCommands } from "./chat-commands.ts";
import type { CommandStore } from "./command-store.ts";

export interface ChatModuleDeps {
  commands: ChatCommands;
  store: CommandStore;
  audience: ChatAudience;
  fanout: Fanout;
  /** The bot's user id when known: Discord's typing indicator for the bot is the site's own. */
  botUserId: string | null;
  log: Logger;
}

type ChatEventName = "message.created" | "message.updated" | "message.deleted" | "message.reaction.added" | "message.reaction.removed" | "typing.started";

export function chatModule({ commands, store, audience, fanout, botUserId, log }: ChatModuleDeps): HubModule {
  /** The bot's id, and any bot seen sending a site command's message (a bot id configured wrong). */
  const botIds = new Set<string>(botUserId ? [botUserId] : []);

  /**
   * A site send comes back from Discord: the bot wrote `<@player>: text`, so name the player
   * (`sentBy`), show their text, and keep their command's trace id (tied by the nonce).
   */
  const attribute = (e: InternalEvent<"message.created" | "message.updated">, now: number): ChatEvent => {
    const p = e.payload;
    const command = p.author.bot ? ((p.nonce ? store.get(p.nonce, now) : null) ?? store.byMessage(p.messageId)) : null;
    if (command?.command === "sendMessage" && command.channelId === p.channelId) botIds.add(p.author.id);
    const site = botIds.has(p.author.id) && p.contentAvailable ? parseSiteMessage(p.content) : null;
    if (!site) return { event: e.event, payload: p };
    const payload: ChatMessagePayload = { ...p, content: site.text, sentBy: site.sentBy };
    const traceId = command && command.userId === site.sentBy ? command.traceId : undefined;
    return { event: e.event, payload, ...(traceId ? { traceId } : {}) };
  };

  const apply =
    (keep?: (e: InternalEvent<ChatEventName>) => boolean) =>
    (event: InternalEvent, now: number): PublicEvent[] => {
      const e = event as InternalEvent<ChatEventName>;
      if (keep && !keep(e)) return [];
      const pub = audience.address(
        e.event === "message.created" || e.event === "message.updated" ? attribute(e, now) : ({ event: e.event, payload: e.payload } as ChatEvent),
      );
      if (!pub) return [];
      log.info("table chat event", {
        event: e.event,
        channelId: e.payload.channelId,
        id: e.id,
        traceId: pub.traceId ?? e.traceId,
        siteTrace: pub.traceId !== undefined,
        readers: pub.audience?.length ?? "guild",
      });
      return [pub];
    };
  const notTheBot = (e: InternalEvent<ChatEventName>) => !("userId" in e.payload && botIds.has(e.payload.userId));

  const run = (ctx: ClientMessageContext<"chat.send" | "chat.react" | "chat.typing">, given: ChatCommand) => {
    const userId = ctx.subscriber.userId!;
    const cmd = { ...given, traceId: given.traceId ?? newTraceId(), commandId: given.commandId ?? newCommandId() };
    const outcome = commands.run(userId, cmd, ctx.now);
    if (outcome.ok) return;
    // Refusals answer this socket only; the UI branches on `code` and waits `retryAfterMs`.
    fanout.signal({ socket: ctx.ws }, "command.result", {
      commandId: cmd.commandId,
      traceId: cmd.traceId,
      command: cmd.command,
      channelId: cmd.channelId,
      status: "refused",
      code: outcome.code as never,
      message: outcome.message.slice(0, 300),
      ...(outcome.retryAfterMs !== undefined ? { retryAfterMs: outcome.retryAfterMs } : {}),
    });
  };

  return {
    name: "commands",
    internalEvents: {
      "message.created": apply(),
      "message.updated": apply(),
      "message.deleted": apply(),
      // The bot's reaction is a site player's, published by the command with their name. A removal
      // is kept: someone in Discord took the bot's reaction away, for every site player at once.
      "message.reaction.added": apply(notTheBot),
      "message.reaction.removed": apply(),
      // The bot's own typing is the site player's typing, already published by the command.
      "typing.started": apply(notTheBot),
    },
    clientMessages: {
      "chat.send": (ctx) =>
        run(ctx, {
          command: "sendMessage",
          channelId: ctx.message.channelId,
          content: ctx.message.content,
          commandId: ctx.message.commandId,
          traceId: ctx.message.traceId,
        }),
      "chat.react": (ctx) =>
        run(ctx, {
          command: "addReaction",
          channelId: ctx.message.channelId,
          messageId: ctx.message.messageId,
          emoji: ctx.message.emoji,
          commandId: ctx.message.commandId,
          traceId: ctx.message.traceId,
        }),
      "chat.typing": (ctx) =>
        run(ctx, { command: "typingStart", channelId: ctx.message.channelId, commandId: ctx.message.commandId, traceId: ctx.message.traceId }),
    },
  };
}
