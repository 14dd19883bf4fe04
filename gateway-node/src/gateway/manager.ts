/**
 * Starts the shards of this process: GET /gateway/bot for the URL, the recommended shard count
 * and session_start_limit; refuses to start when the limit cannot cover the shards; spawns one
 * Shard per id (several per process) sharing one identify throttle.
 */
import { GatewayIntentBits } from "discord-api-types/gateway/v10";
import { DISCORD_USER_AGENT, shardIdFor, type Logger } from "@spell-coven/common";
import { DiscordApiError, DiscordRestClient } from "@spell-coven/common/rest";
import { ExitCode, fetchOverHttp, httpRequest, type HttpRequest } from "@spell-coven/sidecar-kit";
import type { GatewayNodeConfig } from "../config.ts";
import type { Metrics } from "../metrics.ts";
import { GatewayFatalError } from "./close-codes.ts";
import { IdentifyThrottle, SessionStartLimitError, type SessionStartLimit } from "./identify-throttle.ts";
import { Shard, type DispatchHandler, type ShardInfo } from "./shard.ts";

export interface GatewayBotInfo {
  url: string;
  shards: number;
  session_start_limit: SessionStartLimit;
}

/** GUILDS | GUILD_VOICE_STATES, plus GUILD_MESSAGES | MESSAGE_CONTENT when message events are on. */
/**
 * Guilds and voice states always; with message events the guild message, reaction and typing
 * dispatches; MESSAGE_CONTENT (privileged: close 4014 unless enabled in the Developer Portal) only
 * when the deployment says it has it. Without it other people's message content arrives empty.
 */
export function intentsFor(enableMessageEvents: boolean, messageContent = false): number {
  const I = GatewayIntentBits;
  const messages = enableMessageEvents ? I.GuildMessages | I.GuildMessageReactions | I.GuildMessageTyping | (messageContent ? I.MessageContent : 0) : 0;
  return I.Guilds | I.GuildVoiceStates | messages;
}

/** Discord's routing: shard_id = (guild_id >> 22) % num_shards, computed on BigInt. */
export function shardForGuild(guildId: string, shardCount: number): number {
  return shardIdFor(guildId, shardCount);
}

export interface ShardManagerOptions {
  config: GatewayNodeConfig;
  log: Logger;
  metrics: Metrics;
  onDispatch: DispatchHandler;
  onReady?: (d: { session_id: string; guilds: { id: string }[] }, shardId: number, shardCount: number) => void;
  onFatal: (err: Error) => void;
  request?: HttpRequest;
  compress?: boolean;
  random?: () => number;
}

export class ShardManager {
  private shards: Shard[] = [];
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly rest: DiscordRestClient;
  shardCount = 0;

  constructor(private readonly opts: ShardManagerOptions) {
    const { config } = opts;
    // node:http under the shared client's fetch: no undici for one call (see sidecar-kit http-client).
    this.rest = new DiscordRestClient({
      token: config.token,
      apiBase: config.apiBase,
      fetch: fetchOverHttp(opts.request ?? httpRequest),
      logger: opts.log,
      userAgent: DISCORD_USER_AGENT,
      maxRetries: Math.max(0, config.tuning.maxReconnectAttempts - 1),
      retryBaseMs: config.tuning.reconnectBaseMs,
      retryMaxMs: config.tuning.reconnectMaxMs,
      timeoutMs: 15_000,
    });
  }

  info(): ShardInfo[] {
    return this.shards.map((s) => s.info());
  }

  /**
   * Sends a Gateway payload for `guildId` on the shard that carries that guild
   * (`shard_id = (guild_id >> 22) % shard_count`), e.g. op 4 Update Voice State for the rtc-node
   * voice link. Queued under the shard's send limit; it goes out once that shard's session is
   * ready (across reconnects). Throws NotOnThisProcessError when this process does not run that
   * shard (or has not started), and RangeError for a payload Discord would refuse.
   */
  sendToGuild(guildId: string, payload: { op: number; d: unknown }): void {
    if (this.shardCount === 0) throw new NotOnThisProcessError(guildId, null, []);
    const id = shardIdFor(guildId, this.shardCount);
    const shard = this.shards.find((s) => s.id === id);
    if (!shard)
      throw new NotOnThisProcessError(
        guildId,
        id,
        this.shards.map((s) => s.id),
      );
    shard.send(payload);
  }

  /**
   * GET /gateway/bot through the shared Discord REST client, so it follows the same rules as every
   * other REST call: 429 `retry_after` honoured, 5xx / network errors / timeouts retried with
   * backoff (maxReconnectAttempts attempts in all). 401 is fatal (bad token), as is giving up.
   */
  async fetchGatewayBot(): Promise<GatewayBotInfo> {
    const { config } = this.opts;
    try {
      const body = await this.rest.request<GatewayBotInfo>("GET", "/gateway/bot");
      if (typeof body?.url !== "string" || !body.session_start_limit) throw new Error("unexpected GET /gateway/bot body");
      return body;
    } catch (err) {
      if (this.abort.signal.aborted) throw err;
      if (err instanceof DiscordApiError && err.status === 401) {
        throw new GatewayFatalError(
          401,
          "GET /gateway/bot answered 401 Unauthorized: Discord rejected DISCORD_BOT_TOKEN",
          "Set DISCORD_BOT_TOKEN to the bot's current token (Developer Portal > your application > Bot > Reset Token).",
          ExitCode.ConfigRejected,
        );
      }
      throw new GatewayFatalError(
        "GATEWAY_BOT_UNREACHABLE",
        `GET ${config.apiBase}/gateway/bot failed (last: ${(err as Error).message})`,
        "Operator action is needed: check DISCORD_API_BASE, network access to Discord and https://discordstatus.com.",
      );
    }
  }

  async start(): Promise<void> {
    const { config, log, metrics } = this.opts;
    const info = await this.fetchGatewayBot();
    if (this.stopped) return;
    const count = config.shardCount ?? Math.max(1, info.shards);
    const ids = config.shardIds ?? Array.from({ length: count }, (_, i) => i);
    this.shardCount = count;
    const limit = info.session_start_limit;
    if (limit.remaining < ids.length) throw new SessionStartLimitError(limit);
    const throttle = new IdentifyThrottle({
      limit,
      intervalMs: config.tuning.identifyIntervalMs,
      refresh: async () => (await this.fetchGatewayBot()).session_start_limit,
    });
    const intents = intentsFor(config.enableMessageEvents, config.messageContent);
    log.info("starting shards", {
      gatewayUrl: info.url,
      shardIds: ids,
      shardCount: count,
      recommendedShards: info.shards,
      maxConcurrency: limit.max_concurrency,
      sessionStartsRemaining: limit.remaining,
      intents,
    });
    if (config.shardCount !== undefined && info.shards > config.shardCount) {
      log.warn("SHARD_COUNT is below Discord's recommendation", { shardCount: config.shardCount, recommended: info.shards });
    }
    for (const id of ids) {
      const shard: Shard = new Shard({
        id,
        count,
        token: config.token,
        intents,
        gatewayUrl: info.url,
        throttle,
        tuning: config.tuning,
        log,
        metrics,
        onDispatch: this.opts.onDispatch,
        onReady: (d, shardId) => this.opts.onReady?.(d, shardId, count),
        onFatal: (err) => this.opts.onFatal(err),
        ...(this.opts.compress !== undefined ? { compress: this.opts.compress } : {}),
        ...(this.opts.random ? { random: this.opts.random } : {}),
      });
      this.shards.push(shard);
    }
    for (const s of this.shards) s.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort(new Error("stopping"));
    await Promise.all(this.shards.map((s) => s.stop()));
  }
}

/** A guild whose shard this process does not run (another process holds it), or no shards yet. */
export class NotOnThisProcessError extends Error {
  constructor(
    readonly guildId: string,
    readonly shardId: number | null,
    readonly localShards: number[],
  ) {
    super(
      shardId === null
        ? `cannot send for guild ${guildId}: the shards have not started yet (GET /gateway/bot pending)`
        : `guild ${guildId} is on shard ${shardId}, which this process does not run (it runs ${localShards.join(", ") || "none"}); send through the process that runs it (SHARD_IDS)`,
    );
    this.name = "NotOnThisProcessError";
  }
}
