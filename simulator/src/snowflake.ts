/**
 * Snowflakes minted by the simulator. Real timestamps matter: shard routing uses
 * (id >> 22) % shard_count, so ids minted at different times spread across shards as on Discord.
 * The arithmetic itself lives in common/src/snowflake.ts.
 */
import { isSnowflake, shardIdFor, snowflakeAt } from "@spell-coven/common";

let increment = 0;

export function snowflake(now: number = Date.now()): string {
  increment = (increment + 1) & 0xfff;
  return snowflakeAt(now, increment);
}

/** The shard a guild's events go to. */
export const shardOf = shardIdFor;

export { isSnowflake };
