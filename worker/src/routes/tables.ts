/**
 * Table chat commands (JWT), the text chat of a table's voice channel:
 *
 *   POST /api/tables/:channelId/messages                          { content, commandId? }
 *   PUT  /api/tables/:channelId/messages/:messageId/reactions/:emoji
 *   POST /api/tables/:channelId/typing
 *
 *   GET  /api/tables/:channelId/messages?before=&limit=              the chat's history
 *
 * The history answers 200 `ChatHistory` (a page, oldest first; `hasMore` says older messages
 * exist: ask again with `before` = the first message's id). Refusals: 404 ROOM_NOT_FOUND, 403
 * NOT_ROOM_MEMBER (a private table, no seat), 400 VALIDATION_FAILED naming the parameter; Discord's
 * failures: 503 DISCORD_UNAVAILABLE and 429 DISCORD_RATE_LIMITED (both with Retry-After), 403
 * DISCORD_FORBIDDEN (the bot may not read the channel).
 *
 * The commands each answer 202 `CommandAccepted` { commandId, traceId, status } at once; what Discord made of
 * it follows as a `command.result` signal on the player's sockets and streams. Refusals: 429
 * RATE_LIMITED with Retry-After (a local bucket: nothing reached Discord), 403 NOT_ROOM_MEMBER,
 * 404 ROOM_NOT_FOUND, 400 VALIDATION_FAILED. A `traceparent` header sets the command's trace id
 * (the browser's own), else the Worker starts one; it is logged at every hop and never sent to Discord.
 */
import { Hono, type Context } from "hono";
import {
  ChatEmoji,
  ChatHistoryQuery,
  CommandId,
  SendMessageRequest,
  newTraceId,
  traceIdFromParent,
  type ChatHistory,
  type CommandAccepted,
} from "@spell-coven/common";
import { ApiError } from "../errors.ts";
import type { RoomOutcome } from "../hub/GuildHub.ts";
import type { ChatCommand } from "../hub/modules/commands/chat-commands.ts";
import { jwtAuth } from "../middleware/jwt-auth.ts";
import type { AppEnv } from "../middleware/context.ts";
import { readJson } from "./body.ts";
import { snowflakeParam, unwrapOutcome } from "./hub-answers.ts";
import { zodDetails } from "./validation.ts";

const MAX_BODY = 16 * 1024;

export const tables = new Hono<AppEnv>()
  .use("/api/tables/*", jwtAuth)

  .get("/api/tables/:channelId/messages", async (c) => {
    const channelId = snowflakeParam(c, "channelId");
    const parsed = ChatHistoryQuery.safeParse({ before: c.req.query("before"), limit: c.req.query("limit") });
    if (!parsed.success) {
      const first = parsed.error.issues[0]!;
      throw new ApiError("VALIDATION_FAILED", `${first.message}.`, zodDetails(parsed.error));
    }
    const player = c.get("player");
    const guildId = c.get("config").PRIMARY_GUILD_ID[0]!;
    const outcome = (await c.env.GUILD_HUB.getByName(guildId).chatHistory(guildId, player.userId, channelId, parsed.data)) as RoomOutcome<ChatHistory>;
    return c.json(unwrapOutcome(outcome) satisfies ChatHistory, 200);
  })

  .post("/api/tables/:channelId/messages", async (c) => {
    const parsed = SendMessageRequest.safeParse(await readJson(c.req.raw, MAX_BODY));
    if (!parsed.success) throw new ApiError("VALIDATION_FAILED", "The message is invalid.", zodDetails(parsed.error));
    return command(c, { command: "sendMessage", channelId: snowflakeParam(c, "channelId"), content: parsed.data.content, commandId: parsed.data.commandId });
  })

  .put("/api/tables/:channelId/messages/:messageId/reactions/:emoji", async (c) => {
    // Hono hands the path segment over decoded: 👍🏽, or name:id for a custom emoji.
    const emoji = ChatEmoji.safeParse(c.req.param("emoji"));
    if (!emoji.success)
      throw new ApiError("VALIDATION_FAILED", "The emoji must be one emoji, URL-encoded, or a custom emoji as name:id.", zodDetails(emoji.error));
    return command(c, {
      command: "addReaction",
      channelId: snowflakeParam(c, "channelId"),
      messageId: snowflakeParam(c, "messageId"),
      emoji: emoji.data,
      commandId: commandIdHeader(c),
    });
  })

  .post("/api/tables/:channelId/typing", async (c) =>
    command(c, { command: "typingStart", channelId: snowflakeParam(c, "channelId"), commandId: commandIdHeader(c) }),
  );

async function command(c: Context<AppEnv>, cmd: ChatCommand) {
  const traceId = traceIdFromParent(c.req.header("traceparent")) ?? newTraceId();
  const player = c.get("player");
  const guildId = c.get("config").PRIMARY_GUILD_ID[0]!;
  const log = c.get("log");
  log.info("chat command", { command: cmd.command, channelId: cmd.channelId, userId: player.userId, traceId });
  const outcome = (await c.env.GUILD_HUB.getByName(guildId).chatCommand(guildId, player.userId, { ...cmd, traceId })) as RoomOutcome<CommandAccepted>;
  c.header("X-Trace-Id", traceId);
  // The command's own code for a gone table is the rooms API's ROOM_NOT_FOUND over HTTP.
  const answer = outcome.ok || outcome.code !== "TABLE_NOT_FOUND" ? outcome : { ...outcome, code: "ROOM_NOT_FOUND" };
  return c.json(unwrapOutcome(answer) satisfies CommandAccepted, 202);
}

/** Reactions and typing have no body: their command id, when the client sends one, is a header. */
function commandIdHeader(c: Context<AppEnv>): string | undefined {
  const value = c.req.header("Idempotency-Key");
  if (value === undefined) return undefined;
  if (!CommandId.safeParse(value).success) throw new ApiError("VALIDATION_FAILED", "Idempotency-Key must be 1-25 letters, digits, _ or -.");
  return value;
}
