/**
 * Discord snowflakes, defined once for the Worker, the sidecars and the simulator: the schema
 * that validates them on the wire, the epoch, and the shard routing rule.
 *
 * A snowflake is (ms since 2015-01-01) << 22 | worker << 17 | process << 12 | increment.
 */
import { z } from "zod";

/** Discord snowflake: a decimal string of up to 20 digits (64-bit unsigned). */
export const Snowflake = z.string().regex(/^\d{1,20}$/, "must be a Discord snowflake (a string of digits)");

/** Unix ms of Discord's epoch (2015-01-01T00:00:00Z), as a BigInt for snowflake arithmetic. */
export const DISCORD_EPOCH_MS = 1_420_070_400_000n;

/** Default REST base (`DISCORD_API_BASE`), the same for the Worker and gateway-node. */
export const DEFAULT_DISCORD_API_BASE = "https://discord.com/api/v10";

/**
 * The `User-Agent` Discord asks bots to send (`DiscordBot ($url, $versionNumber)`): on every REST
 * call and on the Gateway WebSocket upgrade (some gateway servers refuse an upgrade without one).
 */
export const DISCORD_USER_AGENT = "DiscordBot (https://github.com/spell-coven/gateway, 0.1.0)";

/** True for a decimal string that can be a snowflake. */
export function isSnowflake(value: unknown): value is string {
  return typeof value === "string" && /^\d{1,20}$/.test(value);
}

/** Unix ms at which the snowflake was minted. */
export function snowflakeTimestamp(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH_MS);
}

/** A snowflake for `now` (the simulator mints ids this way; real timestamps spread shards as on Discord). */
export function snowflakeAt(now: number, increment: number, worker = 1): string {
  return (((BigInt(now) - DISCORD_EPOCH_MS) << 22n) | (BigInt(worker & 0x1f) << 17n) | BigInt(increment & 0xfff)).toString();
}

/** The shard that carries a guild's events: `shard_id = (guild_id >> 22) % num_shards`, computed on BigInt. */
export function shardIdFor(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}
