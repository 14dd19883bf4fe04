/**
 * DiscordRateLimiter: the bot's Discord REST rate-limit state, shared by every isolate of the
 * Worker. One object per bot (`idFromName("bot")`); DurableObjectCoordinator calls `acquire`
 * before each attempt and `report` after it, over RPC. Single-threaded by construction, so the
 * state needs no locks.
 *
 * Bucket state is kept in memory only: its windows last seconds, and after an eviction the
 * client re-learns them from the next answers (one probe per bucket). The invalid-request
 * counts (10-minute window, Discord bans the IP at 10,000) are written to storage on change so
 * the guard survives an eviction.
 *
 * Wiring (wrangler.toml):
 *   [[durable_objects.bindings]]
 *   name = "DISCORD_RATE_LIMITER"
 *   class_name = "DiscordRateLimiter"
 *   [[migrations]]  tag = "v2"  new_sqlite_classes = ["DiscordRateLimiter"]
 * and in worker/src/index.ts: export { DiscordRateLimiter } from "./ratelimit/DiscordRateLimiter.ts";
 */
import { DurableObject } from "cloudflare:workers";
import {
  RateLimitState,
  type AcquireResult,
  type RateLimitReport,
  type RateLimitStateOptions,
  type ReportResult,
  type RouteKey,
} from "@spell-coven/common/rest";

/** Optional tuning through vars (all numbers as strings, like every wrangler var). */
export interface DiscordRateLimiterEnv {
  /** Requests per second for the bot (Discord: 50). */
  DISCORD_GLOBAL_RATE_LIMIT?: string;
  /** WARN from this many 401/403/429 in 10 minutes (default 5000). */
  DISCORD_INVALID_REQUEST_WARN_AT?: string;
  /** Refuse to send from this many (default 9000; Discord's ban: 10,000). */
  DISCORD_INVALID_REQUEST_STOP_AT?: string;
}

const INVALID_KEY = "invalid-requests";

/** The synchronous KV of a SQLite-backed Durable Object (ctx.storage.kv), or a stand-in in tests. */
export interface KvLike {
  get<T = unknown>(key: string): T | undefined;
  put<T>(key: string, value: T): void;
}

/**
 * The object's logic without the Durable Object shell, so it can be tested on its own: the
 * shared RateLimitState plus persistence of the invalid-request counts.
 */
export class RateLimiterCore {
  private state: RateLimitState;

  constructor(
    private readonly kv: KvLike | null,
    private readonly env: DiscordRateLimiterEnv = {},
  ) {
    this.state = new RateLimitState(optionsFromEnv(env));
    this.state.importInvalid(this.load());
  }

  acquire(key: RouteKey, now = Date.now()): AcquireResult {
    return this.state.acquire(checkKey(key), now);
  }

  report(key: RouteKey, info: RateLimitReport, now = Date.now()): ReportResult {
    const r = this.state.report(checkKey(key), checkReport(info), now);
    if (this.state.lastReportCounted) this.save();
    return r;
  }

  configure(options: RateLimitStateOptions): void {
    this.state = new RateLimitState({ ...optionsFromEnv(this.env), ...options });
    this.save();
  }

  snapshot(now = Date.now()): ReturnType<RateLimitState["snapshot"]> {
    return this.state.snapshot(now);
  }

  private load(): { ids: number[]; counts: number[] } | undefined {
    try {
      return this.kv?.get<{ ids: number[]; counts: number[] }>(INVALID_KEY);
    } catch {
      return undefined; // without storage the guard only lives in memory
    }
  }

  private save(): void {
    try {
      this.kv?.put(INVALID_KEY, this.state.exportInvalid());
    } catch {
      /* see load() */
    }
  }
}

export class DiscordRateLimiter extends DurableObject<DiscordRateLimiterEnv> {
  private readonly core: RateLimiterCore;

  constructor(ctx: DurableObjectState, env: DiscordRateLimiterEnv) {
    super(ctx, env);
    let kv: KvLike | null = null;
    try {
      kv = ctx.storage.kv;
    } catch {
      kv = null;
    }
    this.core = new RateLimiterCore(kv, env ?? {});
  }

  /** Reserve a slot for one attempt (see RateLimitCoordinator.acquire). */
  acquire(key: RouteKey): AcquireResult {
    return this.core.acquire(key);
  }

  /** The attempt's answer (see RateLimitCoordinator.report). */
  report(key: RouteKey, info: RateLimitReport): ReportResult {
    return this.core.report(key, info);
  }

  /** Starts over with fresh state under new options (tests, operations). */
  configure(options: RateLimitStateOptions): void {
    this.core.configure(options);
  }

  /** Counters for health pages and tests. */
  snapshot(): ReturnType<RateLimitState["snapshot"]> {
    return this.core.snapshot();
  }
}

function optionsFromEnv(env: DiscordRateLimiterEnv): RateLimitStateOptions {
  const n = (v: string | undefined) => (v !== undefined && v !== "" && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : undefined);
  const o: RateLimitStateOptions = {};
  const g = n(env.DISCORD_GLOBAL_RATE_LIMIT);
  const w = n(env.DISCORD_INVALID_REQUEST_WARN_AT);
  const s = n(env.DISCORD_INVALID_REQUEST_STOP_AT);
  if (g) o.globalPerSecond = g;
  if (w) o.invalidWarnAt = w;
  if (s) o.invalidStopAt = s;
  return o;
}

/** RPC input is untrusted in shape: keep the keys small strings. */
function checkKey(key: RouteKey): RouteKey {
  const s = (v: unknown) => (typeof v === "string" ? v.slice(0, 200) : "");
  return { method: s(key?.method), route: s(key?.route), majorParameter: s(key?.majorParameter) || "global" };
}

function checkReport(r: RateLimitReport): RateLimitReport {
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  return {
    status: n(r?.status) ?? 0,
    bucket: typeof r?.bucket === "string" ? r.bucket.slice(0, 100) : null,
    limit: n(r?.limit),
    remaining: n(r?.remaining),
    resetAfterMs: n(r?.resetAfterMs),
    retryAfterMs: n(r?.retryAfterMs),
    global: r?.global === true,
    scope: typeof r?.scope === "string" ? r.scope.slice(0, 20) : null,
  };
}
