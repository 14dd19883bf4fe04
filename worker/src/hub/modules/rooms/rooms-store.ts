/**
 * Durable records of game rooms in the GuildHub's SQLite: the room itself, who holds a seat,
 * room creations per user (rate limit), idempotency keys of create-room, and Discord objects
 * still to delete (retried by the alarm until Discord confirms, so nothing is left orphaned).
 */
import { migrate } from "../../storage/migrations.ts";

export interface RoomRecord {
  channelId: string;
  name: string;
  managed: boolean;
  creatorId: string;
  private: boolean;
  userLimit: number;
  roleId: string | null;
  createdAt: number;
  lastActivityAt: number;
  closingAt: number | null;
  ending: boolean;
}

interface RoomRow {
  channel_id: string;
  name: string;
  managed: number;
  creator_id: string;
  private: number;
  user_limit: number;
  role_id: string | null;
  created_at: number;
  last_activity_at: number;
  closing_at: number | null;
  ending: number;
  [key: string]: SqlStorageValue;
}

const toRecord = (r: RoomRow): RoomRecord => ({
  channelId: r.channel_id,
  name: r.name,
  managed: r.managed === 1,
  creatorId: r.creator_id,
  private: r.private === 1,
  userLimit: r.user_limit,
  roleId: r.role_id,
  createdAt: r.created_at,
  lastActivityAt: r.last_activity_at,
  closingAt: r.closing_at,
  ending: r.ending === 1,
});

export type CleanupKind = "channel" | "role";

/** The rooms module's tables (version 1 predates game rooms). */
const MIGRATIONS = [
  `CREATE TABLE rooms (channel_id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL)`,
  // Game rooms: rooms made through the API are "managed" and carry their settings.
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
  // A player's seats, looked up on every join (one table at a time).
  `CREATE INDEX room_members_user ON room_members (user_id)`,
];

export class RoomsStore {
  constructor(private readonly sql: SqlStorage) {
    migrate(sql, "rooms", MIGRATIONS);
  }

  get(channelId: string): RoomRecord | null {
    const row = this.sql.exec<RoomRow>("SELECT * FROM rooms WHERE channel_id = ?", channelId).toArray()[0];
    return row ? toRecord(row) : null;
  }

  managed(): RoomRecord[] {
    return this.sql.exec<RoomRow>("SELECT * FROM rooms WHERE managed = 1 ORDER BY created_at").toArray().map(toRecord);
  }

  /** A voice channel seen through Discord (CHANNEL_CREATE): known, but not a managed game room. True when new. */
  noteChannel(channelId: string, name: string, now: number): boolean {
    return (
      this.sql.exec("INSERT OR IGNORE INTO rooms (channel_id, name, created_at, last_activity_at) VALUES (?, ?, ?, ?)", channelId, name, now, now).rowsWritten >
      0
    );
  }

  /** Records a room made through the API, upgrading a record CHANNEL_CREATE may have made first. */
  saveManaged(r: Omit<RoomRecord, "managed" | "closingAt" | "ending">): void {
    this.sql.exec(
      `INSERT INTO rooms (channel_id, name, created_at, managed, creator_id, private, user_limit, role_id, last_activity_at)
       VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)
       ON CONFLICT (channel_id) DO UPDATE SET name = excluded.name, managed = 1, creator_id = excluded.creator_id,
         private = excluded.private, user_limit = excluded.user_limit, role_id = excluded.role_id, last_activity_at = excluded.last_activity_at`,
      r.channelId,
      r.name,
      r.createdAt,
      r.creatorId,
      r.private ? 1 : 0,
      r.userLimit,
      r.roleId,
      r.lastActivityAt,
    );
  }

  /** Removes the room and its seats; returns what it was. */
  remove(channelId: string): RoomRecord | null {
    const room = this.get(channelId);
    this.sql.exec("DELETE FROM rooms WHERE channel_id = ?", channelId);
    this.sql.exec("DELETE FROM room_members WHERE channel_id = ?", channelId);
    return room;
  }

  /** Marks a room as being ended so a second ender (alarm or player) backs off. False if it already was. */
  markEnding(channelId: string): boolean {
    return this.sql.exec("UPDATE rooms SET ending = 1 WHERE channel_id = ? AND ending = 0", channelId).rowsWritten > 0;
  }

  clearEnding(channelId: string): void {
    this.sql.exec("UPDATE rooms SET ending = 0 WHERE channel_id = ?", channelId);
  }

  touch(channelId: string, now: number): void {
    this.sql.exec("UPDATE rooms SET last_activity_at = ? WHERE channel_id = ?", now, channelId);
  }

  setClosing(channelId: string, closingAt: number | null): void {
    this.sql.exec("UPDATE rooms SET closing_at = ? WHERE channel_id = ?", closingAt, channelId);
  }

  members(channelId: string): string[] {
    return this.sql
      .exec<{ user_id: string }>("SELECT user_id FROM room_members WHERE channel_id = ? ORDER BY joined_at", channelId)
      .toArray()
      .map((r) => r.user_id);
  }

  addMember(channelId: string, userId: string, now: number): boolean {
    return this.sql.exec("INSERT OR IGNORE INTO room_members (channel_id, user_id, joined_at) VALUES (?, ?, ?)", channelId, userId, now).rowsWritten > 0;
  }

  /** Channels where the player holds a seat. */
  seatsOf(userId: string): string[] {
    return this.sql
      .exec<{ channel_id: string }>("SELECT channel_id FROM room_members WHERE user_id = ?", userId)
      .toArray()
      .map((r) => r.channel_id);
  }

  /** Every known voice channel (managed rooms and channels seen through Discord) with when it was first noted. */
  knownChannels(): { channelId: string; createdAt: number; managed: boolean; ending: boolean }[] {
    return this.sql
      .exec<{ channel_id: string; created_at: number; managed: number; ending: number }>("SELECT channel_id, created_at, managed, ending FROM rooms")
      .toArray()
      .map((r) => ({ channelId: r.channel_id, createdAt: r.created_at, managed: r.managed === 1, ending: r.ending === 1 }));
  }

  removeMember(channelId: string, userId: string): void {
    this.sql.exec("DELETE FROM room_members WHERE channel_id = ? AND user_id = ?", channelId, userId);
  }

  // ---- per-user creation limit ----

  creationsSince(userId: string, since: number): number[] {
    return this.sql
      .exec<{ at: number }>("SELECT at FROM room_creations WHERE user_id = ? AND at > ? ORDER BY at", userId, since)
      .toArray()
      .map((r) => r.at);
  }

  recordCreation(userId: string, now: number, windowMs: number): void {
    this.sql.exec("DELETE FROM room_creations WHERE at <= ?", now - windowMs);
    this.sql.exec("INSERT INTO room_creations (user_id, at) VALUES (?, ?)", userId, now);
  }

  // ---- idempotency ----

  idempotency(key: string): { requestHash: string; response: string | null } | null {
    const row = this.sql
      .exec<{ request_hash: string; response: string | null }>("SELECT request_hash, response FROM idempotency WHERE key = ?", key)
      .toArray()[0];
    return row ? { requestHash: row.request_hash, response: row.response } : null;
  }

  beginIdempotent(key: string, requestHash: string, now: number): void {
    this.sql.exec("INSERT INTO idempotency (key, request_hash, response, created_at) VALUES (?, ?, NULL, ?)", key, requestHash, now);
  }

  completeIdempotent(key: string, response: string): void {
    this.sql.exec("UPDATE idempotency SET response = ? WHERE key = ?", response, key);
  }

  forgetIdempotent(key: string): void {
    this.sql.exec("DELETE FROM idempotency WHERE key = ? AND response IS NULL", key);
  }

  pruneIdempotency(olderThan: number): void {
    this.sql.exec("DELETE FROM idempotency WHERE created_at < ?", olderThan);
  }

  // ---- Discord objects still to delete ----

  queueCleanup(kind: CleanupKind, id: string, at: number): void {
    this.sql.exec("INSERT OR IGNORE INTO discord_cleanup (kind, id, attempts, next_at) VALUES (?, ?, 0, ?)", kind, id, at);
  }

  dueCleanups(now: number): { kind: CleanupKind; id: string; attempts: number }[] {
    return this.sql
      .exec<{ kind: CleanupKind; id: string; attempts: number }>(
        "SELECT kind, id, attempts FROM discord_cleanup WHERE next_at <= ? ORDER BY next_at LIMIT 20",
        now,
      )
      .toArray();
  }

  cleanupDone(kind: CleanupKind, id: string): void {
    this.sql.exec("DELETE FROM discord_cleanup WHERE kind = ? AND id = ?", kind, id);
  }

  cleanupFailed(kind: CleanupKind, id: string, nextAt: number): void {
    this.sql.exec("UPDATE discord_cleanup SET attempts = attempts + 1, next_at = ? WHERE kind = ? AND id = ?", nextAt, kind, id);
  }

  nextCleanupAt(): number | null {
    return this.sql.exec<{ t: number | null }>("SELECT MIN(next_at) AS t FROM discord_cleanup").one().t;
  }

  pendingCleanups(): { kind: CleanupKind; id: string }[] {
    return this.sql.exec<{ kind: CleanupKind; id: string }>("SELECT kind, id FROM discord_cleanup").toArray();
  }
}
