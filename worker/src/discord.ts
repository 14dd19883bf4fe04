/**
 * The Worker's Discord REST client (one per isolate and configuration) and the mapping of its
 * errors onto the Worker's own error answers.
 */
import { DiscordApiError, DiscordInputError, DiscordRestClient, DiscordRestError } from "@spell-coven/common/rest";
import { ApiError } from "./errors.ts";
import { DurableObjectCoordinator } from "./ratelimit/do-coordinator.ts";
import type { Logger } from "@spell-coven/common";
import type { Config, Env } from "./env.ts";

const clients = new WeakMap<object, DiscordRestClient>();

/** One client per isolate and configuration (the rate-limit state it consults is shared anyway). */
export function discordClient(env: Env, config: Config, log: Logger): DiscordRestClient {
  if (!config.DISCORD_BOT_TOKEN) throw new ApiError("NOT_CONFIGURED", "DISCORD_BOT_TOKEN is not set on the Worker; rooms cannot be managed.");
  let client = clients.get(config);
  if (!client) {
    client = new DiscordRestClient({
      token: config.DISCORD_BOT_TOKEN,
      apiBase: config.DISCORD_API_BASE,
      maxRetries: config.MAX_API_RETRIES,
      logger: log.child({ component: "discord-rest", requestId: undefined }),
      // Every isolate asks the bot's one rate-limit object before sending, so a burst spread
      // over many isolates still respects Discord's buckets and global limit.
      coordinator: DurableObjectCoordinator.forBot(env.DISCORD_RATE_LIMITER),
    });
    clients.set(config, client);
  }
  return client;
}

/**
 * The bot's user id: configured, or read from the token (a bot token's first segment is its user
 * id in base64). Null when neither gives a snowflake (the simulator's token, for example).
 */
export function botUserId(config: Config): string | null {
  if (config.DISCORD_BOT_USER_ID) return config.DISCORD_BOT_USER_ID;
  try {
    const id = atob((config.DISCORD_BOT_TOKEN ?? "").split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/"));
    return /^\d{17,20}$/.test(id) ? id : null;
  } catch {
    return null;
  }
}

/** True for Discord's "not found": deleting something already gone counts as done. */
export const isNotFound = (err: unknown) => err instanceof DiscordApiError && err.status === 404;

/** Turns a REST client failure into a clear answer for the player. */
export function toApiError(err: unknown, action: string): ApiError {
  if (err instanceof DiscordInputError) return new ApiError("VALIDATION_FAILED", err.message, err.issues);
  if (err instanceof DiscordApiError) {
    if (err.status === 404) return new ApiError("DISCORD_NOT_FOUND", `Discord could not ${action}: it does not exist (or was already deleted).`);
    if (err.status === 403) return new ApiError("DISCORD_FORBIDDEN", `Discord refused to ${action}: the bot lacks permission (Manage Channels) in this guild.`);
    if (err.status === 400) return new ApiError("VALIDATION_FAILED", `Discord rejected the request to ${action}.`, err.fieldErrors);
    if (err.status === 429 || err.status >= 500) {
      return new ApiError(
        "DISCORD_UNAVAILABLE",
        `Discord is unavailable or rate limiting; could not ${action} after ${err.attempts} attempts. Try again shortly.`,
      );
    }
    return new ApiError("DISCORD_ERROR", `Discord answered HTTP ${err.status} when trying to ${action}.`);
  }
  if (err instanceof DiscordRestError) return new ApiError("DISCORD_UNAVAILABLE", `Discord could not be reached to ${action}: ${err.message}`);
  throw err;
}
