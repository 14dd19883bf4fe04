import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { migrate } from "../../src/hub/storage/migrations.ts";
import { EventLog } from "../../src/hub/event-log.ts";
import { Inbox } from "../../src/hub/inbox.ts";
import { HubMeta } from "../../src/hub/storage/hub-meta.ts";
import { PresenceStore } from "../../src/hub/modules/presence/presence-store.ts";
import { RoomsStore } from "../../src/hub/modules/rooms/rooms-store.ts";

/** The schema every hub had before modules owned their tables (one list, `meta.schema` = 2). */
const LEGACY = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE events (seq INTEGER PRIMARY KEY, data TEXT NOT NULL);
   CREATE TABLE presence (user_id TEXT PRIMARY KEY, channel_id TEXT NOT NULL);
   CREATE TABLE rooms (channel_id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at INTEGER NOT NULL);
   CREATE TABLE seen_events (id TEXT PRIMARY KEY, at INTEGER NOT NULL);
   CREATE INDEX seen_events_at ON seen_events (at);`,
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

const freshStorage = <T>(fn: (sql: SqlStorage) => T) =>
  runInDurableObject(env.GUILD_HUB.getByName(`unit-${crypto.randomUUID()}`), (_i, state) => fn(state.storage.sql));

/** An object's storage without the hub's tables (the hub created them when it started). */
function dropAll(sql: SqlStorage): void {
  for (const { name } of sql
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite_%'")
    .toArray())
    sql.exec(`DROP TABLE "${name}"`);
}

describe("per-module migrations", () => {
  it("applies each owner's migrations once, in order", async () => {
    await freshStorage((sql) => {
      const steps = ["CREATE TABLE t1 (a INTEGER)", "ALTER TABLE t1 ADD COLUMN b INTEGER"];
      migrate(sql, "unit-test", steps);
      migrate(sql, "unit-test", steps); // again: nothing to do (an ALTER twice would throw)
      migrate(sql, "unit-test", [...steps, "CREATE TABLE t2 (c INTEGER)"]);
      expect(sql.exec<{ version: number }>("SELECT version FROM schema_versions WHERE owner = 'unit-test'").one().version).toBe(3);
    });
  });

  it("takes over a hub from before module-owned schemas without losing its data", async () => {
    await freshStorage((sql) => {
      dropAll(sql);
      for (const step of LEGACY) sql.exec(step);
      sql.exec("INSERT INTO meta (key, value) VALUES ('schema', '2'), ('epoch', 'old-epoch'), ('guild_id', '100000000000000001')");
      sql.exec("INSERT INTO events (seq, data) VALUES (41, 'a'), (42, 'b')");
      sql.exec("INSERT INTO presence (user_id, channel_id) VALUES ('7', '8')");
      sql.exec("INSERT INTO rooms (channel_id, name, created_at, managed, creator_id) VALUES ('8', 'Old Table', 1, 1, '7')");
      sql.exec("INSERT INTO room_members (channel_id, user_id, joined_at) VALUES ('8', '7', 1)");

      const meta = new HubMeta(sql);
      const log = new EventLog(sql, meta);
      new Inbox(sql);
      const presence = new PresenceStore(sql);
      const rooms = new RoomsStore(sql);
      expect(meta.guildId).toBe("100000000000000001");
      expect([log.seq, log.epoch]).toEqual([42, "old-epoch"]);
      expect(presence.channelOf("7")).toBe("8");
      // The flags column came on top: the old row has none, and takes them.
      expect(presence.flagged()).toEqual([]);
      presence.setFlags("7", { selfMute: true, selfDeaf: false, serverMute: false, serverDeaf: true });
      expect(new PresenceStore(sql).flagged()).toEqual([{ userId: "7", selfMute: true, selfDeaf: false, serverMute: false, serverDeaf: true }]);
      expect(rooms.get("8")).toMatchObject({ name: "Old Table", managed: true, creatorId: "7" });
      expect(rooms.seatsOf("7")).toEqual(["8"]); // the new index migration ran on top
    });
  });

  it("upgrades a hub whose presence had only its first migration, keeping who is in voice", async () => {
    await freshStorage((sql) => {
      sql.exec("DROP TABLE presence");
      sql.exec("CREATE TABLE presence (user_id TEXT PRIMARY KEY, channel_id TEXT NOT NULL)");
      sql.exec("INSERT OR REPLACE INTO schema_versions (owner, version) VALUES ('presence', 1)");
      sql.exec("INSERT INTO presence (user_id, channel_id) VALUES ('70', '80'), ('71', '80')");
      const presence = new PresenceStore(sql);
      expect(presence.voiceIn("80").sort()).toEqual(["70", "71"]);
      expect(presence.flagsOf("70")).toEqual({ selfMute: false, selfDeaf: false, serverMute: false, serverDeaf: false });
      presence.setFlags("71", { selfMute: false, selfDeaf: true, serverMute: false, serverDeaf: false });
      presence.clearVoice("70");
      const reloaded = new PresenceStore(sql);
      expect(reloaded.voiceMembers()).toEqual([{ userId: "71", channelId: "80" }]);
      expect(reloaded.flagsOf("71").selfDeaf).toBe(true);
      expect(sql.exec<{ version: number }>("SELECT version FROM schema_versions WHERE owner = 'presence'").one().version).toBe(2);
    });
  });
});
