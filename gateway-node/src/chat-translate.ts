/**
 * Message, reaction and typing dispatches -> table chat payloads (common/src/protocol/chat.ts),
 * trimmed to what a chat shows: no embeds, components, attachment bodies or mention lists. Pure
 * functions; the Translator decides which channels (the guild's voice channels: text in voice)
 * are forwarded.
 */
import type { ChatMessagePayload, EventPayload } from "@spell-coven/common";

/** The parts of MESSAGE_CREATE / MESSAGE_UPDATE we read. */
export interface MessageData {
  id: string;
  channel_id: string;
  guild_id?: string;
  author?: { id: string; username: string; global_name?: string | null; avatar?: string | null; bot?: boolean };
  member?: { nick?: string | null };
  content?: string;
  timestamp?: string;
  edited_timestamp?: string | null;
  attachments?: unknown[];
  embeds?: unknown[];
  message_reference?: { message_id?: string };
  mention_everyone?: boolean;
  nonce?: string | number;
  webhook_id?: string;
}
export interface DeleteData {
  id?: string;
  ids?: string[];
  channel_id: string;
  guild_id?: string;
}
export interface ReactionData {
  user_id: string;
  channel_id: string;
  message_id: string;
  guild_id?: string;
  emoji: { id: string | null; name: string | null; animated?: boolean };
}
export interface TypingData {
  user_id: string;
  channel_id: string;
  guild_id?: string;
  timestamp: number;
}

const cut = (s: string, max: number) => (s.length > max ? s.slice(0, max) : s);

/**
 * One message as the page shows it. `contentIntent` says whether the bot holds MESSAGE_CONTENT:
 * without it Discord sends other people's content empty, and the payload says the content is
 * unavailable rather than pretending the message was blank. An update without `author` (a partial
 * update, e.g. an embed resolved) yields null: there is nothing new to show.
 */
export function chatMessage(d: MessageData, guildId: string, contentIntent: boolean): ChatMessagePayload | null {
  const a = d.author;
  if (!a || !d.timestamp) return null;
  const content = d.content ?? "";
  const attachments = Math.min(100, d.attachments?.length ?? 0);
  // Without the intent content still arrives for the bot's own messages and those mentioning it;
  // a non-empty content is therefore always real. An empty one is real only with the intent.
  const contentAvailable = contentIntent || content.length > 0;
  const displayName = a.global_name ?? d.member?.nick ?? null;
  return {
    guildId,
    channelId: d.channel_id,
    messageId: d.id,
    author: {
      id: a.id,
      username: cut(a.username, 100),
      displayName: displayName === null ? null : cut(displayName, 100),
      avatar: a.avatar ? cut(a.avatar, 64) : null,
      bot: a.bot === true || d.webhook_id !== undefined,
    },
    content: cut(content, 4000),
    contentAvailable,
    timestamp: cut(d.timestamp, 40),
    editedTimestamp: d.edited_timestamp ? cut(d.edited_timestamp, 40) : null,
    attachments,
    replyTo: d.message_reference?.message_id ?? null,
    mentionsEveryone: d.mention_everyone === true,
    nonce: d.nonce === undefined ? null : cut(String(d.nonce), 25),
  };
}

/** MESSAGE_DELETE and MESSAGE_DELETE_BULK: one payload (Discord's bulk delete holds at most 100). */
export function chatDeleted(d: DeleteData, guildId: string): EventPayload<"message.deleted"> | null {
  const ids = (d.ids ?? (d.id ? [d.id] : [])).slice(0, 100);
  return ids.length ? { guildId, channelId: d.channel_id, messageIds: ids } : null;
}

export function chatReaction(d: ReactionData, guildId: string): EventPayload<"message.reaction.added"> {
  const emoji = {
    id: d.emoji.id ?? null,
    name: d.emoji.name === null || d.emoji.name === undefined ? null : cut(d.emoji.name, 64),
    ...(d.emoji.animated ? { animated: true } : {}),
  };
  return { guildId, channelId: d.channel_id, messageId: d.message_id, userId: d.user_id, emoji };
}

export function chatTyping(d: TypingData, guildId: string): EventPayload<"typing.started"> {
  return { guildId, channelId: d.channel_id, userId: d.user_id, at: d.timestamp * 1000 };
}
