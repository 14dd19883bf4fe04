/**
 * Voice presence (who is in which voice channel of the guild, and who of them is muted or
 * deafened), in SQLite and mirrored in memory both ways: every event and every auth reads it,
 * and rooms ask "who is in this channel?".
 */
import { packVoiceFlags, unpackVoiceFlags, type Presence, type PresenceFlags, type VoiceFlags, type VoiceMember } from "@spell-coven/common";
import { migrate } from "../../storage/migrations.ts";
import type { VoicePresence } from "./apply-voice.ts";

const MIGRATIONS = [
  `CREATE TABLE presence (user_id TEXT PRIMARY KEY, channel_id TEXT NOT NULL)`,
  // Mute / deafen flags (packVoiceFlags); rows of a hub from before start with none set.
  `ALTER TABLE presence ADD COLUMN flags INTEGER NOT NULL DEFAULT 0`,
];

const NO_FLAGS = unpackVoiceFlags(0);

export class PresenceStore implements VoicePresence {
  /** userId -> channelId. */
  private readonly channelByUser = new Map<string, string>();
  /** channelId -> userIds. */
  private readonly usersByChannel = new Map<string, Set<string>>();
  /** userId -> packed flags, only users with one set. */
  private readonly flagsByUser = new Map<string, number>();

  constructor(private readonly sql: SqlStorage) {
    migrate(sql, "presence", MIGRATIONS);
    for (const row of sql.exec<{ user_id: string; channel_id: string; flags: number }>("SELECT user_id, channel_id, flags FROM presence")) {
      this.index(row.user_id, row.channel_id);
      if (row.flags !== 0) this.flagsByUser.set(row.user_id, row.flags);
    }
  }

  channelOf(userId: string): string | undefined {
    return this.channelByUser.get(userId);
  }

  setVoice(userId: string, channelId: string): void {
    this.unindex(userId);
    this.index(userId, channelId);
    this.flagsByUser.delete(userId);
    this.sql.exec("INSERT OR REPLACE INTO presence (user_id, channel_id, flags) VALUES (?, ?, 0)", userId, channelId);
  }

  clearVoice(userId: string): void {
    this.unindex(userId);
    this.flagsByUser.delete(userId);
    this.sql.exec("DELETE FROM presence WHERE user_id = ?", userId);
  }

  flagsOf(userId: string): VoiceFlags {
    const bits = this.flagsByUser.get(userId);
    return bits === undefined ? NO_FLAGS : unpackVoiceFlags(bits);
  }

  /** Sets the flags of a user in voice (a user not in voice has none: ignored). */
  setFlags(userId: string, flags: VoiceFlags): void {
    if (!this.channelByUser.has(userId)) return;
    const bits = packVoiceFlags(flags);
    if (bits === 0) this.flagsByUser.delete(userId);
    else this.flagsByUser.set(userId, bits);
    this.sql.exec("UPDATE presence SET flags = ? WHERE user_id = ?", bits, userId);
  }

  /** Users in voice with a flag set, as auth.ok carries them beside the presence. */
  flagged(): PresenceFlags {
    return Array.from(this.flagsByUser, ([userId, bits]) => ({ userId, ...unpackVoiceFlags(bits) }));
  }

  /** Users in one voice channel now. */
  voiceIn(channelId: string): string[] {
    return [...(this.usersByChannel.get(channelId) ?? [])];
  }

  voiceMembers(): VoiceMember[] {
    return Array.from(this.channelByUser, ([userId, channelId]) => ({ userId, channelId }));
  }

  /** Presence grouped by channel, as clients receive it. */
  byChannel(): Presence {
    const out: Presence = {};
    for (const [channelId, users] of this.usersByChannel) out[channelId] = [...users];
    return out;
  }

  private index(userId: string, channelId: string): void {
    this.channelByUser.set(userId, channelId);
    let set = this.usersByChannel.get(channelId);
    if (!set) this.usersByChannel.set(channelId, (set = new Set()));
    set.add(userId);
  }

  private unindex(userId: string): void {
    const channelId = this.channelByUser.get(userId);
    if (channelId === undefined) return;
    this.channelByUser.delete(userId);
    const set = this.usersByChannel.get(channelId);
    set?.delete(userId);
    if (set?.size === 0) this.usersByChannel.delete(channelId);
  }
}
