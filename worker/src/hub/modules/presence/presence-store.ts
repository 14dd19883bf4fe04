/**
 * Voice presence (who is in which voice channel of the guild), in SQLite and mirrored in memory
 * both ways: every event and every auth reads it, and rooms ask "who is in this channel?".
 */
import type { Presence, VoiceMember } from "@spell-coven/common";
import { migrate } from "../../storage/migrations.ts";
import type { VoicePresence } from "./apply-voice.ts";

const MIGRATIONS = [`CREATE TABLE presence (user_id TEXT PRIMARY KEY, channel_id TEXT NOT NULL)`];

export class PresenceStore implements VoicePresence {
  /** userId -> channelId. */
  private readonly channelByUser = new Map<string, string>();
  /** channelId -> userIds. */
  private readonly usersByChannel = new Map<string, Set<string>>();

  constructor(private readonly sql: SqlStorage) {
    migrate(sql, "presence", MIGRATIONS);
    for (const row of sql.exec<{ user_id: string; channel_id: string }>("SELECT user_id, channel_id FROM presence")) {
      this.index(row.user_id, row.channel_id);
    }
  }

  channelOf(userId: string): string | undefined {
    return this.channelByUser.get(userId);
  }

  setVoice(userId: string, channelId: string): void {
    this.unindex(userId);
    this.index(userId, channelId);
    this.sql.exec("INSERT OR REPLACE INTO presence (user_id, channel_id) VALUES (?, ?)", userId, channelId);
  }

  clearVoice(userId: string): void {
    this.unindex(userId);
    this.sql.exec("DELETE FROM presence WHERE user_id = ?", userId);
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
