/**
 * The messages of a table's chat as the page shows them: kept ordered by snowflake (oldest
 * first), one per id whatever the mix of history pages and live events, and turned into lines
 * that stay the same objects while neither the message nor its reactions changed (so memoized
 * rows re-render only what changed).
 */
import type { ChatMessagePayload } from "@spell-coven/common";
import type { ReactionView } from "./chat-reactions.ts";
import type { ChatCommandState } from "./chat-command-tracker.ts";

/** One line of the chat: a message from Discord or the site, or the player's own send not in Discord yet. */
export interface ChatLine {
  /** Stable React key: the message id, or `local:<commandId>` for an echo. */
  key: string;
  /** null for an echo not yet in Discord. */
  messageId: string | null;
  /** The Discord author (the bot for site messages); null for an echo. */
  author: ChatMessagePayload["author"] | null;
  /** The site player who wrote it; null for messages written in Discord. */
  sentBy: string | null;
  content: string;
  /** False when Discord withheld the text (the bot lacks the MESSAGE_CONTENT intent): say so, never an empty bubble. */
  contentAvailable: boolean;
  /** Unix ms. */
  at: number;
  edited: boolean;
  attachments: number;
  /** Written by the signed-in player (on the site, or in Discord with the same account). */
  mine: boolean;
  reactions: readonly ReactionView[];
  /** The player's send behind an echo (pending, accepted, sent or failed); null for messages in Discord. */
  command: ChatCommandState | null;
}

/** Snowflakes as numbers: a shorter id is older; same length compares as text. */
export function compareSnowflakes(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

export class ChatLog {
  readonly #messages = new Map<string, ChatMessagePayload>();
  /** Message ids, oldest first. */
  #order: string[] = [];
  readonly #lines = new Map<string, { message: ChatMessagePayload; line: ChatLine }>();

  get size(): number {
    return this.#order.length;
  }

  has(messageId: string): boolean {
    return this.#messages.has(messageId);
  }

  /** The oldest message shown (the history's `before` for the next page). */
  oldest(): string | undefined {
    return this.#order[0];
  }

  ids(): string[] {
    return [...this.#order];
  }

  /** Adds a message in id order, or replaces it (an edit, a replay). */
  put(p: ChatMessagePayload): void {
    if (!this.#messages.has(p.messageId)) {
      let lo = 0;
      let hi = this.#order.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareSnowflakes(this.#order[mid]!, p.messageId) < 0) lo = mid + 1;
        else hi = mid;
      }
      this.#order.splice(lo, 0, p.messageId);
    }
    this.#messages.set(p.messageId, p);
  }

  /** Removes messages; returns the ids that were there. */
  delete(ids: readonly string[]): string[] {
    const gone = ids.filter((id) => this.#messages.delete(id));
    if (gone.length > 0) {
      const set = new Set(gone);
      this.#order = this.#order.filter((id) => !set.has(id));
      for (const id of gone) this.#lines.delete(id);
    }
    return gone;
  }

  /** Keeps the newest `max`; returns the ids dropped. */
  trimTo(max: number): string[] {
    const extra = this.#order.length - max;
    return extra > 0 ? this.delete(this.#order.slice(0, extra)) : [];
  }

  /** The messages as lines, oldest first, for the signed-in player `me`. */
  lines(me: string | null, reactionsOf: (messageId: string) => readonly ReactionView[]): ChatLine[] {
    return this.#order.map((id) => {
      const m = this.#messages.get(id)!;
      const reactions = reactionsOf(id);
      const cached = this.#lines.get(id);
      if (cached && cached.message === m && cached.line.reactions === reactions) return cached.line;
      const line: ChatLine = Object.freeze({
        key: id,
        messageId: id,
        author: m.author,
        sentBy: m.sentBy ?? null,
        content: m.content,
        contentAvailable: m.contentAvailable,
        at: Date.parse(m.timestamp),
        edited: m.editedTimestamp !== null,
        attachments: m.attachments,
        mine: me !== null && (m.sentBy === me || (!m.sentBy && m.author.id === me)),
        reactions,
        command: null,
      });
      this.#lines.set(id, { message: m, line });
      return line;
    });
  }
}

/** An echo: the player's send shown at once, until Discord's message replaces it. */
export function echoLine(cmd: ChatCommandState, me: string | null): ChatLine {
  return {
    key: `local:${cmd.commandId}`,
    messageId: null,
    author: null,
    sentBy: me,
    content: cmd.text ?? "",
    contentAvailable: true,
    at: cmd.createdAt,
    edited: false,
    attachments: 0,
    mine: true,
    reactions: [],
    command: cmd,
  };
}
