/**
 * A Discord message -> what the table chat shows of it (`ChatMessagePayload`, chat.ts), written
 * once for both ways a message reaches the site: gateway-node's MESSAGE_CREATE / MESSAGE_UPDATE
 * dispatches and the Worker's history route (Get Channel Messages). Trimmed to bounded fields: no
 * embeds, components, attachment bodies or mention lists. Pure functions.
 */
import type { ChatHistoryMessage, ChatMessagePayload } from "./chat.ts";

/** The parts of a Discord message (dispatch or REST message object) the chat reads. */
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
  reactions?: MessageReactionData[];
}

/** The parts of a Discord reaction object (a message's `reactions`) the chat reads. */
export interface MessageReactionData {
  count: number;
  emoji: EmojiData;
}

/** A partial emoji as Discord sends it. */
export interface EmojiData {
  id: string | null;
  name: string | null;
  animated?: boolean;
}

/** As many reactions as a history message carries (the `ChatHistoryMessage` schema's bound). */
export const MAX_CHAT_REACTIONS = 20;

const cut = (s: string, max: number) => (s.length > max ? s.slice(0, max) : s);

/**
 * One message as the page shows it. `contentIntent` says whether the bot holds MESSAGE_CONTENT:
 * without it Discord sends other people's content empty, and the payload says the content is
 * unavailable rather than pretending the message was blank. A message without `author` or
 * `timestamp` (a partial update, e.g. an embed resolved) yields null: there is nothing to show.
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

/** An emoji trimmed to the chat's bounds (`ChatEmojiRef`). */
export function chatEmoji(e: EmojiData): { id: string | null; name: string | null; animated?: true } {
  return {
    id: e.id ?? null,
    name: e.name === null || e.name === undefined ? null : cut(e.name, 64),
    ...(e.animated ? { animated: true as const } : {}),
  };
}

/**
 * A message's reactions as the history shows them (`ChatReactionCount[]`): Discord's count per
 * emoji, in Discord's order, at most MAX_CHAT_REACTIONS (a message may carry more emoji than a
 * chat bubble shows); emoji Discord counts as zero are left out.
 */
export function chatReactionCounts(reactions: readonly MessageReactionData[] | undefined): ChatHistoryMessage["reactions"] {
  const out: ChatHistoryMessage["reactions"] = [];
  for (const r of reactions ?? []) {
    if (out.length === MAX_CHAT_REACTIONS) break;
    if (Number.isInteger(r.count) && r.count > 0) out.push({ emoji: chatEmoji(r.emoji), count: r.count });
  }
  return out;
}
