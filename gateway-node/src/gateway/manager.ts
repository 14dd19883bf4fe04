/**
 * Starts the shards of this process: GET /gateway/bot for the URL, the recommended shard count
 * and session_start_limit; refuses to start when the limit cannot cover the shards; spawns one
 * Shard per id (several per process) sharing one identify throttle.
 */
import { backoffDelay, sleep, shardIdFor } from "@spell-coven/common";
import { type Logger } from "@spell-coven/common";
import type { GatewayNodeConfig } from "../config.ts";
import type { Metrics } from "../metrics.ts";
import { httpRequest, type HttpRequest } from "../http.ts";
import { EXIT_CONFIG_REJECTED, GatewayFatalError } from "./close-codes.ts";
import { IdentifyThrottle, SessionStartLimitError, type SessionStartLimit } from "./identify-throttle.ts";
import { Shard, type DispatchHandler, type ShardInfo } from "./shard.ts";

export interface GatewayBotInfo {
  url: string;
  shards: number;
  session_start_limit: SessionStartLimit;
}

/** GUILDS | GUILD_VOICE_STATES, plus GUILD_MESSAGES | MESSAGE_CONTENT when message events are on. */
export function intentsFor(enableMessageEvents: boolean): number {
  const GUILDS = 1 << 0;
  const GUILD_VOICE_STATES = 1 << 7;
  const GUILD_MESSAGES = 1 << 9;
  const MESSAGE_CONTENT = 1 << 15;
  return GUILDS | GUILD_VOICE_STATES | (enableMessageEvents ? GUILD_MESSAGES | MESSAGE_CONTENT : 0);
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
  private readonly request: HttpRequest;
  shardCount = 0;

  constructor(private readonly opts: ShardManagerOptions) {
    this.request = opts.request ?? httpRequest;
  }

  info(): ShardInfo[] {
    return this.shards.map((s) => s.info());
  }

  /** Fetches GET /gateway/bot, retrying transient failures; 401 is fatal (bad token). */
  async fetchGatewayBot(): Promise<GatewayBotInfo> {
    const { config, log } = this.opts;
    const max = config.tuning.maxReconnectAttempts;
    let lastError = "";
    for (let attempt = 0; attempt < max; attempt++) {
      if (attempt > 0) await sleep(backoffDelay(attempt - 1, config.tuning.reconnectBaseMs, config.tuning.reconnectMaxMs), this.abort.signal);
      try {
        const res = await this.request(`${config.apiBase}/gateway/bot`, {
          headers: { authorization: `Bot ${config.token}`, "user-agent": "DiscordBot (https://github.com/spell-coven, 0.1.0) gateway-node" },
          signal: this.abort.signal,
          timeoutMs: 15_000,
        });
        if (res.status === 401) {
          throw new GatewayFatalError(
            401,
            "GET /gateway/bot answered 401 Unauthorized: Discord rejected DISCORD_BOT_TOKEN",
            "Set DISCORD_BOT_TOKEN to the bot's current token (Developer Portal > your application > Bot > Reset Token).",
            EXIT_CONFIG_REJECTED,
          );
        }
        if (res.status < 200 || res.status >= 300) {
          lastError = `HTTP ${res.status}`;
          log.warn("GET /gateway/bot failed; retrying", { status: res.status, attempt: attempt + 1 });
          continue;
        }
        const body = JSON.parse(res.text) as GatewayBotInfo;
        if (typeof body?.url !== "string" || !body.session_start_limit) throw new Error("unexpected GET /gateway/bot body");
        return body;
      } catch (err) {
        if (err instanceof GatewayFatalError || this.abort.signal.aborted) throw err;
        lastError = (err as Error).message;
        log.warn("GET /gateway/bot failed; retrying", { err, attempt: attempt + 1 });
      }
    }
    throw new GatewayFatalError(
      "GATEWAY_BOT_UNREACHABLE",
      `GET ${config.apiBase}/gateway/bot failed ${max} times (last: ${lastError})`,
      "Operator action is needed: check DISCORD_API_BASE, network access to Discord and https://discordstatus.com.",
    );
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
    const intents = intentsFor(config.enableMessageEvents);
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
