/**
 * Reactions on a table's chat messages, aggregated per (message, emoji) and deduplicated per
 * reactor, from the history's counts and the live `message.reaction.*` events.
 *
 * Who a reaction belongs to: a site player's reaction is the bot's in Discord (`userId` = the bot,
 * `sentBy` = the player), anyone else's is their own `userId`. Discord keeps one bot reaction per
 * emoji, so the bot's reaction removed in Discord (no `sentBy`) takes away every site player's
 * reaction with that emoji. The history gives counts only (not who): those are kept as a base
 * that live events add to and take from.
 */
import type { ChatEmojiRef } from "@spell-coven/common";
import type { z } from "zod";

type EmojiRef = z.infer<typeof ChatEmojiRef>;

/** One reaction chip: the emoji, how many reacted, and whether the signed-in player is one of them. */
export interface ReactionView {
  /** As the chat commands take it: the unicode emoji, or `name:id` for a custom one. */
  emoji: string;
  count: number;
  mine: boolean;
  /** The player's own reaction, asked for and not confirmed yet. */
  pending: boolean;
}

interface Reactor {
  /** Came through the bot (a site player's): the bot's reaction removed in Discord removes it. */
  viaBot: boolean;
  pending: boolean;
}

interface EmojiTally {
  /** From the history: reactions whose authors are unknown. */
  base: number;
  reactors: Map<string, Reactor>;
}

/** The key a reaction event's emoji is known by: what `react()` takes for it. */
export function emojiKey(emoji: EmojiRef): string | null {
  if (emoji.id) return `${emoji.name ?? "emoji"}:${emoji.id}`;
  return emoji.name ?? null;
}

export class ReactionTally {
  readonly #byMessage = new Map<string, Map<string, EmojiTally>>();
  readonly #views = new Map<string, readonly ReactionView[]>();

  /** The reactions of one message as chips, in the order they were first seen (the same array until they change). */
  view(messageId: string, me: string | null): readonly ReactionView[] {
    const cached = this.#views.get(messageId);
    if (cached) return cached;
    const out: ReactionView[] = [];
    for (const [emoji, t] of this.#byMessage.get(messageId) ?? []) {
      const count = t.base + t.reactors.size;
      if (count === 0) continue;
      const mine = me !== null ? t.reactors.get(me) : undefined;
      out.push({ emoji, count, mine: mine !== undefined, pending: mine?.pending ?? false });
    }
    const frozen = Object.freeze(out);
    this.#views.set(messageId, frozen);
    return frozen;
  }

  /** The history's counts for a message replace what was known of it (the player's pending reactions stay). */
  setCounts(messageId: string, counts: readonly { emoji: EmojiRef; count: number }[]): void {
    const before = this.#byMessage.get(messageId);
    const next = new Map<string, EmojiTally>();
    for (const c of counts) {
      const key = emojiKey(c.emoji);
      if (key) next.set(key, { base: c.count, reactors: new Map() });
    }
    for (const [emoji, t] of before ?? []) {
      for (const [who, r] of t.reactors) {
        if (!r.pending) continue;
        const tally = next.get(emoji) ?? { base: 0, reactors: new Map() };
        tally.reactors.set(who, r);
        next.set(emoji, tally);
      }
    }
    this.#byMessage.set(messageId, next);
    this.#views.delete(messageId);
  }

  /** A reaction added (live event, or the player's own confirmed or pending one). False when it was already counted. */
  add(messageId: string, emoji: string, who: string, opts: { viaBot: boolean; pending?: boolean }): boolean {
    const tally = this.#tally(messageId, emoji);
    const had = tally.reactors.get(who);
    const pending = opts.pending ?? false;
    // Counted once: a second event for it, or the player asking again, changes nothing.
    if (had && (!had.pending || pending)) return false;
    tally.reactors.set(who, { viaBot: opts.viaBot || (had?.viaBot ?? false), pending });
    this.#views.delete(messageId);
    return true;
  }

  /**
   * A reaction removed. `who` null: the bot's reaction was removed in Discord, so every site
   * player's reaction with that emoji goes (or one of the history's, when none is known).
   */
  remove(messageId: string, emoji: string, who: string | null): boolean {
    const tally = this.#byMessage.get(messageId)?.get(emoji);
    if (!tally) return false;
    let removed = false;
    if (who === null) {
      for (const [id, r] of tally.reactors) if (r.viaBot && tally.reactors.delete(id)) removed = true;
    } else removed = tally.reactors.delete(who);
    if (!removed && tally.base > 0) {
      // Someone the history counted without naming.
      tally.base--;
      removed = true;
    }
    if (removed) this.#views.delete(messageId);
    return removed;
  }

  /** Whether `who` has this reaction through the bot (a site player's, pending or confirmed). */
  hasViaBot(messageId: string, emoji: string, who: string): boolean {
    return this.#byMessage.get(messageId)?.get(emoji)?.reactors.get(who)?.viaBot ?? false;
  }

  /** Takes back the player's pending reaction (refused or failed); a confirmed one stays. */
  retract(messageId: string, emoji: string, who: string): void {
    const tally = this.#byMessage.get(messageId)?.get(emoji);
    if (tally?.reactors.get(who)?.pending && tally.reactors.delete(who)) this.#views.delete(messageId);
  }

  /** Drops a message's reactions (the message was deleted). */
  forget(messageId: string): void {
    this.#byMessage.delete(messageId);
    this.#views.delete(messageId);
  }

  /** Drops every cached view (the signed-in player changed, so "mine" may differ). */
  invalidate(): void {
    this.#views.clear();
  }

  #tally(messageId: string, emoji: string): EmojiTally {
    let m = this.#byMessage.get(messageId);
    if (!m) this.#byMessage.set(messageId, (m = new Map()));
    let t = m.get(emoji);
    if (!t) m.set(emoji, (t = { base: 0, reactors: new Map() }));
    return t;
  }
}
