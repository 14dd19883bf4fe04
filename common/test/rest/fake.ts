/**
 * A tiny loopback Discord for unit tests of the REST client: records requests and answers with
 * a scripted handler. Rate limits (optional) behave like Discord's: a per-route window that
 * starts with its first request, with X-RateLimit-* headers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: unknown;
  status: number;
  at: number;
}

export type Handler = (req: FakeRequest, res: ServerResponse) => undefined | "hang" | { status: number; body?: unknown; headers?: Record<string, string> };

export interface Fake {
  apiBase: string;
  requests: FakeRequest[];
  handler: Handler;
  limit: { perWindow: number; windowMs: number; globalPerSecond: number } | null;
  /** Forgets rate-limit windows and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

export async function startFake(): Promise<Fake> {
  const hanging = new Set<ServerResponse>();
  const windows = new Map<string, { start: number; count: number }>();
  const globalHits: number[] = [];
  const fake: Fake = {
    apiBase: "",
    requests: [],
    limit: null,
    handler: () => ({ status: 200, body: {} }),
    reset() {
      windows.clear();
      globalHits.length = 0;
      fake.requests.length = 0;
    },
    async close() {
      for (const r of hanging) r.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const path = (req.url ?? "/").replace(/^\/api\/v10/, "");
      const rec: FakeRequest = { method: req.method ?? "GET", path, headers: req.headers, body: raw ? JSON.parse(raw) : undefined, status: 0, at: Date.now() };
      fake.requests.push(rec);
      const headers: Record<string, string> = {};
      if (fake.limit) {
        const now = Date.now();
        while (globalHits.length && globalHits[0]! <= now - 1000) globalHits.shift();
        globalHits.push(now);
        if (globalHits.length > fake.limit.globalPerSecond) {
          rec.status = 429;
          res.writeHead(429, { "content-type": "application/json", "x-ratelimit-global": "true", "x-ratelimit-scope": "global", "retry-after": "1" });
          res.end(JSON.stringify({ message: "You are being rate limited.", retry_after: 0.2, global: true }));
          return;
        }
        const major = /^\/(?:channels|guilds)\/(\d+)/.exec(path)?.[1] ?? "global";
        const route = path.replace(/\/\d+/g, "/:id");
        const bucket = `b-${req.method}-${route}`;
        const wk = `${bucket}:${major}`;
        let w = windows.get(wk);
        if (!w || now >= w.start + fake.limit.windowMs) {
          w = { start: now, count: 0 };
          windows.set(wk, w);
        }
        w.count++;
        const resetAfter = (w.start + fake.limit.windowMs - now) / 1000;
        Object.assign(headers, {
          "x-ratelimit-bucket": bucket,
          "x-ratelimit-limit": String(fake.limit.perWindow),
          "x-ratelimit-remaining": String(Math.max(0, fake.limit.perWindow - w.count)),
          "x-ratelimit-reset-after": resetAfter.toFixed(3),
        });
        if (w.count > fake.limit.perWindow) {
          rec.status = 429;
          res.writeHead(429, { ...headers, "content-type": "application/json", "x-ratelimit-scope": "user", "retry-after": String(Math.ceil(resetAfter)) });
          res.end(JSON.stringify({ message: "You are being rate limited.", retry_after: resetAfter, global: false }));
          return;
        }
      }
      const out = fake.handler(rec, res);
      if (out === "hang") {
        hanging.add(res);
        return;
      }
      if (!out) return; // handler answered itself
      rec.status = out.status;
      const h = { ...headers, ...(out.headers ?? {}) };
      if (out.body === undefined) {
        res.writeHead(out.status, h);
        res.end();
      } else {
        res.writeHead(out.status, { ...h, "content-type": "application/json" });
        res.end(JSON.stringify(out.body));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  fake.apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v10`;
  return fake;
}
