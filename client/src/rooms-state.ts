/**
 * The guild's rooms as a client sees them: loaded from GET /api/rooms, then kept current by
 * room.deleted / room.closing / room.closing.cancelled / room.seated / room.unseated; room.created needs a
 * fresh list (the facade reloads). `voice` is always taken from the live presence store.
 */
import type { Room } from "@spell-coven/common";
import type { PresenceStore } from "./presence.ts";

export class RoomsState {
  #rooms = new Map<string, Room>();
  #loaded = false;
  #view: readonly Room[] | null = null;

  get loaded(): boolean {
    return this.#loaded;
  }

  setAll(rooms: readonly Room[]): void {
    this.#rooms = new Map(rooms.map((r) => [r.channelId, r]));
    this.#loaded = true;
    this.#view = null;
  }

  upsert(room: Room): void {
    this.#rooms.set(room.channelId, room);
    this.#view = null;
  }

  get(channelId: string): Room | undefined {
    return this.#rooms.get(channelId);
  }

  has(channelId: string): boolean {
    return this.#rooms.has(channelId);
  }

  remove(channelId: string): boolean {
    const had = this.#rooms.delete(channelId);
    if (had) this.#view = null;
    return had;
  }

  setClosing(channelId: string, closingAt: number | null): boolean {
    const room = this.#rooms.get(channelId);
    if (!room || room.closingAt === closingAt) return false;
    this.#rooms.set(channelId, { ...room, closingAt });
    this.#view = null;
    return true;
  }

  /** Someone took a seat. */
  addMember(channelId: string, userId: string): boolean {
    const room = this.#rooms.get(channelId);
    if (!room || room.members.includes(userId)) return false;
    this.#rooms.set(channelId, { ...room, members: [...room.members, userId] });
    this.#view = null;
    return true;
  }

  /** Someone gave up their seat (left, or sat down at another table). */
  removeMember(channelId: string, userId: string): boolean {
    const room = this.#rooms.get(channelId);
    if (!room?.members.includes(userId)) return false;
    this.#rooms.set(channelId, { ...room, members: room.members.filter((m) => m !== userId) });
    this.#view = null;
    return true;
  }

  /** Presence changed: room voice lists must be rebuilt. */
  invalidate(): void {
    this.#view = null;
  }

  /** Rooms, oldest first, with `voice` from live presence; the same array until something changes. */
  list(presence: PresenceStore): readonly Room[] {
    if (!this.#view) {
      this.#view = Object.freeze(
        [...this.#rooms.values()]
          .sort((a, b) => a.createdAt - b.createdAt || a.channelId.localeCompare(b.channelId))
          .map((r) => Object.freeze({ ...r, voice: presence.membersOf(r.channelId).sort() })),
      );
    }
    return this.#view;
  }
}
