/**
 * What the routes share when they talk to the GuildHub: a Discord id from the path, checked, and
 * a hub refusal (`RoomOutcome` with ok: false) turned into the Worker's error answer.
 */
import type { Context } from "hono";
import { Snowflake } from "@spell-coven/common";
import { ApiError, type ErrorCode } from "../errors.ts";
import type { RoomOutcome } from "../hub/GuildHub.ts";
import type { AppEnv } from "../middleware/context.ts";

/** The path parameter `name` (channelId, messageId...), which must be a Discord snowflake. */
export function snowflakeParam(c: Context<AppEnv>, name: string): string {
  const value = c.req.param(name) ?? "";
  if (!Snowflake.safeParse(value).success) throw new ApiError("VALIDATION_FAILED", `${name} must be a Discord snowflake.`);
  return value;
}

/** The hub's answer, or its refusal thrown as an ApiError (Retry-After in whole seconds, at least 1). */
export function unwrapOutcome<T>(outcome: RoomOutcome<T>): T {
  if (outcome.ok) return outcome.value;
  const retryAfter = outcome.retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(outcome.retryAfterMs / 1000));
  throw new ApiError(outcome.code as ErrorCode, outcome.message, outcome.details, outcome.status as 400, retryAfter);
}
