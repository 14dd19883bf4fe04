/**
 * Delete, reaction and typing dispatches -> table chat payloads (common/src/protocol/chat.ts),
 * trimmed to what a chat shows. Messages themselves go through `chatMessage` from common
 * (chat-message.ts), shared with the Worker's history route. Pure functions; the Translator
 * decides which channels (the guild's voice channels: text in voice) are forwarded.
 */
import { chatEmoji, type EventPayload } from "@spell-coven/common";

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

/** MESSAGE_DELETE and MESSAGE_DELETE_BULK: one payload (Discord's bulk delete holds at most 100). */
export function chatDeleted(d: DeleteData, guildId: string): EventPayload<"message.deleted"> | null {
  const ids = (d.ids ?? (d.id ? [d.id] : [])).slice(0, 100);
  return ids.length ? { guildId, channelId: d.channel_id, messageIds: ids } : null;
}

export function chatReaction(d: ReactionData, guildId: string): EventPayload<"message.reaction.added"> {
  return { guildId, channelId: d.channel_id, messageId: d.message_id, userId: d.user_id, emoji: chatEmoji(d.emoji) };
}

export function chatTyping(d: TypingData, guildId: string): EventPayload<"typing.started"> {
  return { guildId, channelId: d.channel_id, userId: d.user_id, at: d.timestamp * 1000 };
}
