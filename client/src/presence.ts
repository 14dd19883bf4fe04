/**
 * Who is in which voice channel, as the hub sees it: set from each auth.ok snapshot, then moved
 * by voice.joined / voice.left in `seq` order. Beside it, who of them is muted or deafened in
 * Discord: from auth.ok's `voiceFlags`, then voice.flags; a join starts with none and a leave
 * forgets them. It also holds the resume cursor (the last `seq` applied, and its hub `epoch`) and
 * tells a missing `seq` (a gap) from the next one or a duplicate, so the client never applies
 * events out of order or twice.
 */
import type { AuthOk, EventEnvelope, VoiceFlags } from "@spell-coven/common";
import type { Presence } from "./events.ts";

export type SeqVerdict = "next" | "duplicate" | "gap";

/** userId -> flags, for the users in voice with at least one flag set. */
export type VoiceFlagsView = Readonly<Record<string, Readonly<VoiceFlags>>>;

const NO_FLAGS: Readonly<VoiceFlags> = Object.freeze({ selfMute: false, selfDeaf: false, serverMute: false, serverDeaf: false });

/**
 * What a UI says of a user's flags: deafened (by themselves or the server; Discord mutes whoever
 * is deafened), else muted, else null (can speak and hear).
 */
export function muteState(flags: VoiceFlags): "deafened" | "muted" | null {
  if (flags.selfDeaf || flags.serverDeaf) return "deafened";
  if (flags.selfMute || flags.serverMute) return "muted";
  return null;
}

export class PresenceStore {
  readonly #channels = new Map<string, Set<string>>();
  readonly #userChannel = new Map<string, string>();
  /** Only users in voice with a flag set. */
  readonly #flags = new Map<string, Readonly<VoiceFlags>>();
  #cursor: { seq: number; epoch: string } | null = null;
  #view: Presence | null = null;
  #flagsView: VoiceFlagsView | null = null;

  /** Where to resume from: the last seq applied and the epoch it belongs to. */
  get cursor(): { seq: number; epoch: string } | null {
    return this.#cursor ? { ...this.#cursor } : null;
  }

  /**
   * Applies an auth.ok. Resumed: what we hold stays, and the missed events follow. Otherwise the
   * snapshot replaces everything (flags too: a hub without flags sends none) and the cursor moves
   * to the hub's seq. Returns true when the presence (who is where) changed.
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
    this.#flags.clear();
    for (const { userId, ...flags } of ok.voiceFlags ?? []) this.#setFlags(userId, flags);
    this.#view = null;
    this.#flagsView = null;
    return this.#signature() !== before;
  }

  /** How `seq` relates to the cursor. */
  check(seq: number): SeqVerdict {
    if (!this.#cursor) return "gap";
    if (seq <= this.#cursor.seq) return "duplicate";
    return seq === this.#cursor.seq + 1 ? "next" : "gap";
  }

  /**
   * Applies the next event (check() said "next"); returns true when presence (who is where)
   * changed. A voice.flags changes only the flags (flagsOf, flagsJSON) and returns false.
   */
  apply(env: EventEnvelope): boolean {
    this.skip(env.seq);
    if (env.event === "voice.flags") {
      const { guildId: _g, channelId: _c, userId, ...flags } = (env as EventEnvelope<"voice.flags">).payload;
      // Flags of someone not in voice here would outlive them: the hub sends the join first.
      if (this.#userChannel.has(userId)) this.#setFlags(userId, flags);
      return false;
    }
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

  /** A user's mute and deafen flags (all false when none is set or they are not in voice). */
  flagsOf(userId: string): Readonly<VoiceFlags> {
    return this.#flags.get(userId) ?? NO_FLAGS;
  }

  /** userId -> flags of the users in voice with a flag set, frozen; the same object until the next change. */
  flagsJSON(): VoiceFlagsView {
    if (!this.#flagsView) {
      const view: Record<string, Readonly<VoiceFlags>> = {};
      for (const [userId, flags] of [...this.#flags].sort(([a], [b]) => a.localeCompare(b))) view[userId] = flags;
      this.#flagsView = Object.freeze(view);
    }
    return this.#flagsView;
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

  #setFlags(userId: string, f: VoiceFlags): void {
    const current = this.#flags.get(userId) ?? NO_FLAGS;
    if (current.selfMute === f.selfMute && current.selfDeaf === f.selfDeaf && current.serverMute === f.serverMute && current.serverDeaf === f.serverDeaf)
      return;
    if (muteState(f) === null) this.#flags.delete(userId);
    else this.#flags.set(userId, Object.freeze({ selfMute: f.selfMute, selfDeaf: f.selfDeaf, serverMute: f.serverMute, serverDeaf: f.serverDeaf }));
    this.#flagsView = null;
  }

  /** Out of a channel (a leave, or the first half of a move): the flags go with the stay. */
  #leave(userId: string): void {
    const channelId = this.#userChannel.get(userId);
    if (channelId === undefined) return;
    if (this.#flags.delete(userId)) this.#flagsView = null;
    this.#userChannel.delete(userId);
    const set = this.#channels.get(channelId);
    set?.delete(userId);
    if (set?.size === 0) this.#channels.delete(channelId);
  }

  #signature(): string {
    return JSON.stringify([...this.#userChannel].sort(([a], [b]) => a.localeCompare(b)));
  }
}
