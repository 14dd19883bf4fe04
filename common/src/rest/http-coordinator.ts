/**
 * Sharing one rate-limit state between processes over loopback HTTP (Node sidecars, benchmarks).
 * The client half uses fetch only, so it also runs in workerd; the server half is a pure request
 * handler you mount on any HTTP server (bench/rest.ts mounts it on node:http):
 *
 *   POST {url}/acquire  {key}          -> AcquireResult
 *   POST {url}/report   {key, info}    -> ReportResult
 *
 * On Cloudflare use DurableObjectCoordinator instead (worker/src/ratelimit).
 */
import type { RateLimitCoordinator } from "./coordinator.ts";
import type { RouteKey } from "./routes.ts";
import { RateLimitState, type AcquireResult, type RateLimitReport, type RateLimitStateOptions, type ReportResult } from "./state.ts";

export class HttpCoordinator implements RateLimitCoordinator {
  private readonly base: string;
  constructor(
    url: string,
    private readonly fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis),
  ) {
    this.base = url.replace(/\/+$/, "");
  }
  acquire(key: RouteKey): Promise<AcquireResult> {
    return this.post<AcquireResult>("acquire", { key });
  }
  report(key: RouteKey, info: RateLimitReport): Promise<ReportResult> {
    return this.post<ReportResult>("report", { key, info });
  }
  private async post<T>(op: string, body: unknown): Promise<T> {
    const res = await this.fetchImpl(`${this.base}/${op}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`rate-limit coordinator answered HTTP ${res.status} to ${op}`);
    return (await res.json()) as T;
  }
}

/** The server half: one state, answering `acquire` / `report` bodies. */
export function coordinatorHandler(opts: RateLimitStateOptions = {}, now: () => number = () => Date.now()) {
  const state = new RateLimitState(opts);
  return {
    state,
    handle(op: string, body: unknown): { status: number; body: unknown } {
      const b = (typeof body === "object" && body !== null ? body : {}) as { key?: RouteKey; info?: RateLimitReport };
      if (!b.key || typeof b.key.route !== "string") return { status: 400, body: { message: "key required" } };
      if (op === "acquire") return { status: 200, body: state.acquire(b.key, now()) };
      if (op === "report" && b.info) return { status: 200, body: state.report(b.key, b.info, now()) };
      return { status: 404, body: { message: "unknown operation" } };
    },
  };
}
