/**
 * Where the bot's rate-limit state lives. DiscordRestClient asks `acquire` before each attempt
 * and tells `report` what came back; everything in between is the coordinator's business:
 *
 * - MemoryCoordinator: one process / one isolate (the default).
 * - DurableObjectCoordinator (worker/src/ratelimit): every isolate of the Worker shares one
 *   Durable Object per bot.
 * - HttpCoordinator (./http-coordinator.ts): several Node processes share one small server.
 *
 * All of them run the same rules (RateLimitState).
 */
import type { RouteKey } from "./routes.ts";
import { RateLimitState, type AcquireResult, type RateLimitReport, type RateLimitStateOptions, type ReportResult } from "./state.ts";

export type { RouteKey } from "./routes.ts";
export type { AcquireResult, RateLimitReport, ReportResult, RateLimitStateOptions, WaitReason } from "./state.ts";

export interface RateLimitCoordinator {
  /**
   * Reserve a slot for one attempt of `key`. `waitMs === 0`: send now, then call `report` exactly
   * once. Otherwise wait `waitMs` and ask again (or fail, when `blocked`).
   */
  acquire(key: RouteKey): Promise<AcquireResult>;
  /** What the attempt's answer said (status 0 = no answer). Releases the reservation. */
  report(key: RouteKey, info: RateLimitReport): Promise<ReportResult>;
}

export class MemoryCoordinator implements RateLimitCoordinator {
  readonly state: RateLimitState;
  constructor(
    opts: RateLimitStateOptions = {},
    private readonly now: () => number = () => Date.now(),
  ) {
    this.state = new RateLimitState(opts);
  }
  acquire(key: RouteKey): Promise<AcquireResult> {
    return Promise.resolve(this.state.acquire(key, this.now()));
  }
  report(key: RouteKey, info: RateLimitReport): Promise<ReportResult> {
    return Promise.resolve(this.state.report(key, info, this.now()));
  }
}
