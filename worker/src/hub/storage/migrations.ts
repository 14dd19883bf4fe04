/**
 * Schema migrations per owner: each hub module owns its tables and lists its migrations, applied
 * in order, once each, inside the object's SQLite. Versions are kept per owner in
 * `schema_versions`, so a module can add a table without knowing about the others.
 */

/**
 * What a hub from before per-module schemas already had: one global list, applied count in
 * `meta.schema` (2 = every table below, rooms with its game-room columns).
 */
const LEGACY_VERSIONS: Record<string, number> = { "hub-meta": 1, "event-log": 1, inbox: 1, presence: 1, rooms: 2 };

function ensureVersionsTable(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_versions (owner TEXT PRIMARY KEY, version INTEGER NOT NULL)");
}

function legacyVersion(sql: SqlStorage, owner: string): number {
  const hasMeta = sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray().length > 0;
  if (!hasMeta) return 0;
  const row = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema'").toArray()[0];
  return row ? Math.min(Number(row.value), LEGACY_VERSIONS[owner] ?? 0) : 0;
}

/** Applies `migrations[v..]` for `owner`, where `v` is how many it already applied. */
export function migrate(sql: SqlStorage, owner: string, migrations: readonly string[]): void {
  ensureVersionsTable(sql);
  const row = sql.exec<{ version: number }>("SELECT version FROM schema_versions WHERE owner = ?", owner).toArray()[0];
  const applied = row?.version ?? legacyVersion(sql, owner);
  for (let v = applied; v < migrations.length; v++) sql.exec(migrations[v]!);
  if (row?.version !== migrations.length) {
    sql.exec("INSERT OR REPLACE INTO schema_versions (owner, version) VALUES (?, ?)", owner, migrations.length);
  }
}
