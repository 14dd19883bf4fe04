/**
 * The guild's event log: the `seq` counter, the `epoch` it belongs to, and the bounded history
 * that resumes replay from. Each event is serialized once, when it is sequenced, and that string
 * is what is stored, sent and replayed.
 *
 * An event may be addressed to some players only (its `audience`: a private table's chat goes to
 * its players). The audience is stored with it, so a resume replays it only to them; everyone
 * else gets a skip frame for its seq.
 */
import { HISTORY_LIMIT } from "./limits.ts";
import { skipFrame } from "./fanout/frames.ts";
import type { HubMeta } from "./storage/hub-meta.ts";
import { migrate } from "./storage/migrations.ts";

const MIGRATIONS = [
  `CREATE TABLE events (seq INTEGER PRIMARY KEY, data TEXT NOT NULL)`,
  // JSON array of user ids; NULL: for everyone.
  `ALTER TABLE events ADD COLUMN audience TEXT`,
];

/** An event as the log gives it out: serialized once, with who it is for. */
export interface SequencedEvent {
  seq: number;
  data: string;
  /** The players it is addressed to; null: every subscriber. */
  audience: ReadonlySet<string> | null;
}

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

  /** Assigns the next seq to `build(seq)`'s result, stores it with its audience, and returns it. */
  append(build: (seq: number) => string, audience: readonly string[] | null = null): SequencedEvent {
    const seq = ++this.lastSeq;
    const data = build(seq);
    this.sql.exec("INSERT INTO events (seq, data, audience) VALUES (?, ?, ?)", seq, data, audience ? JSON.stringify(audience) : null);
    // Trim and checkpoint in steps of 100, not per event: one DELETE per event would cost more
    // than the insert.
    if (seq % 100 === 0) {
      this.sql.exec("DELETE FROM events WHERE seq <= ?", seq - this.limit);
      this.meta.set("seq", String(seq));
    }
    return { seq, data, audience: audience ? new Set(audience) : null };
  }

  /** What `userId` is to be replayed after `after`, oldest first: the events for them, a skip frame for the others. */
  eventsAfter(after: number, userId: string): string[] {
    const now = Date.now();
    return this.sql
      .exec<{ seq: number; data: string; audience: string | null }>("SELECT seq, data, audience FROM events WHERE seq > ? ORDER BY seq", after)
      .toArray()
      .map((r) => (r.audience === null || (JSON.parse(r.audience) as string[]).includes(userId) ? r.data : skipFrame(r.seq, now)));
  }
}
