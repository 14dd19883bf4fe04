/**
 * REST rate limits the way Discord announces them: a global per-second limit for the bot and
 * per-route buckets keyed by (route template + major parameter). Fixed windows, like the
 * counters @discordjs/rest keeps, so a client that follows the headers never sees a 429.
 */
import { createHash } from "node:crypto";
import type { RateLimitConfig } from "../types.ts";

export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
  globalPerSecond: 50,
  routeLimit: 5,
  routeWindowMs: 5_000,
  reactionLimit: 1,
  reactionWindowMs: 1_000,
  reactionIntervalMs: 250,
};

const isReactionRoute = (routeKey: string) => routeKey.includes("/reactions/");

export interface BucketState {
  bucket: string;
  limit: number;
  remaining: number;
  /** Epoch ms when the bucket refills. */
  resetAt: number;
}

export type RouteVerdict = { ok: true; state: BucketState } | { ok: false; state: BucketState; retryAfterMs: number };

/** Opaque per-template bucket id, like Discord's X-RateLimit-Bucket (no top-level resource in it). */
export function bucketHash(routeKey: string): string {
  return createHash("sha1").update(routeKey).digest("hex").slice(0, 32);
}

export class RateLimiter {
  private config: RateLimitConfig;
  private globalWindowStart = 0;
  private globalCount = 0;
  private readonly buckets = new Map<string, { resetAt: number; remaining: number }>();
  /** When the bot last reacted anywhere (the hidden per-bot reaction limit). */
  private lastReactionAt = -Infinity;

  constructor(config: Partial<RateLimitConfig> = {}) {
    this.config = { ...DEFAULT_RATE_LIMITS, ...config };
  }

  get limits(): RateLimitConfig {
    return { ...this.config };
  }

  /** New limits apply at once: every bucket and the global window start fresh. */
  set(config: Partial<RateLimitConfig>): void {
    this.config = { ...this.config, ...config };
    this.buckets.clear();
    this.globalCount = 0;
    this.lastReactionAt = -Infinity;
  }

  /** Counts one request against the global limit; the wait in ms when over it. */
  takeGlobal(now = Date.now()): number | null {
    if (now - this.globalWindowStart >= 1000) {
      this.globalWindowStart = now;
      this.globalCount = 0;
    }
    if (this.globalCount >= this.config.globalPerSecond) return this.globalWindowStart + 1000 - now;
    this.globalCount++;
    return null;
  }

  /**
   * Counts one request against its route bucket. Reactions have their own announced bucket and,
   * on top of it, a per-bot interval the headers never mention: a client that follows the headers
   * of two channels at once still gets a 429 for the second reaction.
   */
  takeRoute(routeKey: string, majorParameter: string, now = Date.now()): RouteVerdict {
    const reaction = isReactionRoute(routeKey);
    const limit = reaction ? this.config.reactionLimit : this.config.routeLimit;
    const windowMs = reaction ? this.config.reactionWindowMs : this.config.routeWindowMs;
    const key = `${routeKey}:${majorParameter}`;
    let bucket = this.buckets.get(key);
    if (!bucket || now >= bucket.resetAt) {
      bucket = { resetAt: now + windowMs, remaining: limit };
      this.buckets.set(key, bucket);
    }
    const state = (): BucketState => ({ bucket: bucketHash(routeKey), limit, remaining: bucket.remaining, resetAt: bucket.resetAt });
    if (bucket.remaining <= 0) return { ok: false, state: state(), retryAfterMs: bucket.resetAt - now };
    if (reaction) {
      const wait = this.lastReactionAt + this.config.reactionIntervalMs - now;
      if (wait > 0) return { ok: false, state: state(), retryAfterMs: wait };
      this.lastReactionAt = now;
    }
    bucket.remaining--;
    return { ok: true, state: state() };
  }
}

/** The X-RateLimit-* headers Discord puts on every response of a rate-limited route. */
export function bucketHeaders(state: BucketState, now = Date.now()): Record<string, string> {
  return {
    "X-RateLimit-Limit": String(state.limit),
    "X-RateLimit-Remaining": String(state.remaining),
    "X-RateLimit-Reset": (state.resetAt / 1000).toFixed(3),
    "X-RateLimit-Reset-After": (Math.max(0, state.resetAt - now) / 1000).toFixed(3),
    "X-RateLimit-Bucket": state.bucket,
  };
}
