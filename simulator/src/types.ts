/**
 * The simulator's in-process API: what `npm start`, the tests of every package and the HTTP
 * control surface (which mirrors these methods one to one) use to script a Discord world.
 * Everything listens on loopback only.
 */
import type { APIChannel, APIMessage, APIVoiceState, GatewayIntentBits } from "discord-api-types/v10";

export interface SimulatorOptions {
  /** Port for HTTP (REST, control, JWKS) and the gateway WebSocket. 0 (default) picks a free one. */
  port?: number;
  /** Loopback address to bind. Default 127.0.0.1. */
  host?: string;
  /** The only bot token the simulator accepts. Default `DEFAULT_BOT_TOKEN`, shaped like a real token with the bot's id in it. */
  botToken?: string;
  /** Hello's heartbeat_interval. Default 41_250 (Discord's). Tests use small values. */
  heartbeatIntervalMs?: number;
  /** `shards` returned by GET /gateway/bot. Default 1. */
  recommendedShards?: number;
  /** session_start_limit.max_concurrency. Default 1. */
  maxConcurrency?: number;
  /** session_start_limit.total / remaining. Default 1000. */
  sessionStartLimit?: number;
  /** How long a disconnected session stays resumable. Default 120_000 ms. */
  resumeWindowMs?: number;
  /** Intents the bot may use; privileged ones not listed here close with 4014. Default: all non-privileged plus MessageContent. */
  allowedIntents?: number;
  /** Create the demo world (one guild "Spell Coven", voice channels, a few users). Default true. */
  seed?: boolean;
  /** Identity provider settings for development JWTs. */
  jwt?: {
    issuer?: string;
    audience?: string;
    /**
     * The RS256 private key (JWK, with `kid`) to sign with, so tokens stay valid across restarts
     * (`npm start` keeps one in its run directory). Default: a fresh key per start.
     */
    signingKey?: import("jose").JWK;
  };
  /** REST rate limits; see RateLimitConfig. */
  rateLimits?: Partial<RateLimitConfig>;
}

/**
 * Ways this gateway can misbehave like other servers have been seen to (issue 17), switched on
 * with `setFaults`. All off by default: the simulator then behaves as Discord documents.
 */
export interface GatewayFaults {
  /** Answer a WebSocket upgrade without a `User-Agent: DiscordBot (...)` header with HTTP 400. */
  requireUserAgent: boolean;
  /** Answer every Resume (op 6) with op 9 d:false, as a gateway that lost its sessions would. */
  invalidateResumes: boolean;
  /** Hand out the same session_id on every identify (the first one handed out). */
  reuseSessionIds: boolean;
  /** Number dispatches from 1 again on each new connection of a session (after a resume). */
  restartSeqOnResume: boolean;
}

export interface RateLimitConfig {
  /** Requests per second across all routes for the bot (Discord: 50). */
  globalPerSecond: number;
  /** Per-route bucket: requests allowed per window. */
  routeLimit: number;
  /** Per-route bucket window in ms. */
  routeWindowMs: number;
  /** Reactions (PUT/DELETE .../reactions/:emoji/@me): what the headers announce per channel. Discord: 1 per 1000 ms. */
  reactionLimit: number;
  reactionWindowMs: number;
  /**
   * The real reaction limit, stricter than the headers in one way: it holds per bot across every
   * channel (discord-api-docs#182, #395): at most one reaction per this many ms. Discord: 250.
   */
  reactionIntervalMs: number;
}

export interface SimGuild {
  id: string;
  name: string;
}
export interface SimUser {
  id: string;
  username: string;
  bot?: boolean;
}

/** A REST request as the simulator received it, for assertions. */
export interface RecordedRequest {
  method: string;
  path: string; // e.g. "/api/v10/guilds/123/channels"
  query: string;
  body: unknown;
  auditLogReason: string | null; // decoded X-Audit-Log-Reason
  status: number; // what the simulator answered
  at: number; // Date.now() when received
  bucket: string | null;
}

export interface Simulator {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** `${url}/api/v10`: use as DISCORD_API_BASE. */
  readonly apiBase: string;
  /** ws://127.0.0.1:<port>/gateway (what GET /gateway/bot returns as `url`). */
  readonly gatewayUrl: string;
  /** `${url}/.well-known/jwks.json`: use as JWT_PUBLIC_JWK_URL. */
  readonly jwksUrl: string;
  readonly botToken: string;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  close(): Promise<void>;

  // ---- the world ----
  addGuild(guild: { id?: string; name: string }): SimGuild;
  addUser(user: { id?: string; username: string }): SimUser;
  /** Creates a channel as if done in Discord's UI: dispatches CHANNEL_CREATE. */
  addChannel(guildId: string, channel: { id?: string; name: string; type: number; parentId?: string; userLimit?: number }): APIChannel;
  /** Deletes a channel as if done in Discord's UI: dispatches CHANNEL_DELETE (and voice leaves). */
  deleteChannel(channelId: string): void;
  guilds(): SimGuild[];
  users(): SimUser[];
  channels(guildId: string): APIChannel[];
  voiceStates(guildId: string): APIVoiceState[];
  /** Join or move: dispatches VOICE_STATE_UPDATE with the full voice state (with `member`). */
  joinVoice(guildId: string, userId: string, channelId: string): void;
  leaveVoice(guildId: string, userId: string): void;
  /** Fault switch: take permissions (a bitfield, e.g. PermissionFlagsBits.MoveMembers) from the bot in a guild; 0n gives them back. */
  denyBotPermissions(guildId: string, permissions: bigint): void;
  /** Mute/deafen toggles: a VOICE_STATE_UPDATE that is not a join. */
  setVoiceFlags(guildId: string, userId: string, flags: { selfMute?: boolean; selfDeaf?: boolean }): void;
  /** Server mute / deafen by a moderator (as PATCH /guilds/:id/members/:id `mute` / `deaf` does): a VOICE_STATE_UPDATE that is not a join. */
  setServerVoiceFlags(guildId: string, userId: string, flags: { mute?: boolean; deaf?: boolean }): void;
  /** A user posts in a channel (text in voice channels too); MESSAGE_CREATE follows. */
  postMessage(channelId: string, userId: string, content: string, opts?: { nonce?: string }): APIMessage;
  /** Edits any message (MESSAGE_UPDATE). */
  editMessage(channelId: string, messageId: string, content: string): APIMessage;
  deleteMessage(channelId: string, messageId: string): void;
  /** 2-100 messages of one channel (MESSAGE_DELETE_BULK). */
  bulkDeleteMessages(channelId: string, messageIds: string[]): void;
  /** `emoji`: one unicode emoji or `name:id`. */
  addReaction(channelId: string, messageId: string, userId: string, emoji: string): void;
  removeReaction(channelId: string, messageId: string, userId: string, emoji: string): void;
  /** TYPING_START for a user. */
  startTyping(channelId: string, userId: string): void;
  /** The channel's stored messages, oldest first. */
  messages(channelId: string): APIMessage[];

  // ---- gateway faults (shardId omitted = every connection) ----
  /** Destroys the TCP socket with no close frame. */
  dropConnections(shardId?: number): void;
  /** Stop (true) or resume (false) acknowledging heartbeats. */
  setZombie(on: boolean, shardId?: number): void;
  /** Sends op 1 (heartbeat request). */
  requestHeartbeat(shardId?: number): void;
  /** Sends op 7 Reconnect. */
  sendReconnect(shardId?: number): void;
  /** Sends op 9 with d = resumable (and, when false, forgets the session). */
  sendInvalidSession(resumable: boolean, shardId?: number): void;
  /** Closes with any code and reason. */
  closeWith(code: number, reason?: string, shardId?: number): void;
  /**
   * Misbehaviours seen on other gateway servers, all off by default: `requireUserAgent` (an upgrade
   * without `User-Agent: DiscordBot (...)` gets HTTP 400), `invalidateResumes` (every resume gets
   * op 9 d:false), `reuseSessionIds` (every identify gets the same session_id),
   * `restartSeqOnResume` (dispatches are numbered from 1 again after a resume). Returns the switches now.
   */
  setGatewayFaults(faults: Partial<GatewayFaults>): GatewayFaults;
  /** A gateway server restart: sockets drop, every session is forgotten (resumes get op 9 d:false). */
  restartGateway(): void;
  /** Goes down: closes every gateway connection and refuses new ones and REST calls (503) until comeBack(). */
  goDown(): void;
  comeBack(): void;
  /** Counts of gateway activity, for assertions. */
  gatewayStats(): { connections: number; identifies: number; resumes: number; heartbeats: number; dispatches: number };

  // ---- REST ----
  setRateLimits(limits: Partial<RateLimitConfig>): void;
  /** Makes the next `count` REST calls (optionally matching a path regex) answer `status` (e.g. 500, 502, 429). */
  failNext(count: number, status: number, match?: RegExp, retryAfterSeconds?: number): void;
  /**
   * Applies the next `count` REST calls (optionally matching `METHOD /path`), then answers `status`
   * instead of the result, or drops the connection unanswered when `status` is 0: a write that was
   * made although the caller saw it fail.
   */
  failAfterApplying(count: number, status: number, match?: RegExp): void;
  /** Every REST request received, oldest first. */
  requests(): RecordedRequest[];
  clearRequests(): void;

  // ---- identity provider ----
  /** Mints a development JWT (RS256, kid in the JWKS) for a simulated user. */
  mintToken(userId: string, opts?: { expiresInSeconds?: number; audience?: string; issuer?: string }): Promise<string>;
}

export type { GatewayIntentBits };
