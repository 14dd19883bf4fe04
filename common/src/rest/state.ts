/**
 * The bot's REST rate-limit state as pure, clock-injected logic. MemoryCoordinator (one process)
 * and the Worker's DiscordRateLimiter Durable Object (every isolate of the bot) both wrap one
 * instance, so the rules live in one place:
 *
 * - Buckets are learned from X-RateLimit-Bucket per `METHOD:route`, and keyed `hash:majorParameter`
 *   (channel/guild/webhook). Until a route's bucket is known, one request at a time probes it.
 * - A slot is reserved before sending (`acquire`): remaining is decremented and the request is
 *   counted "in flight" until its answer is reported. An answer's X-RateLimit-Remaining is
 *   reduced by the requests still in flight (Discord may not have seen them yet), so concurrent
 *   senders never overshoot; Reset-After (relative, no clock skew) plus `offsetMs` ends the window.
 * - The global limit (50/s) is a sliding window in which a request holds its slot from its
 *   reservation until one window after its answer arrived. Discord counted it somewhere in
 *   between, so no window of any alignment on Discord's side sees more than the limit, however
 *   late requests travel (processes, isolates, a Durable Object round trip in between).
 * - Once a bucket hash is known on one major parameter, other channels/guilds of the same route
 *   start with its limit (same hash, same limit) instead of probing one request at a time.
 * - 429s: `global` blocks everything for retry_after; scope "shared" blocks the resource and is
 *   not counted as invalid; a user-scope 429 while the headers said the bucket still had room is a
 *   sublimit (like @discordjs/rest): only that method+route+major waits, the bucket goes on.
 * - Invalid-request guard: 401/403/429 (not shared) counted in 10 s bins over 10 minutes.
 */
import type { RouteKey } from "./routes.ts";

export interface RateLimitReport {
  /** HTTP status, or 0 when no answer arrived (network error, timeout). */
  status: number;
  /** X-RateLimit-Bucket */
  bucket: string | null;
  /** X-RateLimit-Limit */
  limit: number | null;
  /** X-RateLimit-Remaining */
  remaining: number | null;
  /** X-RateLimit-Reset-After in ms */
  resetAfterMs: number | null;
  /** 429 only: retry_after (body) or Retry-After (header) in ms */
  retryAfterMs: number | null;
  /** 429 only: X-RateLimit-Global or body `global` */
  global: boolean;
  /** 429 only: X-RateLimit-Scope (user | global | shared) */
  scope: string | null;
}

export type WaitReason = "bucket" | "unknown-bucket" | "global" | "global-429" | "sublimit" | "shared" | "invalid-request-guard";

export interface AcquireResult {
  /** 0: a slot is reserved, send now and report the answer. > 0: wait this long, then acquire again. */
  waitMs: number;
  reason?: WaitReason;
  /** The invalid-request guard refuses every request until the count falls: fail, do not wait. */
  blocked?: boolean;
  /** 401/403/429 answers counted in the last 10 minutes. */
  invalidRequests: number;
  /** The bucket's limit when known (for logs). */
  limit?: number | null;
}

export interface ReportResult {
  invalidRequests: number;
  /** Set by the report that crossed a guard threshold, so exactly one caller logs it. */
  crossed?: "warn" | "stop";
}

export interface RateLimitStateOptions {
  /** Requests per second for the bot across all routes (Discord: 50). */
  globalPerSecond?: number;
  /** Length of the global window in ms (Discord: 1000). */
  globalWindowMs?: number;
  /** Safety margin added to every bucket reset, in ms (like @discordjs/rest's `offset`, default 50). */
  offsetMs?: number;
  /**
   * Margin on the global window, in ms (default 10). Slots are held from the answer's arrival,
   * which already covers travel time, so only timer rounding needs covering.
   */
  globalOffsetMs?: number;
  /** A reservation whose answer is never reported is forgotten after this long (default 30 s). */
  leaseMs?: number;
  /** Re-check interval while a bucket's first answer is awaited (default 15 ms). */
  pollMs?: number;
  /** WARN once the 10-minute invalid-request count reaches this (default 5,000). */
  invalidWarnAt?: number;
  /** Refuse to send once it reaches this (default 9,000; Discord bans at 10,000). */
  invalidStopAt?: number;
  /** Length of the invalid-request window (default 600,000 ms = Discord's 10 minutes). */
  invalidWindowMs?: number;
}

interface Bucket {
  /** null until the first answer with headers. */
  limit: number | null;
  remaining: number;
  /** Window end (ms, offset included); 0 = not known (window rolled locally). */
  resetAt: number;
  /** Longest Reset-After seen: the window length. */
  windowMs: number;
  /** Lease expiry per reservation not yet reported. */
  inFlight: number[];
  /** 2xx answers carry no rate-limit headers: only the global limit applies. */
  unlimited: boolean;
  lastUsed: number;
}

const BINS = 60;

export class RateLimitState {
  readonly globalPerSecond: number;
  readonly globalWindowMs: number;
  readonly offsetMs: number;
  readonly globalOffsetMs: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly invalidWarnAt: number;
  readonly invalidStopAt: number;
  readonly invalidWindowMs: number;

  private readonly hashes = new Map<string, string>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly sublimits = new Map<string, number>();
  /** Lease expiry per reserved, unanswered request (global limit). */
  private globalInFlight: number[] = [];
  /** Answer time per answered request, oldest first (global limit). */
  private globalDone: number[] = [];
  /** Limit and window length per bucket hash, to start new majors of the same bucket. */
  private readonly hashLimits = new Map<string, { limit: number; windowMs: number }>();
  private globalBlockedUntil = 0;
  private readonly invalidBins = new Array<number>(BINS).fill(0);
  private readonly invalidBinIds = new Array<number>(BINS).fill(-1);
  private warned = false;
  private stopped = false;
  private lastSweep = 0;
  /** Whether the last report added an invalid request (storage can skip a write otherwise). */
  lastReportCounted = false;

  constructor(opts: RateLimitStateOptions = {}) {
    this.globalPerSecond = opts.globalPerSecond ?? 50;
    this.globalWindowMs = opts.globalWindowMs ?? 1000;
    this.offsetMs = opts.offsetMs ?? 50;
    this.globalOffsetMs = opts.globalOffsetMs ?? 10;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.pollMs = opts.pollMs ?? 15;
    this.invalidWarnAt = opts.invalidWarnAt ?? 5_000;
    this.invalidStopAt = opts.invalidStopAt ?? 9_000;
    this.invalidWindowMs = opts.invalidWindowMs ?? 600_000;
  }

  acquire(key: RouteKey, now: number): AcquireResult {
    this.sweep(now);
    const invalidRequests = this.invalidCount(now);
    if (invalidRequests >= this.invalidStopAt) {
      return { waitMs: this.binMs(), reason: "invalid-request-guard", blocked: true, invalidRequests };
    }
    if (this.globalBlockedUntil > now) return { waitMs: this.globalBlockedUntil - now, reason: "global-429", invalidRequests };
    const sub = this.sublimits.get(subKey(key));
    if (sub !== undefined) {
      if (sub > now) return { waitMs: sub - now, reason: "sublimit", invalidRequests };
      this.sublimits.delete(subKey(key));
    }
    const b = this.bucket(key, now);
    this.expireLeases(b, now);
    if (b.limit !== null && b.resetAt && now >= b.resetAt) {
      // The window ended: a fresh one holds `limit`, minus whatever is still on its way.
      b.remaining = Math.max(0, b.limit - b.inFlight.length);
      b.resetAt = 0;
    }
    if (!b.unlimited) {
      if (b.limit === null) {
        if (b.inFlight.length > 0) return { waitMs: this.pollMs, reason: "unknown-bucket", invalidRequests, limit: null };
      } else if (b.remaining <= 0) {
        return { waitMs: b.resetAt ? Math.max(1, b.resetAt - now) : this.pollMs, reason: "bucket", invalidRequests, limit: b.limit };
      }
    }
    this.pruneGlobal(now);
    if (this.globalInFlight.length + this.globalDone.length >= this.globalPerSecond) {
      const first = this.globalDone[0];
      return {
        waitMs: first !== undefined ? Math.max(1, first + this.globalWindowMs + this.globalOffsetMs - now) : this.pollMs,
        reason: "global",
        invalidRequests,
        limit: b.limit,
      };
    }
    if (!b.unlimited && b.limit !== null) b.remaining--;
    b.inFlight.push(now + this.leaseMs);
    b.lastUsed = now;
    this.globalInFlight.push(now + this.leaseMs);
    return { waitMs: 0, invalidRequests, limit: b.limit };
  }

  report(key: RouteKey, r: RateLimitReport, now: number): ReportResult {
    if (r.bucket) this.hashes.set(`${key.method}:${key.route}`, r.bucket);
    const b = this.bucket(key, now);
    this.expireLeases(b, now);
    b.inFlight.shift(); // this request's reservation (all leases are alike)
    b.lastUsed = now;
    this.pruneGlobal(now);
    this.globalInFlight.shift();
    this.globalDone.push(now);

    const hasHeaders = r.limit !== null && r.resetAfterMs !== null;
    if (hasHeaders) {
      const wasKnown = b.limit !== null;
      b.unlimited = false;
      b.limit = r.limit;
      const resetAfter = r.resetAfterMs!;
      if (r.remaining !== null && r.remaining >= r.limit! - 1) b.windowMs = Math.max(b.windowMs, resetAfter);
      if (r.bucket) this.hashLimits.set(r.bucket, { limit: r.limit!, windowMs: b.windowMs });
      const newReset = now + resetAfter + this.offsetMs;
      const tolerance = b.windowMs ? b.windowMs / 2 : 25;
      const serverRemaining = Math.max(0, (r.remaining ?? 0) - b.inFlight.length);
      if (wasKnown && !b.resetAt && b.remaining > 0) {
        // First answer of a window we rolled into locally: both counts are upper bounds.
        b.remaining = Math.min(b.remaining, serverRemaining);
        b.resetAt = newReset;
      } else if (!b.resetAt || newReset > b.resetAt + tolerance) {
        // A later window than the one we knew: Discord's count (minus what is in flight) rules.
        b.remaining = serverRemaining;
        b.resetAt = newReset;
      } else if (newReset >= b.resetAt - tolerance) {
        // Same window: answers may arrive out of order, keep the lower count.
        b.remaining = Math.min(b.remaining, serverRemaining);
        b.resetAt = Math.max(b.resetAt, newReset);
      } // else: an answer from an earlier window, arriving late: ignore.
    } else if (r.status >= 200 && r.status < 300 && b.limit === null) {
      b.unlimited = true;
    }

    let counted = false;
    if (r.status === 429) {
      const retryAfter = (r.retryAfterMs ?? r.resetAfterMs ?? 1000) + this.offsetMs;
      if (r.global || r.scope === "global") {
        this.globalBlockedUntil = Math.max(this.globalBlockedUntil, now + retryAfter);
        counted = true;
      } else if (r.scope === "shared") {
        // The resource itself is limited for everyone: wait, but it is not our fault.
        this.sublimits.set(subKey(key), Math.max(this.sublimits.get(subKey(key)) ?? 0, now + retryAfter));
      } else {
        counted = true;
        if (hasHeaders && (r.remaining ?? 0) > 0) {
          // Discord's headers said there was room: a sublimit on this method+route (+major).
          this.sublimits.set(subKey(key), Math.max(this.sublimits.get(subKey(key)) ?? 0, now + retryAfter));
        } else {
          b.remaining = 0;
          if (b.limit === null) b.limit = 1;
          b.resetAt = Math.max(b.resetAt, now + retryAfter);
        }
      }
    } else if (r.status === 401 || r.status === 403) {
      counted = true;
    }
    if (counted) this.countInvalid(now);
    this.lastReportCounted = counted;
    const invalidRequests = this.invalidCount(now);
    let crossed: ReportResult["crossed"];
    if (invalidRequests >= this.invalidStopAt) {
      if (!this.stopped) crossed = "stop";
      this.stopped = true;
      this.warned = true;
    } else if (invalidRequests >= this.invalidWarnAt) {
      if (!this.warned) crossed = "warn";
      this.warned = true;
      this.stopped = false;
    } else {
      this.warned = this.stopped = false;
    }
    return crossed ? { invalidRequests, crossed } : { invalidRequests };
  }

  /** The invalid-request counts, for storage that outlives this instance (a Durable Object's). */
  exportInvalid(): { ids: number[]; counts: number[] } {
    return { ids: [...this.invalidBinIds], counts: [...this.invalidBins] };
  }

  importInvalid(saved: { ids: number[]; counts: number[] } | undefined): void {
    if (!saved || saved.ids.length !== BINS || saved.counts.length !== BINS) return;
    for (let i = 0; i < BINS; i++) {
      this.invalidBinIds[i] = Number(saved.ids[i]) || -1;
      this.invalidBins[i] = Number(saved.counts[i]) || 0;
    }
  }

  /** For tests and diagnostics. */
  snapshot(now: number): { buckets: number; hashes: number; inFlight: number; globalInWindow: number; invalidRequests: number } {
    let inFlight = 0;
    for (const b of this.buckets.values()) inFlight += b.inFlight.length;
    this.pruneGlobal(now);
    return {
      buckets: this.buckets.size,
      hashes: this.hashes.size,
      inFlight,
      globalInWindow: this.globalInFlight.length + this.globalDone.length,
      invalidRequests: this.invalidCount(now),
    };
  }

  private bucket(key: RouteKey, now: number): Bucket {
    const hash = this.hashes.get(`${key.method}:${key.route}`);
    const unknownId = `?${key.method}:${key.route}:${key.majorParameter}`;
    const id = hash ? `${hash}:${key.majorParameter}` : unknownId;
    let b = this.buckets.get(id);
    if (hash) {
      // Requests sent before the hash was known move over to the real bucket.
      const probe = this.buckets.get(unknownId);
      if (probe) {
        this.buckets.delete(unknownId);
        if (!b) b = probe;
        else b.inFlight.push(...probe.inFlight);
        this.buckets.set(id, b);
      }
    }
    if (!b) {
      const known = hash ? this.hashLimits.get(hash) : undefined;
      b = known
        ? { limit: known.limit, remaining: known.limit, resetAt: 0, windowMs: known.windowMs, inFlight: [], unlimited: false, lastUsed: now }
        : { limit: null, remaining: 1, resetAt: 0, windowMs: 0, inFlight: [], unlimited: false, lastUsed: now };
      this.buckets.set(id, b);
    }
    return b;
  }

  private pruneGlobal(now: number): void {
    while (this.globalInFlight.length && this.globalInFlight[0]! <= now) {
      // Never answered (isolate gone?): count it as answered when its lease ran out.
      this.globalDone.push(this.globalInFlight.shift()!);
      this.globalDone.sort((a, b) => a - b);
    }
    const cutoff = now - this.globalWindowMs - this.globalOffsetMs;
    let i = 0;
    while (i < this.globalDone.length && this.globalDone[i]! <= cutoff) i++;
    if (i) this.globalDone.splice(0, i);
  }

  private expireLeases(b: Bucket, now: number): void {
    if (b.inFlight.length && b.inFlight[0]! <= now) b.inFlight = b.inFlight.filter((t) => t > now);
  }

  private binMs(): number {
    return this.invalidWindowMs / BINS;
  }

  private countInvalid(now: number): void {
    const id = Math.floor(now / this.binMs());
    const i = id % BINS;
    if (this.invalidBinIds[i] !== id) {
      this.invalidBinIds[i] = id;
      this.invalidBins[i] = 0;
    }
    this.invalidBins[i]!++;
  }

  private invalidCount(now: number): number {
    const id = Math.floor(now / this.binMs());
    let n = 0;
    for (let i = 0; i < BINS; i++) if (this.invalidBinIds[i]! > id - BINS) n += this.invalidBins[i]!;
    return n;
  }

  /** Forgets idle buckets (at most once a minute). */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [id, b] of this.buckets) {
      if (b.inFlight.length === 0 && now - b.lastUsed > 3_600_000 && (!b.resetAt || b.resetAt < now)) this.buckets.delete(id);
    }
    for (const [k, until] of this.sublimits) if (until < now) this.sublimits.delete(k);
  }
}

const subKey = (k: RouteKey) => `${k.method}:${k.route}:${k.majorParameter}`;
