/** What the table chat says, in one place (no DOM, so it is tested in Node). */
import { MAX_SITE_MESSAGE_CONTENT, type ChatCommandState, type ChatLine } from "@spell-coven/client";
import type { Directory } from "../directory.ts";

/** Shown instead of an empty bubble when Discord withheld the text (the bot lacks the MESSAGE_CONTENT intent). */
export const WITHHELD_TEXT = "Message text is not shared with this site.";
export const NO_SEAT_TEXT = "Take a seat to write in this table's chat.";
/** The reactions offered in one click. */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🔥", "🎉", "😮"] as const;
/** The counter shows from this many characters left. */
export const COUNTER_FROM = 200;

/** Why a command was refused or did not go through, by code, in words a player can act on. */
const WHY: Record<string, string> = {
  RATE_LIMITED: "you are sending faster than this table's chat allows.",
  NOT_ROOM_MEMBER: "only players seated at this table can write here. Take a seat first.",
  TABLE_NOT_FOUND: "this table has ended.",
  ROOM_NOT_FOUND: "this table has ended.",
  DISCORD_RATE_LIMITED: "Discord is limiting what the site sends right now.",
  DISCORD_FORBIDDEN: "the Spell Coven bot is not allowed to do that in this channel in Discord.",
  MESSAGE_NOT_FOUND: "that message is gone from Discord.",
  UNKNOWN_EMOJI: "Discord does not know that emoji.",
  DISCORD_REJECTED: "Discord refused it.",
  DISCORD_UNAVAILABLE: "Discord can't be reached right now.",
  IDEMPOTENCY_KEY_REUSED: "it clashed with another command; send it again.",
  NETWORK_ERROR: "Spell Coven can't be reached. Check your connection.",
  NO_ANSWER: "no answer came from Spell Coven, so it may not have gone through. Retrying is safe: it is never sent twice.",
};

/** "Your message was not sent: you are sending faster than this table's chat allows." */
export function commandProblem(cmd: Pick<ChatCommandState, "command" | "code" | "message">): string {
  const what = cmd.command === "sendMessage" ? "Your message was not sent" : "Your reaction was not added";
  const why =
    (cmd.code && WHY[cmd.code]) ?? (cmd.code === "VALIDATION_FAILED" && cmd.message ? `${cmd.message}.` : null) ?? cmd.message ?? "it did not go through.";
  return `${what}: ${why}`;
}

/** The name shown for a line's author: the site player for site messages, else the Discord name. */
export function authorName(line: Pick<ChatLine, "sentBy" | "author">, names: Directory): string {
  if (line.sentBy) return names.userName(line.sentBy);
  return line.author?.displayName ?? line.author?.username ?? "Someone";
}

/** "Alice is typing…", "Alice and Bob are typing…", "Alice, Bob and 2 others are typing…"; "" for nobody. */
export function typingLine(names: readonly string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} others are typing…`;
}

/** "1 file", "2 files". */
export function filesLine(count: number): string {
  return `${count} file${count === 1 ? "" : "s"}`;
}

/** Characters left for a message (Discord counts code points), and whether the counter shows. */
export function charactersLeft(text: string): { left: number; show: boolean } {
  const left = MAX_SITE_MESSAGE_CONTENT - [...text.trim()].length;
  return { left, show: left <= COUNTER_FROM };
}

/** "14:05", in the player's time zone. */
export function chatTime(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** What a reaction chip says to a screen reader. */
export function reactionLabel(emoji: string, count: number, mine: boolean): string {
  const people = `${count} ${count === 1 ? "reaction" : "reactions"}`;
  return mine ? `${emoji}: ${people}, including yours` : `${emoji}: ${people}. Add yours`;
}
