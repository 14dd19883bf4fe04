/**
 * The GuildHub's durable state in the object's SQLite storage: the sequence counter and epoch,
 * the recent event history (for resume), voice presence, known rooms, and seen event ids.
 * All calls are synchronous (SQLite in a Durable Object is), so one invocation's writes are
 * committed together.
 */
import type { Presence, VoiceMember } from "@spell-coven/common";
import { DEDUP_WINDOW_MS, HISTORY_LIMIT } from "./limits.ts";

/** Schema versions, applied in order once each; the applied count is kept in meta.schema. */
const MIGRATIONS = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE events (seq INTEGER PRIMARY KEY, data TEXT NOT NULL);
   CREATE TABLE presence (user_id TEXT PRIMARY KEY, channel_id TEXT NOT NULL);
   CREATE TABLE rooms (channel_id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
   CREATE TABLE seen_events (id TEXT PRIMARY KEY, at INTEGER NOT NULL);
   CREATE INDEX seen_events_at ON seen_events (at);`,
  // Game rooms (issue 6): rooms made through the API are "managed" and carry their settings.
  `ALTER TABLE rooms ADD COLUMN managed INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE rooms ADD COLUMN creator_id TEXT NOT NULL DEFAULT '';
   ALTER TABLE rooms ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE rooms ADD COLUMN user_limit INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE rooms ADD COLUMN role_id TEXT;
   ALTER TABLE rooms ADD COLUMN last_activity_at INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE rooms ADD COLUMN closing_at INTEGER;
   ALTER TABLE rooms ADD COLUMN ending INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE room_members (channel_id TEXT NOT NULL, user_id TEXT NOT NULL, joined_at INTEGER NOT NULL, PRIMARY KEY (channel_id, user_id));
   CREATE TABLE room_creations (user_id TEXT NOT NULL, at INTEGER NOT NULL);
   CREATE INDEX room_creations_user ON room_creations (user_id, at);
   CREATE TABLE idempotency (key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, response TEXT, created_at INTEGER NOT NULL);
   CREATE TABLE discord_cleanup (kind TEXT NOT NULL, id TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, PRIMARY KEY (kind, id));`,
];

function migrate(sql: SqlStorage): void {
  const hasMeta = sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray().length > 0;
  const applied = hasMeta ? Number(sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema'").toArray()[0]?.value ?? 1) : 0;
  for (let v = applied; v < MIGRATIONS.length; v++) sql.exec(MIGRATIONS[v]!);
  if (applied < MIGRATIONS.length) sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", String(MIGRATIONS.length));
}

export class HubStore {
  readonly epoch: string;
  #seq: number;
  #guildId: string | null = null;
  /** userId -> channelId, mirrored in memory because every event and auth reads it. */
  readonly #presence = new Map<string, string>();
  /** channelId -> userIds, the same data indexed the other way (rooms ask "who is in here?"). */
  readonly #byChannel = new Map<string, Set<string>>();

  constructor(readonly sql: SqlStorage) {
    migrate(sql);
    this.epoch = this.#meta("epoch") ?? this.#setMeta("epoch", crypto.randomUUID());
    // The history always holds the newest event, so its MAX(seq) is the counter; meta keeps the
    // value for a guild whose history was trimmed to nothing (never, in practice).
    const newest = sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM events").one().s ?? 0;
    this.#seq = Math.max(newest, Number(this.#meta("seq") ?? 0));
    for (const row of sql.exec<{ user_id: string; channel_id: string }>("SELECT user_id, channel_id FROM presence")) {
      this.#index(row.user_id, row.channel_id);
    }
  }

  get seq(): number {
    return this.#seq;
  }

  get guildId(): string | null {
    return (this.#guildId ??= this.#meta("guild_id"));
  }

  set guildId(id: string) {
    if (this.guildId !== id) this.#guildId = this.#setMeta("guild_id", id);
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
    this.#unindex(userId);
    this.#index(userId, channelId);
    this.sql.exec("INSERT OR REPLACE INTO presence (user_id, channel_id) VALUES (?, ?)", userId, channelId);
  }

  clearVoice(userId: string): void {
    this.#unindex(userId);
    this.sql.exec("DELETE FROM presence WHERE user_id = ?", userId);
  }

  /** Users in one voice channel now. */
  voiceIn(channelId: string): string[] {
    return [...(this.#byChannel.get(channelId) ?? [])];
  }

  #index(userId: string, channelId: string): void {
    this.#presence.set(userId, channelId);
    let set = this.#byChannel.get(channelId);
    if (!set) this.#byChannel.set(channelId, (set = new Set()));
    set.add(userId);
  }

  #unindex(userId: string): void {
    const channelId = this.#presence.get(userId);
    if (channelId === undefined) return;
    this.#presence.delete(userId);
    const set = this.#byChannel.get(channelId);
    set?.delete(userId);
    if (set?.size === 0) this.#byChannel.delete(channelId);
  }

  voiceMembers(): VoiceMember[] {
    return Array.from(this.#presence, ([userId, channelId]) => ({ userId, channelId }));
  }

  /** Presence grouped by channel, as clients receive it. */
  presenceByChannel(): Presence {
    const out: Presence = {};
    for (const [channelId, users] of this.#byChannel) out[channelId] = [...users];
    return out;
  }

  #meta(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  #setMeta(key: string, value: string): string {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
    return value;
  }
}
