/**
 * Discord-style snowflakes: (ms since 2015-01-01) << 22 | worker << 17 | process << 12 | increment.
 * Real timestamps matter: shard routing uses (id >> 22) % shard_count, so ids minted at different
 * times spread across shards the way they do on Discord.
 */
export const DISCORD_EPOCH = 1_420_070_400_000n;

let increment = 0n;

export function snowflake(now: number = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(now) - DISCORD_EPOCH) << 22n) | (1n << 17n) | increment).toString();
}

/** The shard a guild's events go to (Discord: shard_id = (guild_id >> 22) % num_shards). */
export function shardOf(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

export function isSnowflake(value: unknown): value is string {
  return typeof value === "string" && /^\d{1,20}$/.test(value);
}
