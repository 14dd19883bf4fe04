/**
 * Identify throttling (Discord "Max Concurrency", "Session Start Limit Object"):
 * - shards share a bucket `shard_id % max_concurrency`; a bucket may identify once per 5 s,
 *   buckets run in parallel, waiters in a bucket go in order;
 * - `session_start_limit.remaining` is respected: when it is used up the throttle refreshes it
 *   (GET /gateway/bot) and, still exhausted, refuses with an error saying when it resets, rather
 *   than identify and risk Discord resetting the bot token.
 */
import { sleep } from "@spell-coven/common";

export interface SessionStartLimit {
  total: number;
  remaining: number;
  reset_after: number;
  max_concurrency: number;
}

export class SessionStartLimitError extends Error {
  constructor(readonly limit: SessionStartLimit) {
    super(
      `Discord session start limit exhausted: ${limit.remaining} of ${limit.total} identifies left, ` +
        `resets in ${Math.ceil(limit.reset_after / 60_000)} min. Refusing to identify (exceeding it resets the bot token). ` +
        `Wait for the reset; look for a restart loop or zombie reconnects that burned the identifies.`,
    );
    this.name = "SessionStartLimitError";
  }
}

export interface IdentifyThrottleOptions {
  limit: SessionStartLimit;
  intervalMs?: number;
  /** Fetches a fresh limit (GET /gateway/bot) when the local count reaches 0. */
  refresh?: () => Promise<SessionStartLimit>;
  now?: () => number;
  /** Extra random wait (ms) when a waiter had to wait, like discord.js (0-1.5 s). Default 0. */
  jitterMs?: number;
}

export class IdentifyThrottle {
  private limit: SessionStartLimit;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly refresh: (() => Promise<SessionStartLimit>) | undefined;
  private readonly jitterMs: number;
  /** Per bucket: time the bucket is free again, and the tail of its waiter chain. */
  private readonly buckets = new Map<number, { freeAt: number; tail: Promise<void> }>();

  constructor(opts: IdentifyThrottleOptions) {
    this.limit = { ...opts.limit };
    this.intervalMs = opts.intervalMs ?? 5000;
    this.now = opts.now ?? Date.now;
    this.refresh = opts.refresh;
    this.jitterMs = opts.jitterMs ?? 0;
  }

  get maxConcurrency(): number {
    return Math.max(1, this.limit.max_concurrency);
  }

  get remaining(): number {
    return this.limit.remaining;
  }

  /**
   * Resolves when `shardId` may send its identify (and counts it against the session start
   * limit). Rejects with SessionStartLimitError when none are left, or with the signal's reason.
   */
  acquire(shardId: number, signal?: AbortSignal): Promise<void> {
    const key = shardId % this.maxConcurrency;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { freeAt: 0, tail: Promise.resolve() };
      this.buckets.set(key, bucket);
    }
    const b = bucket;
    const turn = b.tail.then(async () => {
      signal?.throwIfAborted();
      const wait = b.freeAt - this.now();
      if (wait > 0) await sleep(wait + Math.random() * this.jitterMs, signal);
      await this.consume();
      b.freeAt = this.now() + this.intervalMs;
    });
    // The next waiter starts after this one, whatever its outcome.
    b.tail = turn.catch(() => {});
    return turn;
  }

  private async consume(): Promise<void> {
    if (this.limit.remaining <= 0) {
      // Our count may be stale (it was taken at startup): ask Discord before refusing.
      if (this.refresh) {
        try {
          this.limit = { ...(await this.refresh()) };
        } catch {
          // keep the local view; fall through to the check
        }
      }
      if (this.limit.remaining <= 0) throw new SessionStartLimitError(this.limit);
    }
    this.limit.remaining--;
  }
}
