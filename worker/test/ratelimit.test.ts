/**
 * The DiscordRateLimiter Durable Object and DurableObjectCoordinator, inside workerd.
 * Through the DISCORD_RATE_LIMITER binding when wrangler.toml declares it; the coordination logic
 * is also checked on an instance built directly, so it is tested either way.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RateLimitReport, RouteKey } from "@spell-coven/common/rest";
import { DiscordRestClient } from "@spell-coven/common/rest";
import { RateLimiterCore, type DiscordRateLimiter } from "../src/ratelimit/DiscordRateLimiter.ts";
import { DurableObjectCoordinator } from "../src/ratelimit/do-coordinator.ts";

const ns = (env as unknown as { DISCORD_RATE_LIMITER?: DurableObjectNamespace<DiscordRateLimiter> }).DISCORD_RATE_LIMITER;

const key = (major: string, route = "/channels/:id/messages", method = "POST"): RouteKey => ({ method, route, majorParameter: major });
const ok = (bucket: string, limit: number, remaining: number, resetAfterMs: number, status = 200): RateLimitReport => ({
  status,
  bucket,
  limit,
  remaining,
  resetAfterMs,
  retryAfterMs: null,
  global: false,
  scope: null,
});

/** A KV stand-in for the object's ctx.storage.kv. */
function fakeState(kv = new Map<string, unknown>()) {
  return { get: <T>(k: string) => kv.get(k) as T | undefined, put: (k: string, v: unknown) => void kv.set(k, v) };
}

describe("DiscordRateLimiter logic (RateLimiterCore, no binding needed)", () => {
  it("probes an unknown bucket one request at a time, then follows Remaining", () => {
    const d = new RateLimiterCore(fakeState(), {});
    const k = key("1");
    expect(d.acquire(k).waitMs).toBe(0);
    expect(d.acquire(k)).toMatchObject({ reason: "unknown-bucket" }); // first answer not in yet
    d.report(k, ok("h1", 3, 2, 500));
    expect(d.acquire(k).waitMs).toBe(0);
    expect(d.acquire(k).waitMs).toBe(0);
    const w = d.acquire(k);
    expect(w.reason).toBe("bucket");
    expect(w.waitMs).toBeGreaterThan(400);
    // Another channel has its own bucket.
    expect(d.acquire(key("2")).waitMs).toBe(0);
  });

  it("shares one global limit across every caller", () => {
    const d = new RateLimiterCore(fakeState(), { DISCORD_GLOBAL_RATE_LIMIT: "5" });
    const results = Array.from({ length: 7 }, (_, i) => {
      const k = key(String(100 + i));
      const r = d.acquire(k);
      return r.waitMs === 0 ? "sent" : r.reason;
    });
    expect(results).toEqual(["sent", "sent", "sent", "sent", "sent", "global", "global"]);
  });

  it("keeps the invalid-request count in storage and stops at the threshold", () => {
    const kv = new Map<string, unknown>();
    const d = new RateLimiterCore(fakeState(kv), { DISCORD_INVALID_REQUEST_WARN_AT: "2", DISCORD_INVALID_REQUEST_STOP_AT: "3" });
    const k = key("9", "/channels/:id", "DELETE");
    const crossed: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      expect(d.acquire(k).waitMs).toBe(0);
      crossed.push(d.report(k, { ...ok("h9", 5, 4, 1000, 403) }).crossed);
    }
    expect(crossed).toEqual([undefined, "warn", "stop"]);
    expect(d.acquire(k)).toMatchObject({ blocked: true, invalidRequests: 3 });
    // A new instance (after eviction) reads the count back.
    const again = new RateLimiterCore(fakeState(kv), { DISCORD_INVALID_REQUEST_STOP_AT: "3" });
    expect(again.acquire(k)).toMatchObject({ blocked: true });
  });

  it("shared-scope 429s wait but are not counted as invalid", () => {
    const d = new RateLimiterCore(fakeState(), {});
    const k = key("5");
    d.acquire(k);
    const r = d.report(k, { ...ok("h5", 5, 4, 1000, 429), retryAfterMs: 300, scope: "shared" });
    expect(r.invalidRequests).toBe(0);
    expect(d.acquire(k)).toMatchObject({ reason: "sublimit", invalidRequests: 0 });
  });
});

describe.skipIf(!ns)("DiscordRateLimiter through its binding (RPC)", () => {
  it("one object per bot: coordinators of different 'isolates' share the bucket", async () => {
    const name = `bot-${crypto.randomUUID()}`;
    const a = DurableObjectCoordinator.forBot(ns!, name);
    const b = DurableObjectCoordinator.forBot(ns!, name);
    const k = key("777");
    expect((await a.acquire(k)).waitMs).toBe(0);
    expect((await b.acquire(k)).reason).toBe("unknown-bucket");
    await a.report(k, ok("h7", 2, 1, 400));
    expect((await b.acquire(k)).waitMs).toBe(0);
    expect((await a.acquire(k)).reason).toBe("bucket");
    const stub = ns!.get(ns!.idFromName(name));
    await runInDurableObject(stub, async (instance: DiscordRateLimiter) => {
      expect(instance.snapshot()).toMatchObject({ inFlight: 1, globalInWindow: 2 });
    });
  });

  it("many clients (one per isolate) behind one object never exceed a bucket", async () => {
    const name = `bot-${crypto.randomUUID()}`;
    const stub = ns!.get(ns!.idFromName(name));
    await stub.configure({ globalPerSecond: 1000 });
    // A Discord stand-in inside workerd: 3 per 300 ms window per channel, counted on arrival.
    const windows = new Map<string, { start: number; n: number }>();
    const statuses: number[] = [];
    const fakeFetch = (async (input: RequestInfo | URL) => {
      const url = new URL(String(input));
      const ch = url.pathname.split("/")[4]!;
      const now = Date.now();
      let w = windows.get(ch);
      if (!w || now >= w.start + 300) windows.set(ch, (w = { start: now, n: 0 }));
      w.n++;
      const remaining = Math.max(0, 3 - w.n);
      const headers = {
        "content-type": "application/json",
        "x-ratelimit-bucket": "msg",
        "x-ratelimit-limit": "3",
        "x-ratelimit-remaining": String(remaining),
        "x-ratelimit-reset-after": ((w.start + 300 - now) / 1000).toFixed(3),
      };
      const status = w.n > 3 ? 429 : 200;
      statuses.push(status);
      const body = status === 429 ? { message: "rate limited", retry_after: (w.start + 300 - now) / 1000, global: false } : { id: "1", content: "x" };
      return new Response(JSON.stringify(body), { status, headers });
    }) as typeof fetch;
    const clients = Array.from(
      { length: 4 },
      () =>
        new DiscordRestClient({
          token: "t",
          apiBase: "https://discord.test/api/v10",
          fetch: fakeFetch,
          coordinator: DurableObjectCoordinator.forBot(ns!, name),
        }),
    );
    const channels = ["300000000000000001", "300000000000000002"];
    await Promise.all(clients.flatMap((c) => channels.flatMap((ch) => [0, 1, 2].map((i) => c.sendMessage(ch, `m${i}`)))));
    expect(statuses).toHaveLength(24);
    expect(statuses.filter((s) => s === 429)).toHaveLength(0);
  });
});
