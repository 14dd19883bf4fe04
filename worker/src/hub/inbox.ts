/**
 * Ids of internal events already applied, remembered for DEDUP_WINDOW_MS, so that a retried
 * post (or the same change reported by two paths, such as a room made through the API and then
 * seen by gateway-node) is applied once.
 */
import { DEDUP_WINDOW_MS } from "./limits.ts";
import { migrate } from "./storage/migrations.ts";

const MIGRATIONS = [
  `CREATE TABLE seen_events (id TEXT PRIMARY KEY, at INTEGER NOT NULL);
   CREATE INDEX seen_events_at ON seen_events (at);`,
];

/** How often the alarm forgets old ids. */
const PRUNE_EVERY_MS = 60 * 60_000;

export class Inbox {
  private lastPrune = 0;

  constructor(private readonly sql: SqlStorage) {
    migrate(sql, "inbox", MIGRATIONS);
  }

  /** Records an event id; false when it was seen within the window (skip the event). */
  markSeen(id: string, now: number): boolean {
    return this.sql.exec("INSERT OR IGNORE INTO seen_events (id, at) VALUES (?, ?)", id, now).rowsWritten > 0;
  }

  /** Forgets ids older than the window, at most once an hour. Returns how many were forgotten. */
  prune(now: number): number {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return 0;
    this.lastPrune = now;
    return this.sql.exec("DELETE FROM seen_events WHERE at < ?", now - DEDUP_WINDOW_MS).rowsWritten;
  }
}
