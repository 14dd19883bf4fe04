import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../src/app.ts";
import type { Env } from "../src/env.ts";
import { ORIGIN, mintAlgNone, mintHs256WithPublicKey, mintToken, mintWithUnknownKey, request } from "./helpers.ts";

describe("GET /health", () => {
  it("reports status and which settings are present, never their values", async () => {
    const res = await request("/health");
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body).toMatchObject({ status: "ok", discordConfigured: true, hubSecretConfigured: true });
    expect(JSON.stringify(body)).not.toContain("test-hub-secret");
    expect(res.headers.get("X-Request-Id")).toBeTruthy();
  });
});

describe("GET /api/session-config", () => {
  it("gives a browser the public settings it needs, and nothing secret", async () => {
    const res = await request("/api/session-config");
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body).toEqual({ guildId: expect.stringMatching(/^\d+$/), maxReconnectAttempts: 5, devIdentityUrl: null, discordWebUrl: "https://discord.com" });
    expect(JSON.stringify(body)).not.toMatch(/secret|token/i);
  });
});

describe("errors", () => {
  it("answers unknown routes with a JSON error carrying the request id", async () => {
    const res = await request("/api/nope", { headers: { "X-Request-Id": "trace-123" } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "NOT_FOUND", message: "No route for GET /api/nope.", requestId: "trace-123" } });
    expect(res.headers.get("X-Request-Id")).toBe("trace-123");
  });
});

describe("CORS", () => {
  it("allows the configured web origin, with credentials-free preflight for the rooms API", async () => {
    const res = await request("/api/create-room", {
      method: "OPTIONS",
      headers: { Origin: ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type" },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(ORIGIN);
    expect(res.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
  });

  it("gives other origins no CORS grant", async () => {
    const res = await request("/api/create-room", { method: "OPTIONS", headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" } });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

describe("JWT on the rooms API", () => {
  const call = (token?: string) =>
    request("/api/create-room", {
      method: "POST",
      body: "{}",
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    });

  it("requires a bearer token", async () => {
    const res = await call();
    expect(res.status).toBe(401);
    expect((await res.json<any>()).error).toMatchObject({ code: "UNAUTHORIZED", message: expect.stringContaining("Bearer") });
  });

  const cases: [string, () => Promise<string>, string, RegExp][] = [
    ["expired", () => mintToken(undefined, { expiresIn: Math.floor(Date.now() / 1000) - 120 }), "TOKEN_EXPIRED", /expired/],
    ["for another audience", () => mintToken(undefined, { aud: "another-app" }), "UNAUTHORIZED", /"aud"/],
    ["from another issuer", () => mintToken(undefined, { iss: "https://evil.example" }), "UNAUTHORIZED", /"iss"/],
    ["signed with an unknown key", () => mintWithUnknownKey(), "UNAUTHORIZED", /signature|key/],
    ["alg none", async () => mintAlgNone(), "UNAUTHORIZED", /.+/],
    ["HS256 keyed with the public key", () => mintHs256WithPublicKey(), "UNAUTHORIZED", /algorithm/],
  ];
  for (const [what, token, code, message] of cases) {
    it(`rejects a token ${what} with ${code}`, async () => {
      const res = await call(await token());
      expect(res.status).toBe(401);
      const { error } = await res.json<any>();
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
      expect(error.requestId).toBeTruthy();
    });
  }

  it("accepts a token within the small clock tolerance", async () => {
    // expired 10 s ago: inside the 30 s tolerance, so auth passes and the request reaches validation
    const res = await request("/api/create-room", {
      method: "POST",
      body: JSON.stringify({ userLimit: 500 }),
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${await mintToken(undefined, { expiresIn: Math.floor(Date.now() / 1000) - 10 })}` },
    });
    expect(res.status).toBe(400);
    expect((await res.json<any>()).error.code).toBe("VALIDATION_FAILED");
  });
});

describe("configuration errors", () => {
  it("a Worker deployed without a required setting answers every request with NOT_CONFIGURED naming it", async () => {
    const { JWT_ISSUER: _issuer, JWT_PUBLIC_JWK_URL: _jwks, ...rest } = env as unknown as Record<string, unknown>;
    for (const path of ["/health", "/api/rooms"]) {
      const res = await app.fetch(new Request(`https://gateway.test${path}`), rest as unknown as Env, createExecutionContext());
      expect(res.status).toBe(500);
      const body = await res.json<any>();
      expect(body.error.code).toBe("NOT_CONFIGURED");
      expect(body.error.details).toEqual({ settings: ["JWT_ISSUER", "JWT_PUBLIC_JWK_URL"] });
      expect(body.error.message).toContain("JWT_ISSUER is not set (your identity provider's issuer");
      expect(body.error.message).toContain("JWT_PUBLIC_JWK_URL is not set");
      expect(JSON.stringify(body)).not.toContain("test-hub-secret");
    }
  });

  it("a malformed setting is named with what is wrong with it", async () => {
    const res = await app.fetch(
      new Request("https://gateway.test/health"),
      { ...(env as unknown as Env), PRIMARY_GUILD_ID: "not-a-guild" },
      createExecutionContext(),
    );
    const body = await res.json<any>();
    expect(body.error.code).toBe("NOT_CONFIGURED");
    expect(body.error.details.settings).toEqual(["PRIMARY_GUILD_ID"]);
  });
});
