/**
 * The GuildHub's durable state in the object's SQLite storage: the sequence counter and epoch,
 * the recent event history (for resume), voice presence, known rooms, and seen event ids.
 * All calls are synchronous (SQLite in a Durable Object is), so one invocation's writes are
 * committed together.
 */
import type { Presence, VoiceMember } from "@spell-coven/common";
import { DEDUP_WINDOW_MS, HISTORY_LIMIT } from "./limits.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS presence (user_id TEXT PRIMARY KEY, channel_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rooms (channel_id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS seen_events (id TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS seen_events_at ON seen_events (at);
`;

export class HubStore {
  readonly epoch: string;
  #seq: number;
  /** userId -> channelId, mirrored in memory because every event and auth reads it. */
  readonly #presence = new Map<string, string>();

  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
    this.epoch = this.#meta("epoch") ?? this.#setMeta("epoch", crypto.randomUUID());
    // The history always holds the newest event, so its MAX(seq) is the counter; meta keeps the
    // value for a guild whose history was trimmed to nothing (never, in practice).
    const newest = sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM events").one().s ?? 0;
    this.#seq = Math.max(newest, Number(this.#meta("seq") ?? 0));
    for (const row of sql.exec<{ user_id: string; channel_id: string }>("SELECT user_id, channel_id FROM presence")) {
      this.#presence.set(row.user_id, row.channel_id);
    }
  }

  get seq(): number {
    return this.#seq;
  }

  get guildId(): string | null {
    return this.#meta("guild_id");
  }

  set guildId(id: string) {
    if (this.#meta("guild_id") !== id) this.#setMeta("guild_id", id);
  }

  /** Oldest seq still held for resume (seq + 1 when nothing is held). */
  oldestHeldSeq(): number {
    const row = this.sql.exec<{ s: number | null }>("SELECT MIN(seq) AS s FROM events").one();
    return row.s ?? this.#seq + 1;
  }

  /** Assigns the next seq to `build(seq)`'s result, stores it in the history, and returns it. */
  append(build: (seq: number) => string): { seq: number; data: string } {
    const seq = ++this.#seq;
    const data = build(seq);
    this.sql.exec("INSERT INTO events (seq, data) VALUES (?, ?)", seq, data);
    if (seq % 100 === 0) {
      this.sql.exec("DELETE FROM events WHERE seq <= ?", seq - HISTORY_LIMIT);
      this.#setMeta("seq", String(seq));
    }
    return { seq, data };
  }

  /** Serialized events with seq > after, oldest first. */
  eventsAfter(after: number): string[] {
    return this.sql.exec<{ data: string }>("SELECT data FROM events WHERE seq > ? ORDER BY seq", after).toArray().map((r) => r.data);
  }

  /** Records an internal event id; false when it was seen within the dedup window. */
  markSeen(id: string, now: number): boolean {
    const cursor = this.sql.exec("INSERT OR IGNORE INTO seen_events (id, at) VALUES (?, ?)", id, now);
    return cursor.rowsWritten > 0;
  }

  pruneSeen(now: number): number {
    return this.sql.exec("DELETE FROM seen_events WHERE at < ?", now - DEDUP_WINDOW_MS).rowsWritten;
  }

  channelOf(userId: string): string | undefined {
    return this.#presence.get(userId);
  }

  setVoice(userId: string, channelId: string): void {
    this.#presence.set(userId, channelId);
    this.sql.exec("INSERT OR REPLACE INTO presence (user_id, channel_id) VALUES (?, ?)", userId, channelId);
  }

  clearVoice(userId: string): void {
    this.#presence.delete(userId);
    this.sql.exec("DELETE FROM presence WHERE user_id = ?", userId);
  }

  voiceMembers(): VoiceMember[] {
    return Array.from(this.#presence, ([userId, channelId]) => ({ userId, channelId }));
  }

  /** Presence grouped by channel, as clients receive it. */
  presenceByChannel(): Presence {
    const out: Presence = {};
    for (const [userId, channelId] of this.#presence) (out[channelId] ??= []).push(userId);
    return out;
  }

  /** True when the room was not known before. */
  addRoom(channelId: string, name: string, now: number): boolean {
    return this.sql.exec("INSERT OR IGNORE INTO rooms (channel_id, name, created_at) VALUES (?, ?, ?)", channelId, name, now).rowsWritten > 0;
  }

  /** True when the room was known. */
  removeRoom(channelId: string): boolean {
    return this.sql.exec("DELETE FROM rooms WHERE channel_id = ?", channelId).rowsWritten > 0;
  }

  #meta(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  #setMeta(key: string, value: string): string {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
    return value;
  }
}
