/**
 * Table chat: the text chat of a table's voice channel (Discord's text in voice), readable and
 * writable from the site and from Discord alike (issue 16).
 *
 * - What the page shows of a message (`ChatMessagePayload`), trimmed to bounded fields: no
 *   embeds, components or attachment bodies. Without the privileged MESSAGE_CONTENT intent
 *   Discord sends `content: ""` for other people's messages: `contentAvailable: false` says so, so
 *   the UI can show "message content is not shared with this site" instead of an empty bubble.
 * - The commands the browser sends (HTTP routes under `/api/tables/:channelId/...` or the same as
 *   WebSocket client messages) and their answers.
 * - Trace ids: W3C trace-context ids (32 lowercase hex), started by gateway-node per dispatch or by
 *   the browser per command, carried by internal events and envelopes; never sent to Discord.
 */
import { z } from "zod";
import { Snowflake } from "../snowflake.ts";

/** A W3C trace id: 32 lowercase hex digits, not all zero. */
export const TraceId = z
  .string()
  .regex(/^[0-9a-f]{32}$/, "must be 32 lowercase hex digits (W3C trace-context trace-id)")
  .refine((s) => !/^0+$/.test(s), "must not be all zeros");
export type TraceId = z.infer<typeof TraceId>;

/** Parses a `traceparent` header (`00-<trace-id>-<span-id>-<flags>`); null when absent or malformed. */
export function traceIdFromParent(header: string | null | undefined): string | null {
  const m = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(header?.trim() ?? "");
  return m && !/^0+$/.test(m[1]!) ? m[1]! : null;
}

/** A `traceparent` header for `traceId` with a fresh span id. */
export function traceParent(traceId: string): string {
  return `00-${traceId}-${randomHex(8)}-01`;
}

/** A new random trace id. */
export function newTraceId(): string {
  return randomHex(16);
}

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return /^0+$/.test(s) ? randomHex(bytes) : s;
}

/** Discord's limit for a message's content (in code points, as Discord counts). */
export const MAX_MESSAGE_CONTENT = 2000;

/**
 * A command id from the browser, reused as Discord's `nonce` (at most 25 characters) so a retried
 * send never makes a second message, and echoed in `command.result`.
 */
export const CommandId = z.string().regex(/^[A-Za-z0-9_-]{1,25}$/, "must be 1-25 letters, digits, _ or -");

/**
 * What a site message looks like in Discord: the bot writes `<@player>: text`. Discord shows the
 * mention as the player's name (without pinging anyone: allowed_mentions is empty), so the
 * people at the table in Discord see who wrote it; the site reads the player back from it, for
 * live messages and for the history alike, and shows the text without the prefix.
 */
const SITE_PREFIX = /^<@(\d{17,20})>: /;
/** The longest prefix: `<@` + a 20-digit id + `>: `. */
const SITE_PREFIX_MAX = 25;

/** Discord content for `text` written on the site by `userId`. */
export function siteMessageContent(userId: string, text: string): string {
  return `<@${userId}>: ${text}`;
}

/** The site player and their text, for content the bot wrote for the site; null for anything else. */
export function parseSiteMessage(content: string): { sentBy: string; text: string } | null {
  const m = SITE_PREFIX.exec(content);
  return m ? { sentBy: m[1]!, text: content.slice(m[0].length) } : null;
}

/** The longest text a player may send from the site: Discord's limit, less the prefix that names them. */
export const MAX_SITE_MESSAGE_CONTENT = MAX_MESSAGE_CONTENT - SITE_PREFIX_MAX;

/**
 * Message text from the site: control characters (other than newline and tab) are removed, then
 * it must be 1-1975 code points once trimmed (Discord's 2000 less the prefix naming the player).
 * Mentions are never resolved (allowed_mentions is empty), so `@everyone` stays text.
 */
export const ChatContent = z
  .string()
  .max(MAX_MESSAGE_CONTENT * 2)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  .transform((s) => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "").trim())
  .refine((s) => s.length > 0, "message must not be empty")
  .refine((s) => [...s].length <= MAX_SITE_MESSAGE_CONTENT, `message must be at most ${MAX_SITE_MESSAGE_CONTENT} characters`);

/**
 * A reaction emoji: one unicode emoji (multi-codepoint sequences such as 👍🏽 or 👨‍👩‍👧 included), or a
 * custom one as `name:id` (also `<:name:id>` / `<a:name:id>`). The REST client URL-encodes it.
 */
const CUSTOM_EMOJI = /^<?a?:?[A-Za-z0-9_~]{2,32}:\d{1,20}>?$/;
/** One emoji: a flag, a keycap, or pictographs joined by ZWJ with optional VS16, skin tone and tag sequence. */
const UNICODE_EMOJI =
  /^(?:\p{Regional_Indicator}{2}|[0-9#*]\uFE0F?\u20E3|\p{Extended_Pictographic}\uFE0F?\p{Emoji_Modifier}?[\u{E0020}-\u{E007F}]*(?:\u200D\p{Extended_Pictographic}\uFE0F?\p{Emoji_Modifier}?)*)$/u;

export const ChatEmoji = z
  .string()
  .min(1)
  .max(64)
  .refine((s) => CUSTOM_EMOJI.test(s) || UNICODE_EMOJI.test(s), "must be one emoji or a custom emoji as name:id");

export const SendMessageRequest = z.object({
  content: ChatContent,
  /** Makes retries idempotent (Discord's nonce); a random one when absent. */
  commandId: CommandId.optional(),
});
export type SendMessageRequest = z.input<typeof SendMessageRequest>;

/** What `POST /api/tables/:channelId/messages` (and the other commands) answer: 202. */
export const CommandAccepted = z.object({
  commandId: CommandId,
  traceId: TraceId,
  /** accepted: sent to Discord (the outcome follows as a `command.result` signal); collapsed: a typing call for this channel went out less than 8 s ago, nothing sent. */
  status: z.enum(["accepted", "collapsed", "duplicate"]),
});
export type CommandAccepted = z.infer<typeof CommandAccepted>;

export const ChatCommandName = z.enum(["sendMessage", "addReaction", "typingStart"]);
export type ChatCommandName = z.infer<typeof ChatCommandName>;

/** Codes of a refused or failed command, for the UI to branch on. */
export const CommandErrorCode = z.enum([
  "RATE_LIMITED", // local bucket; retryAfterMs says when
  "NOT_ROOM_MEMBER", // only seat holders write to a table's chat
  "TABLE_NOT_FOUND",
  "DISCORD_RATE_LIMITED", // Discord answered 429 beyond our retries
  "DISCORD_FORBIDDEN", // the bot lacks a permission in this channel
  "MESSAGE_NOT_FOUND",
  "UNKNOWN_EMOJI",
  "DISCORD_REJECTED", // another 4xx
  "DISCORD_UNAVAILABLE", // network, timeouts, 5xx after retries
  "IDEMPOTENCY_KEY_REUSED", // another player already used this command id
]);
export type CommandErrorCode = z.infer<typeof CommandErrorCode>;

/** The outcome of one command, to its sender only (a signal). */
export const CommandResultPayload = z.object({
  commandId: CommandId,
  traceId: TraceId,
  command: ChatCommandName,
  channelId: Snowflake,
  status: z.enum(["accepted", "sent", "refused", "failed"]),
  /** The Discord message this send made (or, for reactions, reacted to). */
  messageId: Snowflake.optional(),
  code: CommandErrorCode.optional(),
  message: z.string().max(300).optional(),
  retryAfterMs: z.number().int().nonnegative().optional(),
});
export type CommandResultPayload = z.infer<typeof CommandResultPayload>;

const Name = z.string().max(100);

/** One chat message as the page shows it (message.created / message.updated). */
export const ChatMessagePayload = z.object({
  guildId: Snowflake,
  channelId: Snowflake,
  messageId: Snowflake,
  author: z.object({
    id: Snowflake,
    username: Name,
    /** Global display name, else the guild nickname, else null. */
    displayName: Name.nullable(),
    avatar: z.string().max(64).nullable(),
    bot: z.boolean(),
  }),
  /** Empty and `contentAvailable: false` when Discord withheld it (no MESSAGE_CONTENT intent). */
  content: z.string().max(4000),
  contentAvailable: z.boolean(),
  /** ISO 8601. */
  timestamp: z.string().max(40),
  editedTimestamp: z.string().max(40).nullable(),
  /** How many files are attached (their bodies are not forwarded). */
  attachments: z.number().int().nonnegative().max(100),
  replyTo: Snowflake.nullable(),
  mentionsEveryone: z.boolean(),
  /** Discord's nonce when the sender gave one (the site's sends carry their command id). */
  nonce: z.string().max(25).nullable(),
  /**
   * For messages the site sent through the bot: the site player who wrote it. `content` is then
   * their text, without the `<@player>: ` prefix the bot wrote in Discord.
   */
  sentBy: z.string().min(1).max(200).optional(),
});
export type ChatMessagePayload = z.infer<typeof ChatMessagePayload>;

/** One message or a bulk delete (at most 100, as Discord allows). */
export const ChatMessagesDeletedPayload = z.object({ guildId: Snowflake, channelId: Snowflake, messageIds: z.array(Snowflake).min(1).max(100) });

export const ChatEmojiRef = z.object({ id: Snowflake.nullable(), name: z.string().max(64).nullable(), animated: z.boolean().optional() });
export type ChatEmojiRef = z.infer<typeof ChatEmojiRef>;

/** The emoji a `ChatEmoji` string names, as Discord describes it in reaction events. */
export function chatEmojiRef(emoji: string): ChatEmojiRef {
  const custom = /^<?(a?):?([A-Za-z0-9_~]{2,32}):(\d{1,20})>?$/.exec(emoji);
  if (!custom) return { id: null, name: emoji };
  return { id: custom[3]!, name: custom[2]!, ...(custom[1] ? { animated: true } : {}) };
}

/**
 * A reaction added or removed. `userId` is the Discord user whose reaction it is: for a reaction
 * the site added through the bot that is the bot, and `sentBy` names the site player who asked
 * for it. Discord keeps one bot reaction per emoji, so a bot reaction removed in Discord (no
 * `sentBy`) takes away every site player's reaction with that emoji.
 */
export const ChatReactionPayload = z.object({
  guildId: Snowflake,
  channelId: Snowflake,
  messageId: Snowflake,
  userId: Snowflake,
  emoji: ChatEmojiRef,
  sentBy: z.string().min(1).max(200).optional(),
});

/** Someone started typing in the table's chat (Discord shows it for 10 s). `userId` is the site player for site typing. */
export const ChatTypingPayload = z.object({ guildId: Snowflake, channelId: Snowflake, userId: z.string().min(1).max(200), at: z.number().int() });

/** One reaction on a message in the history: Discord's count for it (a site player's reaction counts once, as the bot's). */
export const ChatReactionCount = z.object({ emoji: ChatEmojiRef, count: z.number().int().positive() });

/** A message as the history route gives it: what the page shows, and its reactions so far. */
export const ChatHistoryMessage = ChatMessagePayload.extend({ reactions: z.array(ChatReactionCount).max(20) });
export type ChatHistoryMessage = z.infer<typeof ChatHistoryMessage>;

/** What `GET /api/tables/:channelId/messages?before=&limit=` answers: a page of the chat, oldest first. */
export const ChatHistory = z.object({
  channelId: Snowflake,
  messages: z.array(ChatHistoryMessage).max(100),
  /** True when older messages exist: ask again with `before` = the first message's id. */
  hasMore: z.boolean(),
});
export type ChatHistory = z.infer<typeof ChatHistory>;

/** The most messages one history page holds (Discord's limit for Get Channel Messages). */
export const MAX_CHAT_HISTORY_PAGE = 100;

const LIMIT_RULE = `limit must be a whole number from 1 to ${MAX_CHAT_HISTORY_PAGE}`;

/**
 * The query of `GET /api/tables/:channelId/messages`: messages older than `before` (a message id;
 * absent: the newest), `limit` 1-100 (default 50). Each rule's message names its parameter.
 */
export const ChatHistoryQuery = z.object({
  before: z
    .string()
    .regex(/^\d{1,20}$/, "before must be a message id (a Discord snowflake) from this chat")
    .optional(),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, LIMIT_RULE)
    .transform(Number)
    .pipe(z.number().min(1, LIMIT_RULE).max(MAX_CHAT_HISTORY_PAGE, LIMIT_RULE))
    .optional()
    .transform((n) => n ?? 50),
});
export type ChatHistoryQuery = z.input<typeof ChatHistoryQuery>;

/**
 * The chat events, by name: the same payloads as internal events (gateway-node -> hub) and as
 * public events (hub -> clients), so both registries list them from here.
 */
export const ChatEventPayloads = {
  "message.created": ChatMessagePayload,
  "message.updated": ChatMessagePayload,
  "message.deleted": ChatMessagesDeletedPayload,
  "message.reaction.added": ChatReactionPayload,
  "message.reaction.removed": ChatReactionPayload,
  "typing.started": ChatTypingPayload,
} as const;
