/**
 * gateway-node in-process: `startGatewayNode(config)` wires shards -> translation -> outbox ->
 * Worker, serves /health and /metrics, and returns a handle. main.ts is the process entry.
 */
import { createLogger, type Logger } from "@spell-coven/common";
import { type HubEvent } from "@spell-coven/common";
import type { GatewayNodeConfig } from "./config.ts";
import { ShardManager, shardForGuild } from "./gateway/manager.ts";
import { GatewayFatalError } from "./gateway/close-codes.ts";
import { HealthServer, healthReport, type HealthReport, type HealthSources } from "./health.ts";
import { HubClient, type HubPoster } from "./hub/client.ts";
import { Outbox } from "./hub/outbox.ts";
import { Metrics } from "./metrics.ts";
import type { HttpRequest } from "./http.ts";
import { Translator } from "./translate.ts";

export { loadConfig, ConfigError, DEFAULT_TUNING, type GatewayNodeConfig, type Tuning } from "./config.ts";
export { Translator } from "./translate.ts";
export { Outbox } from "./hub/outbox.ts";
export { HubClient } from "./hub/client.ts";
export { Metrics } from "./metrics.ts";
export { Shard } from "./gateway/shard.ts";
export { ShardManager, intentsFor, shardForGuild } from "./gateway/manager.ts";
export { closeAction, GatewayFatalError } from "./gateway/close-codes.ts";

export interface GatewayNodeDeps {
  /** HTTP client for GET /gateway/bot and hub posts (default: node:http/https). */
  request?: HttpRequest;
  log?: Logger;
  /** Replace the hub link (tests, benchmark). */
  poster?: HubPoster;
  /** zlib-stream transport compression (default true). */
  compress?: boolean;
  random?: () => number;
  /** Serve /health and /metrics (default true). */
  health?: boolean;
}

export interface StopResult {
  exitCode: number;
  reason: string;
  /** Events still queued when the flush deadline passed (0 = everything delivered). */
  undelivered: number;
}

export interface GatewayNodeHandle {
  readonly metrics: Metrics;
  readonly translator: Translator;
  readonly outbox: Outbox;
  readonly manager: ShardManager;
  /** Port of the health server (0 when disabled). */
  readonly healthPort: number;
  health(): HealthReport;
  /**
   * Stops the shards (close 1000), flushes the outbox within `flushMs` (default
   * tuning.shutdownFlushMs), closes the health server. Resolves with exit code 0.
   */
  stop(opts?: { flushMs?: number }): Promise<StopResult>;
  /**
   * Resolves when the node has stopped by itself after a fatal error (exit code 1 transient,
   * 3 configuration rejected by Discord; the health
   * server keeps answering "unhealthy" until stop() is called), or after stop() (exit code 0).
   */
  readonly finished: Promise<StopResult>;
}

export async function startGatewayNode(config: GatewayNodeConfig, deps: GatewayNodeDeps = {}): Promise<GatewayNodeHandle> {
  const log = deps.log ?? createLogger(config.logLevel, { service: "gateway-node" });
  const metrics = new Metrics();
  let fatalReason: string | null = null;
  let started = false;

  // The outbox needs snapshots from the translator; the translator feeds the outbox.
  let outbox!: Outbox;
  const translator = new Translator(config.guildIds, (ev: HubEvent) => outbox.enqueue(ev));
  outbox = new Outbox({
    poster: deps.poster ?? new HubClient({ endpoint: config.hubEndpoint, secret: config.hubSecret, timeoutMs: config.tuning.hubTimeoutMs, ...(deps.request ? { request: deps.request } : {}) }),
    log: log.child({ component: "outbox" }),
    metrics,
    buildSnapshot: (guildId) => translator.buildSnapshot(guildId),
    maxPerGuild: config.tuning.outboxMaxPerGuild,
    retryBaseMs: config.tuning.hubRetryBaseMs,
    retryMaxMs: config.tuning.hubRetryMaxMs,
  });

  let resolveFinished!: (r: StopResult) => void;
  const finished = new Promise<StopResult>((r) => (resolveFinished = r));
  let stopping: Promise<StopResult> | null = null;
  let healthServer: HealthServer | null = null;

  const manager = new ShardManager({
    config,
    log: log.child({ component: "gateway" }),
    metrics,
    onDispatch: (t, d, sessionId, seq) => translator.handleDispatch(t, d, sessionId, seq),
    onReady: (d, shardId, shardCount) => {
      const present = new Set((d.guilds ?? []).map((g) => g.id));
      for (const g of config.guildIds) {
        if (shardForGuild(g, shardCount) === shardId && !present.has(g)) {
          log.warn("the bot is not a member of a guild in PRIMARY_GUILD_ID: invite it to the guild or fix PRIMARY_GUILD_ID", { guildId: g, shard: shardId });
        }
      }
    },
    onFatal: (err) => fatal(err),
    ...(deps.request ? { request: deps.request } : {}),
    ...(deps.compress !== undefined ? { compress: deps.compress } : {}),
    ...(deps.random ? { random: deps.random } : {}),
  });

  const sources: HealthSources = {
    shards: () => manager.info(),
    outboxDepth: () => outbox.depth(),
    outboxFailing: () => outbox.failing(),
    fatal: () => fatalReason,
    started: () => started,
    renderMetrics: () => {
      metrics.voiceStatesCached.set(translator.stats().voiceStates);
      return metrics.render();
    },
  };

  async function shutdown(exitCode: number, reason: string, flushMs: number): Promise<StopResult> {
    await manager.stop();
    const undelivered = await outbox.flush(flushMs);
    outbox.close();
    if (undelivered > 0) {
      log.error("stopping with events the Worker has not taken; they are lost with this process (the next start sends a presence snapshot that repairs voice presence)", { undelivered, byGuild: outbox.depthByGuild() });
    }
    log.info("stopped", { exitCode, reason, undelivered });
    return { exitCode, reason, undelivered };
  }

  function fatal(err: Error): void {
    if (fatalReason || stopping) return;
    fatalReason = err.message;
    const action = err.message.includes("Operator action") ? "" : " Operator action is needed.";
    log.error(`fatal: ${err.message}${action} Exiting with a non-zero code so the restart policy takes over.`, { err: { name: err.name, message: err.message } });
    const exitCode = err instanceof GatewayFatalError ? err.exitCode : 1;
    stopping = shutdown(exitCode, err.message, config.tuning.shutdownFlushMs);
    void stopping.then(resolveFinished);
  }

  if (deps.health !== false) {
    healthServer = new HealthServer(sources);
  }
  const healthPort = healthServer ? await healthServer.listen(config.healthPort, config.healthHost) : 0;
  if (healthServer) log.info("health server listening", { port: healthPort, host: config.healthHost });

  manager.start().then(
    () => {
      started = true;
    },
    (err: Error) => fatal(err),
  );

  return {
    metrics,
    translator,
    outbox,
    manager,
    healthPort,
    health: () => healthReport(sources),
    finished,
    async stop(opts = {}) {
      if (!stopping) {
        log.info("stopping: closing shards, flushing the outbox");
        stopping = shutdown(0, "stop requested", opts.flushMs ?? config.tuning.shutdownFlushMs);
        void stopping.then(resolveFinished);
      }
      const result = await stopping;
      await healthServer?.close();
      return result;
    },
  };
}
