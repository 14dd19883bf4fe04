/**
 * Who is in which voice channel, as the hub sees it: set from each auth.ok snapshot, then moved
 * by voice.joined / voice.left in `seq` order. It also holds the resume cursor (the last `seq`
 * applied, and its hub `epoch`) and tells a missing `seq` (a gap) from the next one or a
 * duplicate, so the client never applies events out of order or twice.
 */
import type { AuthOk, EventEnvelope } from "@spell-coven/common";
import type { Presence } from "./events.ts";

export type SeqVerdict = "next" | "duplicate" | "gap";

export class PresenceStore {
  readonly #channels = new Map<string, Set<string>>();
  readonly #userChannel = new Map<string, string>();
  #cursor: { seq: number; epoch: string } | null = null;
  #view: Presence | null = null;

  /** Where to resume from: the last seq applied and the epoch it belongs to. */
  get cursor(): { seq: number; epoch: string } | null {
    return this.#cursor ? { ...this.#cursor } : null;
  }

  /**
   * Applies an auth.ok. Resumed: what we hold stays, and the missed events follow. Otherwise the
   * snapshot replaces everything and the cursor moves to the hub's seq. Returns true when the
   * presence changed.
   */
  applyAuth(ok: AuthOk): boolean {
    const resumed = ok.resumed && this.#cursor !== null && this.#cursor.epoch === ok.epoch && this.#cursor.seq <= ok.seq;
    if (resumed) return false;
    this.#cursor = { seq: ok.seq, epoch: ok.epoch };
    const before = this.#signature();
    this.#channels.clear();
    this.#userChannel.clear();
    for (const [channelId, users] of Object.entries(ok.presence)) {
      for (const userId of users) this.#join(userId, channelId);
    }
    this.#view = null;
    return this.#signature() !== before;
  }

  /** How `seq` relates to the cursor. */
  check(seq: number): SeqVerdict {
    if (!this.#cursor) return "gap";
    if (seq <= this.#cursor.seq) return "duplicate";
    return seq === this.#cursor.seq + 1 ? "next" : "gap";
  }

  /** Applies the next event (check() said "next"); returns true when presence changed. */
  apply(env: EventEnvelope): boolean {
    this.skip(env.seq);
    if (env.event === "voice.joined") {
      const { userId, channelId } = (env as EventEnvelope<"voice.joined">).payload;
      if (this.#userChannel.get(userId) === channelId) return false;
      this.#leave(userId);
      this.#join(userId, channelId);
      this.#view = null;
      return true;
    }
    if (env.event === "voice.left") {
      const { userId } = (env as EventEnvelope<"voice.left">).payload;
      if (!this.#userChannel.has(userId)) return false;
      this.#leave(userId);
      this.#view = null;
      return true;
    }
    return false;
  }

  /** Moves the cursor past an event without applying it (one that failed validation). */
  skip(seq: number): void {
    if (this.#cursor && seq > this.#cursor.seq) this.#cursor = { ...this.#cursor, seq };
  }

  channelOf(userId: string): string | null {
    return this.#userChannel.get(userId) ?? null;
  }

  membersOf(channelId: string): string[] {
    return [...(this.#channels.get(channelId) ?? [])];
  }

  /** channelId -> userIds (sorted), frozen; the same object until the next change. */
  toJSON(): Presence {
    if (!this.#view) {
      const view: Record<string, readonly string[]> = {};
      for (const [channelId, users] of [...this.#channels].sort(([a], [b]) => a.localeCompare(b))) {
        view[channelId] = Object.freeze([...users].sort());
      }
      this.#view = Object.freeze(view);
    }
    return this.#view;
  }

  #join(userId: string, channelId: string): void {
    let set = this.#channels.get(channelId);
    if (!set) this.#channels.set(channelId, (set = new Set()));
    set.add(userId);
    this.#userChannel.set(userId, channelId);
  }

  #leave(userId: string): void {
    const channelId = this.#userChannel.get(userId);
    if (channelId === undefined) return;
    this.#userChannel.delete(userId);
    const set = this.#channels.get(channelId);
    set?.delete(userId);
    if (set?.size === 0) this.#channels.delete(channelId);
  }

  #signature(): string {
    return JSON.stringify([...this.#userChannel].sort(([a], [b]) => a.localeCompare(b)));
  }
}
