/**
 * gateway-node's /health report (served by the sidecar kit's HealthServer, 503 when unhealthy):
 * ok when every shard is ready and posts go through; degraded while starting, reconnecting or
 * retrying posts; unhealthy when giving up.
 */
import type { HealthStatus } from "@spell-coven/sidecar-kit";
import type { ShardInfo } from "./gateway/shard.ts";

export interface HealthReport {
  status: HealthStatus;
  shards: { id: number; state: string; lastHeartbeatLatencyMs: number | null; sessionId?: string }[];
  outboxDepth: number;
  /** Why the status is not ok, for a person reading it. */
  reason?: string;
}

export interface HealthSources {
  shards(): ShardInfo[];
  outboxDepth(): number;
  outboxFailing(): boolean;
  /** Set when the process is giving up (fatal close code, 5 failed attempts...). */
  fatal(): string | null;
  started(): boolean;
}

export function healthReport(src: HealthSources): HealthReport {
  const shards = src.shards().map((s) => ({
    id: s.id,
    state: s.state,
    lastHeartbeatLatencyMs: s.lastHeartbeatLatencyMs,
    ...(s.sessionId ? { sessionId: s.sessionId } : {}),
  }));
  const outboxDepth = src.outboxDepth();
  const fatal = src.fatal();
  let status: HealthStatus = "ok";
  let reason: string | undefined;
  if (fatal) {
    status = "unhealthy";
    reason = fatal;
  } else if (shards.some((s) => s.state === "failed")) {
    status = "unhealthy";
    reason = "a shard gave up";
  } else if (!src.started()) {
    status = "degraded";
    reason = "starting";
  } else if (shards.some((s) => s.state !== "ready")) {
    status = "degraded";
    reason = "a shard is (re)connecting";
  } else if (src.outboxFailing()) {
    status = "degraded";
    reason = "posts to the Worker are failing; events are queued";
  }
  return { status, shards, outboxDepth, ...(reason ? { reason } : {}) };
}
