/**
 * GET /health (JSON, 200 when ok/degraded, 503 when unhealthy) and GET /metrics (Prometheus text)
 * on HEALTH_CHECK_PORT.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ShardInfo } from "./gateway/shard.ts";

export type HealthStatus = "ok" | "degraded" | "unhealthy";

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
  renderMetrics(): string;
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

export class HealthServer {
  private server: http.Server;
  constructor(private readonly src: HealthSources) {
    this.server = http.createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      if (path === "/health" || path === "/healthz") {
        const report = healthReport(this.src);
        const body = JSON.stringify(report);
        res.writeHead(report.status === "unhealthy" ? 503 : 200, { "content-type": "application/json", "cache-control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : body);
        return;
      }
      if (path === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
        res.end(req.method === "HEAD" ? undefined : this.src.renderMetrics());
        return;
      }
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "NOT_FOUND", message: "try /health or /metrics" } }));
    });
    this.server.keepAliveTimeout = 5000;
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
