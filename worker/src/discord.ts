/**
 * The Worker's Discord REST client (one per isolate and configuration) and the mapping of its
 * errors onto the Worker's own error answers.
 */
import type { Context } from "hono";
import { DiscordApiError, DiscordInputError, DiscordRestClient, DiscordRestError } from "@spell-coven/common/rest/index";
import { ApiError } from "./errors.ts";
import { DurableObjectCoordinator } from "./ratelimit/do-coordinator.ts";
import type { AppEnv } from "./middleware/context.ts";

const clients = new WeakMap<object, DiscordRestClient>();

export function discordClient(c: Context<AppEnv>): DiscordRestClient {
  const config = c.get("config");
  if (!config.DISCORD_BOT_TOKEN) throw new ApiError("NOT_CONFIGURED", "DISCORD_BOT_TOKEN is not set on the Worker; rooms cannot be created.");
  let client = clients.get(config);
  if (!client) {
    client = new DiscordRestClient({
      token: config.DISCORD_BOT_TOKEN,
      apiBase: config.DISCORD_API_BASE,
      maxRetries: config.MAX_API_RETRIES,
      logger: c.get("log").child({ component: "discord-rest", requestId: undefined }),
      // Every isolate asks the bot's one rate-limit object before sending, so a burst spread
      // over many isolates still respects Discord's buckets and global limit.
      coordinator: DurableObjectCoordinator.forBot(c.env.DISCORD_RATE_LIMITER),
    });
    clients.set(config, client);
  }
  return client;
}

/** Turns a REST client failure into a clear answer for the player. */
export function toApiError(err: unknown, action: string): ApiError {
  if (err instanceof DiscordInputError) return new ApiError("VALIDATION_FAILED", err.message, err.issues);
  if (err instanceof DiscordApiError) {
    if (err.status === 404) return new ApiError("DISCORD_NOT_FOUND", `Discord could not ${action}: it does not exist (or was already deleted).`);
    if (err.status === 403) return new ApiError("DISCORD_FORBIDDEN", `Discord refused to ${action}: the bot lacks permission (Manage Channels) in this guild.`);
    if (err.status === 400) return new ApiError("VALIDATION_FAILED", `Discord rejected the request to ${action}.`, err.fieldErrors);
    if (err.status === 429 || err.status >= 500) {
      return new ApiError("DISCORD_UNAVAILABLE", `Discord is unavailable or rate limiting; could not ${action} after ${err.attempts} attempts. Try again shortly.`);
    }
    return new ApiError("DISCORD_ERROR", `Discord answered HTTP ${err.status} when trying to ${action}.`);
  }
  if (err instanceof DiscordRestError) return new ApiError("DISCORD_UNAVAILABLE", `Discord could not be reached to ${action}: ${err.message}`);
  throw err;
}
