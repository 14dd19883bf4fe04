/**
 * Every error answer of the Worker: `{ error: { code, message, requestId, details? } }` with a
 * stable machine code. Routes throw ApiError; the app's onError turns it into JSON.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";

export const ErrorCodes = {
  BAD_REQUEST: 400,
  INVALID_JSON: 400,
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  TOKEN_EXPIRED: 401,
  SIGNATURE_MISSING: 401,
  SIGNATURE_MALFORMED: 401,
  SIGNATURE_INVALID: 401,
  TIMESTAMP_STALE: 401,
  FORBIDDEN: 403,
  ORIGIN_NOT_ALLOWED: 403,
  DISCORD_FORBIDDEN: 403,
  NOT_FOUND: 404,
  DISCORD_NOT_FOUND: 404,
  UNKNOWN_GUILD: 404,
  ROOM_NOT_FOUND: 404,
  ROOM_FULL: 409,
  BOT_BUSY: 409,
  BOT_NOT_AT_TABLE: 404,
  IDEMPOTENCY_IN_PROGRESS: 409,
  INVITE_REQUIRED: 403,
  INVITE_INVALID: 400,
  INVITE_EXPIRED: 410,
  INVITE_WRONG_ROOM: 403,
  NOT_ROOM_CREATOR: 403,
  NOT_ROOM_MEMBER: 403,
  NOT_GUILD_MEMBER: 403,
  DISCORD_ACCOUNT_REQUIRED: 400,
  IDEMPOTENCY_KEY_REUSED: 422,
  UNKNOWN_EMOJI: 400,
  BODY_TOO_LARGE: 413,
  UPGRADE_REQUIRED: 426,
  RATE_LIMITED: 429,
  DISCORD_RATE_LIMITED: 429,
  INTERNAL: 500,
  NOT_CONFIGURED: 500,
  DISCORD_UNAVAILABLE: 502,
  DISCORD_ERROR: 502,
  TURN_UNAVAILABLE: 502,
  BOT_UNAVAILABLE: 503,
} as const satisfies Record<string, ContentfulStatusCode>;
export type ErrorCode = keyof typeof ErrorCodes;

export class ApiError extends Error {
  override name = "ApiError";
  readonly status: ContentfulStatusCode;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    status?: ContentfulStatusCode,
    /** Sent as Retry-After (seconds) with 429 and 409-in-progress answers. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.status = status ?? ErrorCodes[code];
  }
}

export function errorBody(code: string, message: string, requestId: string, details?: unknown) {
  return { error: { code, message, requestId, ...(details === undefined ? {} : { details }) } };
}
