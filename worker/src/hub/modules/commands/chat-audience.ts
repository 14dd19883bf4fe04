/**
 * Who may read a table's chat. A public table's chat is the guild's: anyone signed in to the
 * lobby may read it, as anyone in the Discord server may open the channel. A private table's chat
 * is for the players who hold a seat there (the room's role is what lets them see the channel in
 * Discord) and anyone in its voice channel (they are reading it in Discord already, a moderator
 * for example). Nobody else gets its messages, reactions or typing: not live, not on resume, not
 * through the history route.
 */
import type { ChatEventPayloads } from "@spell-coven/common";
import type { PublicEvent } from "../../hub-module.ts";
import type { RoomsService } from "../rooms/rooms-service.ts";

/** A chat event before it is addressed. */
export type ChatEvent = Extract<PublicEvent, { event: keyof typeof ChatEventPayloads }>;

/** `guild`: every signed-in player; `players`: only these user ids; null: not a table (its chat is not the site's). */
export type ChatReaders = { kind: "guild" } | { kind: "players"; userIds: readonly string[] } | null;

export interface ChatAudienceDeps {
  rooms: Pick<RoomsService, "get">;
  /** Users in a voice channel now (presence). */
  voiceIn(channelId: string): readonly string[];
}

export class ChatAudience {
  constructor(private readonly deps: ChatAudienceDeps) {}

  /** The readers of `channelId`'s chat, now. */
  readers(channelId: string): ChatReaders {
    const room = this.deps.rooms.get(channelId);
    if (!room) return null;
    if (!room.private) return { kind: "guild" };
    return { kind: "players", userIds: [...new Set([...room.members, ...this.deps.voiceIn(channelId)])] };
  }

  /** The event addressed to its channel's readers; null when the channel is not a table. */
  address(e: ChatEvent): ChatEvent | null {
    const readers = this.readers(e.payload.channelId);
    if (!readers) return null;
    return readers.kind === "guild" ? e : { ...e, audience: readers.userIds };
  }

  /** True when `userId` may read `channelId`'s chat now. */
  canRead(channelId: string, userId: string): boolean {
    const readers = this.readers(channelId);
    return readers !== null && (readers.kind === "guild" || readers.userIds.includes(userId));
  }
}
