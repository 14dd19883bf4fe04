/**
 * Minimal HTTP(S) client on node:http / node:https with keep-alive agents, for the hub posts and
 * the few Discord REST calls a sidecar makes. (Global fetch would load undici: ~14 MB more RSS.)
 * `fetchOverHttp` adapts it to the `fetch` subset the shared DiscordRestClient uses, so sidecars
 * get its rate limits and retries without undici.
 */
import http from "node:http";
import https from "node:https";

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export type HttpRequest = (url: string, opts: HttpRequestOptions) => Promise<HttpResponse>;

export class HttpTimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = "HttpTimeoutError";
  }
}

const agents = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: 16 }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: 16 }),
};

export const httpRequest: HttpRequest = (url, opts) =>
  new Promise((resolve, reject) => {
    const u = new URL(url);
    const lib = u.protocol === "https:" ? https : http;
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.body !== undefined) headers["content-length"] = Buffer.byteLength(opts.body);
    let settled = false;
    const done = (err: Error | null, res?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve(res!);
    };
    const req = lib.request(u, { method: opts.method ?? "GET", headers, agent: agents[u.protocol as "http:" | "https:"] }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done(null, { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (e) => done(e));
    });
    const timer = setTimeout(() => {
      req.destroy(new HttpTimeoutError(opts.timeoutMs));
    }, opts.timeoutMs);
    const onAbort = () => req.destroy(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error("aborted"));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    req.on("error", (e) => done(e));
    req.end(opts.body);
  });

/** The part of a fetch Response that DiscordRestClient reads. */
interface MinimalResponse {
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/**
 * A `fetch` for DiscordRestClient (`fetch` option) on `request` (default httpRequest): method,
 * headers, a string body and an AbortSignal in; status, headers and text out. Nothing else of
 * fetch is offered. The per-call timeout is the client's (it aborts the signal).
 */
export function fetchOverHttp(request: HttpRequest = httpRequest, hardTimeoutMs = 120_000): typeof fetch {
  const f = async (input: string | URL | Request, init: RequestInit = {}): Promise<MinimalResponse> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.toString() : input.url;
    const headers: Record<string, string> = {};
    if (init.headers) for (const [k, v] of Object.entries(init.headers as Record<string, string>)) headers[k.toLowerCase()] = v;
    if (init.body !== undefined && init.body !== null && typeof init.body !== "string") throw new TypeError("fetchOverHttp sends string bodies only");
    const res = await request(url, {
      method: init.method ?? "GET",
      headers,
      ...(typeof init.body === "string" ? { body: init.body } : {}),
      timeoutMs: hardTimeoutMs,
      ...(init.signal ? { signal: init.signal } : {}),
    });
    return {
      ok: res.status >= 200 && res.status < 300,
      status: res.status,
      headers: {
        get(name: string) {
          const v = res.headers[name.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? v.join(", ") : String(v);
        },
      },
      text: async () => res.text,
    };
  };
  return f as unknown as typeof fetch;
}
