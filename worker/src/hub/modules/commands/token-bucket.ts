/**
 * Token buckets, hand-written for a hibernating Durable Object: no timers, lazy refill on `take`
 * from an injected `now` (tests use a fake clock), memory only. Hibernation (after 10 s idle)
 * drops them, but every bucket here refills within 10 s, so a woken hub starting full is what it
 * would have been anyway.
 */

/** `capacity` tokens, refilled continuously at `capacity` per `perMs`. */
export interface BucketPolicy {
  capacity: number;
  /** Time to refill from empty to `capacity`. */
  perMs: number;
}

interface State {
  tokens: number;
  at: number;
}

/** The most keys one set keeps; beyond it, buckets that are full again are forgotten. */
const MAX_KEYS = 10_000;

/** One policy, one bucket per key (per user, per channel, or a single key for the bot). */
export class TokenBuckets {
  private readonly states = new Map<string, State>();
  private readonly rate: number;

  constructor(readonly policy: BucketPolicy) {
    if (!(policy.capacity >= 1) || !(policy.perMs > 0)) throw new RangeError("a bucket needs capacity >= 1 and perMs > 0");
    this.rate = policy.capacity / policy.perMs;
  }

  /** 0 when a token is available for `key` now, else how many ms until one is. Takes nothing. */
  waitMs(key: string, now: number): number {
    const tokens = this.tokensNow(key, now);
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / this.rate);
  }

  /** Takes one token (call after `waitMs` said 0; a bucket never goes below zero). */
  take(key: string, now: number): void {
    const tokens = this.tokensNow(key, now);
    this.states.set(key, { tokens: Math.max(0, tokens - 1), at: now });
    if (this.states.size > MAX_KEYS) this.sweep(now);
  }

  /** Tokens left for `key` now (for tests and metrics). */
  tokens(key: string, now: number): number {
    return this.tokensNow(key, now);
  }

  private tokensNow(key: string, now: number): number {
    const s = this.states.get(key);
    if (!s) return this.policy.capacity;
    // A clock that goes back (it should not) refills nothing rather than draining.
    return Math.min(this.policy.capacity, s.tokens + Math.max(0, now - s.at) * this.rate);
  }

  private sweep(now: number): void {
    for (const [key] of this.states) if (this.tokensNow(key, now) >= this.policy.capacity) this.states.delete(key);
  }
}

/** A refusal: which bucket said no, and when to retry. */
export interface Refusal {
  bucket: string;
  retryAfterMs: number;
}

/**
 * Takes one token from each of several buckets, or from none: a request one bucket refuses
 * costs nothing in the others (a refused send must not eat the player's own budget).
 */
export function takeAll(checks: readonly { name: string; buckets: TokenBuckets; key: string }[], now: number): Refusal | null {
  let worst: Refusal | null = null;
  for (const c of checks) {
    const wait = c.buckets.waitMs(c.key, now);
    if (wait > 0 && (!worst || wait > worst.retryAfterMs)) worst = { bucket: c.name, retryAfterMs: wait };
  }
  if (worst) return worst;
  for (const c of checks) c.buckets.take(c.key, now);
  return null;
}
