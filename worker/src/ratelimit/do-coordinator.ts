/**
 * DurableObjectCoordinator: the RateLimitCoordinator the Worker passes to DiscordRestClient so
 * every isolate shares one rate-limit state (the DiscordRateLimiter object of the bot).
 *
 *   new DiscordRestClient({ token, coordinator: DurableObjectCoordinator.forBot(env.DISCORD_RATE_LIMITER) })
 *
 * If the object cannot be reached, the client falls back to its own in-memory state for that
 * attempt (and logs a warning), so Discord calls keep working.
 */
import type { AcquireResult, RateLimitCoordinator, RateLimitReport, ReportResult, RouteKey } from "@spell-coven/common/rest/index";
import type { DiscordRateLimiter } from "./DiscordRateLimiter.ts";

export class DurableObjectCoordinator implements RateLimitCoordinator {
  private stub: DurableObjectStub<DiscordRateLimiter>;

  constructor(
    private readonly namespace: DurableObjectNamespace<DiscordRateLimiter>,
    private readonly name = "bot",
  ) {
    this.stub = this.fresh();
  }

  /** One object per bot: `idFromName(name)`, "bot" by default. */
  static forBot(namespace: DurableObjectNamespace<DiscordRateLimiter>, name = "bot"): DurableObjectCoordinator {
    return new DurableObjectCoordinator(namespace, name);
  }

  async acquire(key: RouteKey): Promise<AcquireResult> {
    return (await this.call((s) => s.acquire(key))) as AcquireResult;
  }

  async report(key: RouteKey, info: RateLimitReport): Promise<ReportResult> {
    return (await this.call((s) => s.report(key, info))) as ReportResult;
  }

  private fresh(): DurableObjectStub<DiscordRateLimiter> {
    return this.namespace.get(this.namespace.idFromName(this.name));
  }

  /** A stub that threw may be broken: the next call gets a new one. */
  private async call<T>(fn: (stub: DurableObjectStub<DiscordRateLimiter>) => Promise<T>): Promise<T> {
    try {
      return await fn(this.stub);
    } catch (err) {
      this.stub = this.fresh();
      throw err;
    }
  }
}
