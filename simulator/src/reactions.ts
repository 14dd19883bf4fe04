/**
 * The reactions on one message, as Discord keeps them: per emoji, who reacted (a user reacts at
 * most once per emoji), in the order the emoji were first used. What REST shows of them
 * (`APIReaction`) depends on who asks: `me` is the asking user's own reaction.
 */
import type { APIReaction } from "discord-api-types/v10";

/** A reaction emoji as the world parses it: `{id: null, name: "👍"}` or `{id, name}` for a custom one. */
export interface ReactionEmoji {
  id: string | null;
  name: string;
}

export class MessageReactions {
  /** Emoji key (the custom emoji's id, else the unicode name) -> the emoji and who reacted with it. */
  private readonly byEmoji = new Map<string, { emoji: ReactionEmoji; users: Set<string> }>();

  /** Adds `userId`'s reaction; false when they had already reacted with this emoji. */
  add(emoji: ReactionEmoji, userId: string): boolean {
    const key = emoji.id ?? emoji.name;
    let entry = this.byEmoji.get(key);
    if (!entry) this.byEmoji.set(key, (entry = { emoji, users: new Set() }));
    if (entry.users.has(userId)) return false;
    entry.users.add(userId);
    return true;
  }

  /** Removes `userId`'s reaction; false when there was none. An emoji nobody uses any more goes away. */
  remove(emoji: ReactionEmoji, userId: string): boolean {
    const key = emoji.id ?? emoji.name;
    const entry = this.byEmoji.get(key);
    if (!entry?.users.delete(userId)) return false;
    if (entry.users.size === 0) this.byEmoji.delete(key);
    return true;
  }

  /** The message object's `reactions` as `viewerId` sees them (no super reactions in the simulator). */
  toApi(viewerId: string): APIReaction[] {
    return [...this.byEmoji.values()].map(({ emoji, users }) => ({
      count: users.size,
      count_details: { burst: 0, normal: users.size },
      me: users.has(viewerId),
      me_burst: false,
      burst_colors: [],
      emoji: { id: emoji.id, name: emoji.name },
    }));
  }

  get size(): number {
    return this.byEmoji.size;
  }
}
