/**
 * The guild's event log: the `seq` counter, the `epoch` it belongs to, and the bounded history
 * that resumes replay from. Each event is serialized once, when it is sequenced, and that string
 * is what is stored, sent and replayed.
 */
import { HISTORY_LIMIT } from "./limits.ts";
import type { HubMeta } from "./storage/hub-meta.ts";
import { migrate } from "./storage/migrations.ts";

const MIGRATIONS = [`CREATE TABLE events (seq INTEGER PRIMARY KEY, data TEXT NOT NULL)`];

export class EventLog {
  /** Changes only when the history is reset; a resume from another epoch gets a snapshot. */
  readonly epoch: string;
  private lastSeq: number;

  constructor(
    private readonly sql: SqlStorage,
    private readonly meta: HubMeta,
    private readonly limit = HISTORY_LIMIT,
  ) {
    migrate(sql, "event-log", MIGRATIONS);
    this.epoch = meta.get("epoch") ?? meta.set("epoch", crypto.randomUUID());
    // The history always holds the newest event, so its MAX(seq) is the counter; meta keeps the
    // value for a history trimmed to nothing.
    const newest = sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM events").one().s ?? 0;
    this.lastSeq = Math.max(newest, Number(meta.get("seq") ?? 0));
  }

  /** The last seq given out. */
  get seq(): number {
    return this.lastSeq;
  }

  /** Oldest seq still held for resume (seq + 1 when nothing is held). */
  oldestHeldSeq(): number {
    return this.sql.exec<{ s: number | null }>("SELECT MIN(seq) AS s FROM events").one().s ?? this.lastSeq + 1;
  }

  /** True when every event after `seq` of `epoch` is still held, so a resume can replay them. */
  canResumeFrom(seq: number, epoch: string | undefined): boolean {
    return epoch === this.epoch && seq <= this.lastSeq && seq >= this.oldestHeldSeq() - 1;
  }

  /** Assigns the next seq to `build(seq)`'s result, stores it, and returns it. */
  append(build: (seq: number) => string): string {
    const seq = ++this.lastSeq;
    const data = build(seq);
    this.sql.exec("INSERT INTO events (seq, data) VALUES (?, ?)", seq, data);
    // Trim and checkpoint in steps of 100, not per event: one DELETE per event would cost more
    // than the insert.
    if (seq % 100 === 0) {
      this.sql.exec("DELETE FROM events WHERE seq <= ?", seq - this.limit);
      this.meta.set("seq", String(seq));
    }
    return data;
  }

  /** Serialized events with seq > after, oldest first. */
  eventsAfter(after: number): string[] {
    return this.sql
      .exec<{ data: string }>("SELECT data FROM events WHERE seq > ? ORDER BY seq", after)
      .toArray()
      .map((r) => r.data);
  }
}
