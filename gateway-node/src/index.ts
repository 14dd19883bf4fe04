/**
 * gateway-node in-process: `startGatewayNode(config)` wires shards -> translation -> outbox ->
 * Worker, serves /health and /metrics, and returns a handle. main.ts is the process entry. The
 * parts every sidecar shares (hub poster, outbox, health server, stop sequence) are the sidecar kit's.
 */
import { createLogger, type InternalEvent, type Logger } from "@spell-coven/common";
import { HealthServer, HubClient, SidecarRuntime, type HttpRequest, type HubPoster, type StopResult } from "@spell-coven/sidecar-kit";
import type { GatewayNodeConfig } from "./config.ts";
import { DispatchBus } from "./gateway/dispatch-bus.ts";
import { ShardManager, shardForGuild } from "./gateway/manager.ts";
import { GatewayFatalError } from "./gateway/close-codes.ts";
import { healthReport, type HealthReport, type HealthSources } from "./health.ts";
import { HubOutbox } from "./hub/hub-outbox.ts";
import { Metrics } from "./metrics.ts";
import { Translator } from "./translate.ts";
import { VoiceLinkServer } from "./link/voice-link-server.ts";

export { loadConfig, DEFAULT_TUNING, type GatewayNodeConfig, type Tuning } from "./config.ts";
export { Translator } from "./translate.ts";
export { HubOutbox } from "./hub/hub-outbox.ts";
export { Metrics } from "./metrics.ts";
export { Shard } from "./gateway/shard.ts";
export { ShardManager, NotOnThisProcessError, intentsFor, shardForGuild } from "./gateway/manager.ts";
export { DispatchBus, type DispatchConsumer, type SubscribeOptions } from "./gateway/dispatch-bus.ts";
export { closeAction, GatewayFatalError } from "./gateway/close-codes.ts";
export { VoiceLinkServer, isPrivateAddress } from "./link/voice-link-server.ts";
export type { StopResult } from "@spell-coven/sidecar-kit";

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

export interface GatewayNodeHandle {
  readonly metrics: Metrics;
  readonly translator: Translator;
  readonly outbox: HubOutbox;
  readonly manager: ShardManager;
  /**
   * Every dispatch of this process's shards; the Translator is one consumer, subscribe more
   * (`bus.subscribe(consumer, { types })`), e.g. the rtc-node voice link.
   */
  readonly bus: DispatchBus;
  /** A Gateway payload for a guild, on the shard that carries it (see ShardManager.sendToGuild). */
  sendToGuild(guildId: string, payload: { op: number; d: unknown }): void;
  /** The voice link for rtc-node (null without LINK_TOKEN) and its port. */
  readonly link: VoiceLinkServer | null;
  readonly linkPort: number;
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
  let started = false;

  // The outbox needs snapshots from the translator; the translator feeds the outbox.
  let outbox!: HubOutbox;
  const translator = new Translator(config.guildIds, (ev: InternalEvent) => outbox.enqueue(ev), {
    messageEvents: config.enableMessageEvents,
    messageContent: config.messageContent,
  });
  outbox = new HubOutbox({
    poster:
      deps.poster ??
      new HubClient({
        endpoint: config.hubEndpoint,
        secret: config.hubSecret,
        timeoutMs: config.tuning.hubTimeoutMs,
        ...(deps.request ? { request: deps.request } : {}),
      }),
    log: log.child({ component: "outbox" }),
    metrics,
    buildSnapshot: (guildId) => translator.buildSnapshot(guildId),
    maxPerGuild: config.tuning.outboxMaxPerGuild,
    retryBaseMs: config.tuning.hubRetryBaseMs,
    retryMaxMs: config.tuning.hubRetryMaxMs,
  });

  const bus = new DispatchBus(log.child({ component: "dispatch-bus" }));
  bus.subscribe((t, d, eventKey, seq) => translator.handleDispatch(t, d, eventKey, seq));

  let manager!: ShardManager;
  const runtime = new SidecarRuntime({
    log,
    stopSources: () => manager.stop(),
    outbox,
    flushMs: config.tuning.shutdownFlushMs,
    undeliveredHint: "the next start sends a presence snapshot that repairs voice presence",
  });
  const fatal = (err: Error) => runtime.giveUp(err, err instanceof GatewayFatalError ? err.exitCode : undefined);

  manager = new ShardManager({
    config,
    log: log.child({ component: "gateway" }),
    metrics,
    onDispatch: bus.publish,
    onReady: (d, shardId, shardCount) => {
      const present = new Set((d.guilds ?? []).map((g) => g.id));
      for (const g of config.guildIds) {
        if (shardForGuild(g, shardCount) === shardId && !present.has(g)) {
          log.warn("the bot is not a member of a guild in PRIMARY_GUILD_ID: invite it to the guild or fix PRIMARY_GUILD_ID", { guildId: g, shard: shardId });
        }
      }
    },
    onFatal: fatal,
    ...(deps.request ? { request: deps.request } : {}),
    ...(deps.compress !== undefined ? { compress: deps.compress } : {}),
    ...(deps.random ? { random: deps.random } : {}),
  });

  const sources: HealthSources = {
    shards: () => manager.info(),
    outboxDepth: () => outbox.depth(),
    outboxFailing: () => outbox.failing(),
    fatal: () => runtime.fatal,
    started: () => started,
  };
  const renderMetrics = () => {
    metrics.voiceStatesCached.set(translator.stats().voiceStates);
    return metrics.render();
  };

  const healthServer = deps.health !== false ? new HealthServer({ health: () => healthReport(sources), metrics: renderMetrics }) : null;
  const healthPort = healthServer ? await healthServer.listen(config.healthPort, config.healthHost) : 0;
  if (healthServer) log.info("health server listening", { port: healthPort, host: config.healthHost });

  let link: VoiceLinkServer | null = null;
  let linkPort = 0;
  if (config.link) {
    link = new VoiceLinkServer({
      token: config.link.token,
      bus,
      sendToGuild: (g, p) => manager.sendToGuild(g, p),
      log: log.child({ component: "voice-link" }),
    });
    linkPort = await link.listen(config.link.port, config.link.host);
    log.info("voice link listening", { port: linkPort, host: config.link.host });
  }

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
    bus,
    sendToGuild: (guildId, payload) => manager.sendToGuild(guildId, payload),
    link,
    linkPort,
    healthPort,
    health: () => healthReport(sources),
    finished: runtime.finished,
    async stop(opts = {}) {
      const result = await runtime.stop(opts.flushMs);
      await link?.close();
      await healthServer?.close();
      return result;
    },
  };
}
