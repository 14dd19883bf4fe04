/**
 * Minimal HTTP(S) client on node:http / node:https with keep-alive agents, used for
 * GET /gateway/bot and the hub posts. (Global fetch would load undici: ~14 MB more RSS for the
 * two requests this service makes.)
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
