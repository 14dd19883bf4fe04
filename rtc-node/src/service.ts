/**
 * rtc-node in-process: `startRtcNode(config)` opens the voice link to gateway-node, fields the
 * table bot (BotPool, one seat today), serves the signed bot control API and /health + /metrics
 * (sidecar kit), and returns a handle. main.ts is the process entry.
 */
import { createLogger, type Logger } from "@spell-coven/common";
import { ExitCode, HealthServer, HubClient, SidecarRuntime, type HubPoster, type StopResult } from "@spell-coven/sidecar-kit";
import { BotPool, type BotAtTable } from "./bot/bot-pool.ts";
import { ControlServer } from "./bot/control-server.ts";
import { SpeakingReporter } from "./bot/speaking-reporter.ts";
import type { RtcNodeConfig } from "./config.ts";
import { VoiceLinkClient } from "./link/voice-link-client.ts";
import { RtcMetrics } from "./metrics.ts";

export interface RtcNodeDeps {
  log?: Logger;
  /** Replace the hub poster (tests, benchmark). */
  poster?: HubPoster;
  /** Serve /health and /metrics (default true). */
  health?: boolean;
  linkRetryBaseMs?: number;
  linkRetryMaxMs?: number;
}

export interface RtcHealth {
  status: "ok" | "degraded" | "unhealthy";
  reason?: string;
  link: { state: string; connects: number; botUserId: string | null };
  voice: BotAtTable[];
  signals: { posted: number; dropped: number };
}

export interface RtcNodeHandle {
  readonly pool: BotPool;
  readonly link: VoiceLinkClient;
  readonly reporter: SpeakingReporter;
  readonly metrics: RtcMetrics;
  readonly controlPort: number;
  readonly healthPort: number;
  health(): RtcHealth;
  stop(): Promise<StopResult>;
  readonly finished: Promise<StopResult>;
}

export async function startRtcNode(config: RtcNodeConfig, deps: RtcNodeDeps = {}): Promise<RtcNodeHandle> {
  const log = deps.log ?? createLogger(config.logLevel, { service: "rtc-node" });
  const metrics = new RtcMetrics();
  const poster = deps.poster ?? new HubClient({ endpoint: config.signalsEndpoint, secret: config.hubSecret, timeoutMs: config.hubTimeoutMs });
  const reporter = new SpeakingReporter({
    poster,
    log: log.child({ component: "signals" }),
    onPosted: (n, ok, ms) => {
      (ok ? metrics.signalsPosted : metrics.signalsDropped).inc(undefined, n);
      metrics.signalPostMs.observe(ms);
    },
  });
  let runtime!: SidecarRuntime;
  const link = new VoiceLinkClient({
    url: config.gatewayWsUrl,
    token: config.linkToken,
    log: log.child({ component: "voice-link" }),
    ...(deps.linkRetryBaseMs !== undefined ? { retryBaseMs: deps.linkRetryBaseMs } : {}),
    ...(deps.linkRetryMaxMs !== undefined ? { retryMaxMs: deps.linkRetryMaxMs } : {}),
    onFatal: (err) => runtime.giveUp(err, err.code === "RTC_LINK_REFUSED" ? ExitCode.ConfigRejected : ExitCode.Transient),
  });
  const packets = metrics.packetsReceived.handle();
  const pool = new BotPool({
    seats: [{ name: "0", signalling: link }],
    reporter,
    log: log.child({ component: "table-bot" }),
    emptyGraceMs: config.emptyGraceMs,
    onPacket: () => void packets.value++,
    onDeparture: (reason) => metrics.departures.inc({ reason }),
  });
  const control = new ControlServer({ pool, secret: config.hubSecret, log: log.child({ component: "control" }), linkAvailable: () => link.available });
  runtime = new SidecarRuntime({
    log,
    stopSources: async () => {
      pool.stopAll();
      link.stop();
      await control.close();
    },
    // Signals are never queued for later (a late "speaking" is wrong): nothing to flush.
    outbox: { flush: async () => 0, close: () => {}, depthByKey: () => ({}) },
    flushMs: 1000,
  });

  const health = (): RtcHealth => {
    const voice = pool.list();
    const fatal = runtime.fatal;
    const status = fatal ? "unhealthy" : link.available ? "ok" : "degraded";
    return {
      status,
      ...(fatal ? { reason: fatal } : !link.available ? { reason: `voice link ${link.state}` } : {}),
      link: { state: link.state, connects: link.connects, botUserId: link.botUserId },
      voice,
      signals: { posted: reporter.posted, dropped: reporter.failed },
    };
  };
  const renderMetrics = () => {
    metrics.linkUp.set(link.available ? 1 : 0);
    metrics.linkConnects.set(link.connects);
    const byStatus: Record<string, number> = {};
    for (const b of pool.list()) byStatus[b.status] = (byStatus[b.status] ?? 0) + 1;
    for (const s of ["signalling", "connecting", "ready", "disconnected"]) metrics.voiceConnections.set(byStatus[s] ?? 0, { status: s });
    return metrics.render();
  };
  const healthServer = deps.health !== false ? new HealthServer({ health, metrics: renderMetrics }) : null;
  const healthPort = healthServer ? await healthServer.listen(config.healthPort, config.healthHost) : 0;
  const controlPort = await control.listen(config.controlPort, config.controlHost);
  log.info("rtc-node listening", { controlPort, healthPort });
  // The link connects in the background; /health says degraded until it is open.
  link.start().catch(() => {});

  return {
    pool,
    link,
    reporter,
    metrics,
    controlPort,
    healthPort,
    health,
    finished: runtime.finished,
    async stop() {
      const r = await runtime.stop();
      await healthServer?.close();
      return r;
    },
  };
}
