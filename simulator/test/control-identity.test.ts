/**
 * The control HTTP API (what the control page and scripts use) and the identity provider
 * (JWKS + development JWTs), verified with jose the way the Worker verifies tokens.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS, startSimulator, type LocalDiscord } from "../src/index.ts";

let sim: LocalDiscord;

beforeEach(async () => {
  sim = await startSimulator();
});

afterEach(async () => {
  await sim.close();
});

async function control(method: "GET" | "POST", name: string, body?: unknown, raw?: string) {
  const res = await fetch(`${sim.url}/control/${name}`, {
    method,
    headers: { "Content-Type": "application/json" },
    ...(method === "POST" && { body: raw ?? JSON.stringify(body ?? {}) }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

describe("control API", () => {
  it("scripts the world: a join over HTTP shows in the state and in the in-process API", async () => {
    const joined = await control("POST", "joinVoice", { guildId: DEMO_GUILD_ID, userId: DEMO_USERS.bob, channelId: DEMO_CHANNELS.table1 });
    expect(joined).toMatchObject({ status: 200, body: { ok: true } });
    expect(sim.voiceStates(DEMO_GUILD_ID)).toEqual([expect.objectContaining({ user_id: DEMO_USERS.bob, channel_id: DEMO_CHANNELS.table1 })]);
    const state = (await control("GET", "state")).body;
    expect(state.guilds[0].voiceStates).toEqual([expect.objectContaining({ user_id: DEMO_USERS.bob })]);
    expect(state.gateway).toMatchObject({ openConnections: 0, identifies: 0 });
  });

  it("returns what creating methods return, and lists users without the bot", async () => {
    const user = await control("POST", "addUser", { username: "erin" });
    expect(user.body.result).toEqual({ id: expect.stringMatching(/^\d{17,20}$/), username: "erin" });
    const users = (await control("GET", "users")).body as { username: string }[];
    expect(users.map((u) => u.username)).toEqual(["alice", "bob", "carol", "dave", "erin"]);
    expect(users.every((u) => !("bot" in u))).toBe(true);
  });

  it("records REST requests for assertions", async () => {
    await fetch(`${sim.apiBase}/channels/${DEMO_CHANNELS.general}/typing`, { method: "POST", headers: { Authorization: `Bot ${sim.botToken}` } });
    const requests = (await control("GET", "requests")).body;
    expect(requests).toEqual([expect.objectContaining({ method: "POST", path: `/api/v10/channels/${DEMO_CHANNELS.general}/typing`, status: 204 })]);
  });

  it("rejects bad input with 400 {error:{code,message}}", async () => {
    const missing = await control("POST", "joinVoice", { guildId: DEMO_GUILD_ID });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe("invalid_body");
    expect(missing.body.error.message).toContain("userId");
    expect((await control("POST", "joinVoice", { guildId: DEMO_GUILD_ID, userId: DEMO_USERS.bob, channelId: DEMO_CHANNELS.lobby, extra: 1 })).status).toBe(400);
    expect((await control("POST", "closeWith", undefined, "{not json")).body.error.code).toBe("invalid_json");
    expect((await control("POST", "failNext", { count: 1, status: 500, match: "(" })).body.error.code).toBe("invalid_body");
    expect((await control("POST", "failAfterApplying", { count: 1, status: 404 })).body.error.code).toBe("invalid_body"); // only 0 (dropped) or a 5xx
    expect((await control("POST", "closeWith", { code: 1006 })).body.error.code).toBe("invalid_argument");
    expect((await control("POST", "noSuchThing", {})).status).toBe(404);
  });

  it("maps world errors to their Discord code", async () => {
    const res = await control("POST", "joinVoice", { guildId: DEMO_GUILD_ID, userId: DEMO_USERS.bob, channelId: "1" });
    expect(res).toMatchObject({ status: 404, body: { error: { code: "discord_10003", message: "Unknown Channel" } } });
  });

  it("serves the control page and answers CORS preflights", async () => {
    const page = await fetch(`${sim.url}/`);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("/control/state");
    const preflight = await fetch(`${sim.url}/control/token`, { method: "OPTIONS" });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("identity provider", () => {
  it("mints RS256 tokens that verify against the JWKS with issuer and audience", async () => {
    const jwks = createRemoteJWKSet(new URL(sim.jwksUrl));
    const token = await sim.mintToken(DEMO_USERS.alice);
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: sim.jwtIssuer, audience: "spell-coven-web" });
    expect(protectedHeader.alg).toBe("RS256");
    expect(payload).toMatchObject({ sub: DEMO_USERS.alice, name: "alice", iss: sim.url, aud: "spell-coven-web" });
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it("publishes the key with kid, alg and use, and CORS for browsers", async () => {
    const res = await fetch(sim.jwksUrl);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const { keys } = (await res.json()) as { keys: Record<string, string>[] };
    expect(keys).toEqual([expect.objectContaining({ kty: "RSA", alg: "RS256", use: "sig", kid: expect.any(String), n: expect.any(String), e: "AQAB" })]);
    expect(keys[0]).not.toHaveProperty("d"); // never the private half
  });

  it("mints over HTTP; honours expiry, audience and issuer overrides", async () => {
    const jwks = createRemoteJWKSet(new URL(sim.jwksUrl));
    const { token } = (await control("POST", "token", { userId: DEMO_USERS.bob, expiresInSeconds: 60, audience: "other-app", issuer: "https://issuer.test" }))
      .body;
    const { payload } = await jwtVerify(token, jwks, { issuer: "https://issuer.test", audience: "other-app" });
    expect(payload.exp! - payload.iat!).toBe(60);
    await expect(jwtVerify(token, jwks, { audience: "spell-coven-web" })).rejects.toThrow();
    const expired = await sim.mintToken(DEMO_USERS.bob, { expiresInSeconds: -10 });
    await expect(jwtVerify(expired, jwks)).rejects.toThrow(/exp/);
  });

  it("refuses to mint for an unknown user", async () => {
    await expect(sim.mintToken("1")).rejects.toThrow("Unknown User");
    expect((await control("POST", "token", { userId: "1" })).status).toBe(404);
  });
});
