/**
 * What to do for each Gateway close code (Discord "Gateway Close Event Codes"): an explicit case
 * per GatewayCloseCodes member, so a new member added to discord-api-types shows up here.
 */
import { GatewayCloseCodes } from "discord-api-types/gateway/v10";
import { ExitCode } from "@spell-coven/sidecar-kit";

export type CloseAction = { kind: "resume"; why: string } | { kind: "identify"; why: string } | { kind: "fatal"; why: string; fix: string };

/** Codes this client uses itself to close without invalidating the session (not 1000/1001). */
export const CLIENT_CLOSE_RESUME = 4900;
export const CLIENT_CLOSE_NEW_SESSION = 4901;

export function closeAction(code: number, opts: { shardId?: number; shardCount?: number; intents?: number } = {}): CloseAction {
  switch (code as GatewayCloseCodes) {
    case GatewayCloseCodes.UnknownError:
      return { kind: "resume", why: "4000 Unknown error" };
    case GatewayCloseCodes.UnknownOpcode:
      return { kind: "resume", why: "4001 Unknown opcode (we sent an invalid opcode)" };
    case GatewayCloseCodes.DecodeError:
      return { kind: "resume", why: "4002 Decode error (we sent an invalid or over-4096-byte payload)" };
    case GatewayCloseCodes.NotAuthenticated:
      return { kind: "resume", why: "4003 Not authenticated (a payload before identify, or the session was invalidated)" };
    case GatewayCloseCodes.AlreadyAuthenticated:
      return { kind: "resume", why: "4005 Already authenticated (identify sent twice)" };
    case GatewayCloseCodes.RateLimited:
      return { kind: "resume", why: "4008 Rate limited (more than 120 sends per 60 s)" };
    case GatewayCloseCodes.InvalidSeq:
      return { kind: "identify", why: "4007 Invalid seq: a new session is required" };
    case GatewayCloseCodes.SessionTimedOut:
      return { kind: "identify", why: "4009 Session timed out: a new session is required" };
    case GatewayCloseCodes.AuthenticationFailed:
      return {
        kind: "fatal",
        why: "4004 Authentication failed: Discord rejected DISCORD_BOT_TOKEN",
        fix: "Set DISCORD_BOT_TOKEN to the bot's current token (Developer Portal > your application > Bot > Reset Token); the token may have been reset or copied wrongly.",
      };
    case GatewayCloseCodes.InvalidShard:
      return {
        kind: "fatal",
        why: `4010 Invalid shard: shard ${opts.shardId ?? "?"} of ${opts.shardCount ?? "?"} is not valid`,
        fix: "Fix SHARD_IDS / SHARD_COUNT (every id below the count; large bots need a count that is a multiple of Discord's assigned number) or unset them to use Discord's recommendation.",
      };
    case GatewayCloseCodes.ShardingRequired:
      return {
        kind: "fatal",
        why: `4011 Sharding required: too many guilds for ${opts.shardCount ?? "?"} shard(s)`,
        fix: "Unset SHARD_COUNT (gateway-node then uses Discord's recommended count) or raise it (at most 2,500 guilds per shard) and run the extra shards.",
      };
    case GatewayCloseCodes.InvalidAPIVersion:
      return {
        kind: "fatal",
        why: "4012 Invalid API version",
        fix: "gateway-node speaks Gateway v10; check DISCORD_API_BASE (it must end in /api/v10) and that the gateway URL from GET /gateway/bot is Discord's.",
      };
    case GatewayCloseCodes.InvalidIntents:
      return {
        kind: "fatal",
        why: `4013 Invalid intents (${opts.intents ?? "?"})`,
        fix: "The intents value is not valid for Discord; this is a gateway-node bug or an unexpected ENABLE_MESSAGE_EVENTS value. Unset ENABLE_MESSAGE_EVENTS and report the intents in this log line.",
      };
    case GatewayCloseCodes.DisallowedIntents:
      return {
        kind: "fatal",
        why: `4014 Disallowed intents (${opts.intents ?? "?"}): a privileged intent is not enabled for this bot`,
        fix: "Enable the Message Content intent in the Developer Portal (your application > Bot > Privileged Gateway Intents), or set MESSAGE_CONTENT_INTENT=false; bots in 10,000+ users need Discord's approval for it.",
      };
    default:
      // 1000/1001 from the server, 1006 (no close frame), our own 4900, unknown codes: try to
      // resume; an invalid session answers op 9 d:false and we identify then.
      return { kind: "resume", why: `close code ${code}` };
  }
}

/**
 * Why a shard or the manager gives up. `exitCode` is the sidecar kit's: ExitCode.Transient
 * (restart me) or ExitCode.ConfigRejected (Discord rejected the configuration: fix it first).
 */
export class GatewayFatalError extends Error {
  constructor(
    readonly code: number | string,
    why: string,
    readonly fix: string,
    readonly exitCode: number = ExitCode.Transient,
  ) {
    super(`${why}. ${fix}`);
    this.name = "GatewayFatalError";
  }
}
