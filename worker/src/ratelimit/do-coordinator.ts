/**
 * DurableObjectCoordinator: the RateLimitCoordinator the Worker passes to DiscordRestClient so
 * every isolate shares one rate-limit state (the DiscordRateLimiter object of the bot).
 *
 *   new DiscordRestClient({ token, coordinator: DurableObjectCoordinator.forBot(env.DISCORD_RATE_LIMITER) })
 *
 * Each call takes a fresh stub (cheap, local), so a coordinator can outlive the request that
 * made it and a stub broken by an exception is never reused. If the object cannot be reached,
 * the client falls back to its own in-memory state for that attempt (and logs a warning), so
 * Discord calls keep working.
 */
import type { AcquireResult, RateLimitCoordinator, RateLimitReport, ReportResult, RouteKey } from "@spell-coven/common/rest";
import type { DiscordRateLimiter } from "./DiscordRateLimiter.ts";

export class DurableObjectCoordinator implements RateLimitCoordinator {
  private readonly id: DurableObjectId;

  constructor(
    private readonly namespace: DurableObjectNamespace<DiscordRateLimiter>,
    name = "bot",
  ) {
    this.id = namespace.idFromName(name);
  }

  /** One object per bot: `idFromName(name)`, "bot" by default. */
  static forBot(namespace: DurableObjectNamespace<DiscordRateLimiter>, name = "bot"): DurableObjectCoordinator {
    return new DurableObjectCoordinator(namespace, name);
  }

  async acquire(key: RouteKey): Promise<AcquireResult> {
    return (await this.stub().acquire(key)) as AcquireResult;
  }

  async report(key: RouteKey, info: RateLimitReport): Promise<ReportResult> {
    return (await this.stub().report(key, info)) as ReportResult;
  }

  private stub(): DurableObjectStub<DiscordRateLimiter> {
    return this.namespace.get(this.id);
  }
}
