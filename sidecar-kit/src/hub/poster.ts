/**
 * One signed post to a Worker endpoint (gateway-node: POST /api/internal/events), HMAC-signed over
 * the exact body sent (`signHubRequest`). Classifies the answer so the outbox
 * knows whether to retry (5xx, network, timeout, 429, 404...), isolate a poison event (400, 413,
 * 422), or keep retrying while telling the operator to fix HUB_SECRET or the clock (401, 403).
 */
import { signHubRequest } from "@spell-coven/common";
import { HttpTimeoutError, httpRequest, type HttpRequest, type HttpResponse } from "../http-client.ts";

export type PostOutcome =
  | { kind: "ok"; status: number; accepted: number; duplicates: number; requestId?: string }
  | { kind: "rejected"; status: number; code?: string; message: string; requestId?: string }
  | { kind: "unauthorized"; status: number; code?: string; message: string; requestId?: string }
  | { kind: "retry"; status?: number; reason: string; retryAfterMs?: number };

/** Anything that can deliver one body to the Worker (tests and the benchmark pass their own). */
export interface HubPoster {
  /** `headers` are extra request headers, e.g. `traceparent` (never a signature: the poster signs). */
  post(body: string, signal?: AbortSignal, headers?: Record<string, string>): Promise<PostOutcome>;
}

export interface HubClientOptions {
  endpoint: string;
  secret: string;
  timeoutMs: number;
  request?: HttpRequest;
}

export class HubClient implements HubPoster {
  private readonly request: HttpRequest;
  constructor(private readonly opts: HubClientOptions) {
    this.request = opts.request ?? httpRequest;
  }

  async post(body: string, signal?: AbortSignal, extra: Record<string, string> = {}): Promise<PostOutcome> {
    const headers = { ...extra, ...(await signHubRequest(this.opts.secret, body)) };
    let res: HttpResponse;
    try {
      res = await this.request(this.opts.endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
        timeoutMs: this.opts.timeoutMs,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      const e = err as Error & { code?: string };
      const reason = e instanceof HttpTimeoutError ? `timeout after ${this.opts.timeoutMs} ms` : `network: ${e.code ?? e.message}`;
      return { kind: "retry", reason };
    }
    const text = res.text;
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // not JSON
    }
    const status = res.status;
    if (status >= 200 && status < 300) {
      return {
        kind: "ok",
        status,
        accepted: Number(json?.accepted ?? 0),
        duplicates: Number(json?.duplicates ?? 0),
        requestId: json?.requestId,
      };
    }
    const code: string | undefined = json?.error?.code;
    const message: string = json?.error?.message ?? (text.slice(0, 200) || `HTTP ${status}`);
    const requestId: string | undefined = json?.error?.requestId;
    if (status === 400 || status === 413 || status === 422) return { kind: "rejected", status, code, message, requestId };
    if (status === 401 || status === 403) return { kind: "unauthorized", status, code, message, requestId };
    const retryAfter = Number(res.headers["retry-after"]);
    return {
      kind: "retry",
      status,
      reason: `HTTP ${status}${code ? ` ${code}` : ""}`,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
    };
  }
}
