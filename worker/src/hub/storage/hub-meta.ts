/** Small key/value facts about the hub itself (the guild it serves), in its SQLite. */
import { migrate } from "./migrations.ts";

const MIGRATIONS = [`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`];

export class HubMeta {
  private cachedGuildId: string | null | undefined;

  constructor(private readonly sql: SqlStorage) {
    migrate(sql, "hub-meta", MIGRATIONS);
  }

  get(key: string): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  set(key: string, value: string): string {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
    return value;
  }

  /** The guild this object serves (learnt from the first request that names it), kept in memory. */
  get guildId(): string | null {
    if (this.cachedGuildId === undefined) this.cachedGuildId = this.get("guild_id");
    return this.cachedGuildId;
  }

  set guildId(id: string) {
    if (this.guildId !== id) this.cachedGuildId = this.set("guild_id", id);
  }
}
