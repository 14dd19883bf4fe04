/**
 * GET /health (JSON; 200 unless the status is `unhealthy`, then 503) and GET /metrics (Prometheus
 * text) on the sidecar's HEALTH_CHECK_PORT. What the report says is the sidecar's business.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** ok: working; degraded: working around a problem (reconnecting, retrying); unhealthy: giving up. */
export type HealthStatus = "ok" | "degraded" | "unhealthy";

export interface HealthSource {
  /** The /health body; `status` decides the HTTP status. */
  health(): { status: HealthStatus; reason?: string };
  /** The /metrics body. */
  metrics(): string;
}

export class HealthServer {
  private readonly server: http.Server;
  constructor(private readonly src: HealthSource) {
    this.server = http.createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      if (path === "/health" || path === "/healthz") {
        const report = this.src.health();
        const body = JSON.stringify(report);
        res.writeHead(report.status === "unhealthy" ? 503 : 200, { "content-type": "application/json", "cache-control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : body);
        return;
      }
      if (path === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
        res.end(req.method === "HEAD" ? undefined : this.src.metrics());
        return;
      }
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "NOT_FOUND", message: "try /health or /metrics" } }));
    });
    this.server.keepAliveTimeout = 5000;
  }

  /** Resolves with the port bound (useful with port 0). */
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
