/** RateLimitState with a hand-driven clock: the rules shared by every coordinator. */
import { describe, expect, it } from "vitest";
import { RateLimitState, routeKey, type RateLimitReport } from "../../src/rest/index.ts";

const K = routeKey("POST", "/channels/300000000000000001/messages");
const K2 = routeKey("POST", "/channels/300000000000000002/messages");
const PATCH = routeKey("PATCH", "/channels/300000000000000001");
const rep = (o: Partial<RateLimitReport>): RateLimitReport => ({
  status: 200,
  bucket: "h",
  limit: 5,
  remaining: 4,
  resetAfterMs: 1000,
  retryAfterMs: null,
  global: false,
  scope: null,
  ...o,
});

describe("routeKey", () => {
  it("templates ids, keeps the major parameter, collapses reactions, hides webhook tokens", () => {
    expect(routeKey("post", "/channels/1/messages/2/reactions/%F0%9F%8E%B2/@me")).toEqual({
      method: "POST",
      route: "/channels/:id/messages/:id/reactions/:reaction/@me",
      majorParameter: "1",
    });
    expect(routeKey("DELETE", "/guilds/7/members/8/roles/9")).toEqual({ method: "DELETE", route: "/guilds/:id/members/:id/roles/:id", majorParameter: "7" });
    const w = routeKey("POST", "/webhooks/5/secret-token-abc");
    expect(w.route).toBe("/webhooks/:id/:token");
    expect(w.majorParameter).toMatch(/^5\/[0-9a-f]+$/);
    expect(JSON.stringify(w)).not.toContain("secret-token-abc");
    expect(routeKey("GET", "/gateway/bot").majorParameter).toBe("global");
  });
});

describe("RateLimitState", () => {
  it("in-flight requests are subtracted from Remaining, and out-of-order answers keep the lower count", () => {
    const s = new RateLimitState({ offsetMs: 0 });
    expect(s.acquire(K, 0).waitMs).toBe(0);
    s.report(K, rep({ remaining: 4 }), 10); // limit 5 known, 4 left
    for (let i = 0; i < 4; i++) expect(s.acquire(K, 11).waitMs).toBe(0);
    expect(s.acquire(K, 11).reason).toBe("bucket");
    // Answers arrive out of order: the one Discord saw first (remaining 3) comes last.
    s.report(K, rep({ remaining: 0, resetAfterMs: 980 }), 20);
    s.report(K, rep({ remaining: 3, resetAfterMs: 985 }), 21);
    expect(s.acquire(K, 22)).toMatchObject({ reason: "bucket" });
    // After the reset (10 + 1000) a new window opens with the full limit minus what is still in flight (2).
    expect(s.acquire(K, 1009).reason).toBe("bucket");
    expect(s.acquire(K, 1011).waitMs).toBe(0);
    expect(s.acquire(K, 1011).waitMs).toBe(0);
    expect(s.acquire(K, 1011).waitMs).toBe(0);
    expect(s.acquire(K, 1011).reason).toBe("bucket");
  });

  it("a late answer from an earlier window does not reopen the bucket", () => {
    const s = new RateLimitState({ offsetMs: 0 });
    s.acquire(K, 0);
    s.report(K, rep({ limit: 2, remaining: 1, resetAfterMs: 1000 }), 5);
    s.acquire(K, 6); // in flight, answered late
    s.acquire(K, 1006); // new window
    s.report(K, rep({ limit: 2, remaining: 1, resetAfterMs: 1000 }), 1010); // new window: reset at 2010
    s.report(K, rep({ limit: 2, remaining: 1, resetAfterMs: 5 }), 1011); // old window's answer: ignored
    // (Conservative: the new window's one free slot stays booked by the late request.)
    expect(s.acquire(K, 1012)).toMatchObject({ reason: "bucket" });
    expect(s.acquire(K, 1012).waitMs).toBeGreaterThan(900);
    expect(s.acquire(K, 2011).waitMs).toBe(0);
  });

  it("a learned bucket hash starts other majors with the same limit (no probe)", () => {
    const s = new RateLimitState();
    s.acquire(K, 0);
    s.report(K, rep({ limit: 3, remaining: 2 }), 5);
    expect([s.acquire(K2, 6), s.acquire(K2, 6), s.acquire(K2, 6), s.acquire(K2, 6)].map((r) => r.waitMs === 0)).toEqual([true, true, true, false]);
  });

  it("unknown routes probe one at a time; routes without headers are only globally limited", () => {
    const s = new RateLimitState();
    const g = routeKey("GET", "/users/@me");
    expect(s.acquire(g, 0).waitMs).toBe(0);
    expect(s.acquire(g, 0).reason).toBe("unknown-bucket");
    s.report(g, rep({ bucket: null, limit: null, remaining: null, resetAfterMs: null }), 1);
    for (let i = 0; i < 10; i++) expect(s.acquire(g, 2).waitMs).toBe(0);
  });

  it("a user 429 while the headers said there was room is a sublimit: only that route+major waits", () => {
    const s = new RateLimitState({ offsetMs: 0 });
    s.acquire(PATCH, 0);
    s.report(PATCH, rep({ status: 429, bucket: "p", limit: 5, remaining: 3, retryAfterMs: 600_000, scope: "user" }), 5);
    expect(s.acquire(PATCH, 10)).toMatchObject({ reason: "sublimit" });
    expect(s.acquire(PATCH, 10).waitMs).toBeGreaterThan(590_000);
    const del = routeKey("DELETE", "/channels/300000000000000001");
    expect(s.acquire(del, 10).waitMs).toBe(0); // the rest of the channel goes on
    expect(s.acquire(PATCH, 600_006).waitMs).toBe(0);
  });

  it("a user 429 with an exhausted bucket blocks the bucket for retry_after", () => {
    const s = new RateLimitState({ offsetMs: 0 });
    s.acquire(K, 0);
    s.report(K, rep({ status: 429, remaining: 0, resetAfterMs: 300, retryAfterMs: 300, scope: "user" }), 5);
    expect(s.acquire(K, 6)).toMatchObject({ reason: "bucket" });
    expect(s.acquire(K, 306).waitMs).toBe(0);
  });

  it("a global 429 stops every route; it counts as invalid, a shared one does not", () => {
    const s = new RateLimitState({ offsetMs: 0 });
    s.acquire(K, 0);
    expect(
      s.report(K, rep({ status: 429, bucket: null, limit: null, remaining: null, resetAfterMs: null, retryAfterMs: 250, global: true, scope: "global" }), 5)
        .invalidRequests,
    ).toBe(1);
    expect(s.acquire(K2, 6)).toMatchObject({ reason: "global-429" });
    expect(s.acquire(K2, 256).waitMs).toBe(0);
    expect(s.report(K2, rep({ status: 429, retryAfterMs: 100, scope: "shared" }), 260).invalidRequests).toBe(1);
  });

  it("the global limit holds a slot until one window after its answer", () => {
    const s = new RateLimitState({ globalPerSecond: 2, globalOffsetMs: 0 });
    const a = routeKey("POST", "/channels/1/typing");
    const b = routeKey("POST", "/channels/2/typing");
    const c = routeKey("POST", "/channels/3/typing");
    s.acquire(a, 0);
    s.acquire(b, 0);
    expect(s.acquire(c, 0).reason).toBe("global");
    s.report(a, rep({ bucket: null, limit: null, remaining: null, resetAfterMs: null }), 400); // slow answer
    expect(s.acquire(c, 1000).reason).toBe("global"); // not 1000 ms after the reservation...
    expect(s.acquire(c, 1401).waitMs).toBe(0); // ...but after the answer
  });

  it("a reservation whose answer never comes is released after its lease", () => {
    const s = new RateLimitState({ leaseMs: 500 });
    s.acquire(K, 0);
    expect(s.acquire(K, 100).reason).toBe("unknown-bucket");
    expect(s.acquire(K, 501).waitMs).toBe(0);
  });

  it("invalid-request guard: warn once, stop at the threshold, recover when the window passes", () => {
    const s = new RateLimitState({ invalidWarnAt: 2, invalidStopAt: 3, invalidWindowMs: 60_000 });
    const crossed = [1, 2, 3].map((i) => {
      s.acquire(K, i);
      return s.report(K, rep({ status: 401 }), i).crossed;
    });
    expect(crossed).toEqual([undefined, "warn", "stop"]);
    expect(s.acquire(K, 10)).toMatchObject({ blocked: true, reason: "invalid-request-guard" });
    expect(s.acquire(K, 61_000).blocked).toBeUndefined();
  });
});
