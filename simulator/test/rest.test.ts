/**
 * The REST subset, checked at the HTTP level: Discord's error bodies, rate-limit headers and 429s,
 * injected failures, the audit-log reason record and the outage switch.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS, startSimulator, type LocalDiscord } from "../src/index.ts";
import { api } from "./helpers.ts";

let sim: LocalDiscord;

beforeEach(async () => {
  sim = await startSimulator();
});

afterEach(async () => {
  await sim.close();
});

describe("authentication and gateway discovery", () => {
  it("answers a missing or wrong token with Discord's 401 body", async () => {
    for (const auth of [null, "Bot wrong", sim.botToken]) {
      const res = await api(sim, "GET", "/gateway/bot", { auth });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ message: "401: Unauthorized", code: 0 });
    }
  });

  it("describes the gateway: GET /gateway and GET /gateway/bot", async () => {
    expect((await api(sim, "GET", "/gateway", { auth: null })).body).toEqual({ url: sim.gatewayUrl });
    const res = await api(sim, "GET", "/gateway/bot");
    expect(res.body).toEqual({
      url: sim.gatewayUrl,
      shards: 1,
      session_start_limit: { total: 1000, remaining: 1000, reset_after: expect.any(Number), max_concurrency: 1 },
    });
  });

  it("answers unknown paths with 404 and wrong methods with 405", async () => {
    expect(await api(sim, "GET", "/nope")).toMatchObject({ status: 404, body: { message: "404: Not Found", code: 0 } });
    expect(await api(sim, "PATCH", `/channels/${DEMO_CHANNELS.lobby}/typing`)).toMatchObject({ status: 405, body: { code: 0 } });
  });
});

describe("error bodies", () => {
  const channels = `/guilds/${DEMO_GUILD_ID}/channels`;

  it("50035 Invalid Form Body with nested field errors", async () => {
    const missing = await api(sim, "POST", channels, { body: { type: 2 } });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({
      code: 50035,
      message: "Invalid Form Body",
      errors: { name: { _errors: [{ code: "BASE_TYPE_REQUIRED", message: "This field is required" }] } },
    });

    const several = await api(sim, "POST", channels, {
      body: { name: "x".repeat(101), type: 2, user_limit: 100, permission_overwrites: [{ type: 0 }] },
    });
    expect(several.body.errors).toEqual({
      name: { _errors: [{ code: "BASE_TYPE_BAD_LENGTH", message: "Must be between 1 and 100 in length." }] },
      user_limit: { _errors: [{ code: "NUMBER_TYPE_MAX", message: "int value should be less than or equal to 99." }] },
      permission_overwrites: { "0": { id: { _errors: [{ code: "BASE_TYPE_REQUIRED", message: "This field is required" }] } } },
    });
  });

  it("rejects a parent that is not a category of the guild", async () => {
    const res = await api(sim, "POST", channels, { body: { name: "room", type: 2, parent_id: DEMO_CHANNELS.lobby } });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.errors)).toEqual(["parent_id"]);
  });

  it("404 Unknown Guild / Channel / Role / User / Message with their JSON codes", async () => {
    const cases: [string, string, number, string][] = [
      ["GET", "/guilds/1/channels", 10004, "Unknown Guild"],
      ["DELETE", "/channels/1", 10003, "Unknown Channel"],
      ["DELETE", `/guilds/${DEMO_GUILD_ID}/roles/1`, 10011, "Unknown Role"],
      ["PUT", `/guilds/${DEMO_GUILD_ID}/members/1/roles/${DEMO_GUILD_ID}`, 10013, "Unknown User"],
      ["PUT", `/channels/${DEMO_CHANNELS.general}/messages/1/reactions/%F0%9F%91%8D/@me`, 10008, "Unknown Message"],
    ];
    for (const [method, path, code, message] of cases) {
      const res = await api(sim, method, path);
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 404, body: { code, message } });
    }
  });

  it("refuses empty and over-long messages, invalid JSON and non-JSON bodies", async () => {
    const path = `/channels/${DEMO_CHANNELS.general}/messages`;
    expect(await api(sim, "POST", path, { body: {} })).toMatchObject({ status: 400, body: { code: 50006, message: "Cannot send an empty message" } });
    const long = await api(sim, "POST", path, { body: { content: "x".repeat(2001) } });
    expect(long.body.errors.content._errors[0].code).toBe("BASE_TYPE_MAX_LENGTH");
    const badJson = await fetch(`${sim.apiBase}${path}`, {
      method: "POST",
      headers: { Authorization: `Bot ${sim.botToken}`, "Content-Type": "application/json" },
      body: "{",
    });
    expect(await badJson.json()).toEqual({ code: 50109, message: "The request body contains invalid JSON." });
    const text = await fetch(`${sim.apiBase}${path}`, {
      method: "POST",
      headers: { Authorization: `Bot ${sim.botToken}`, "Content-Type": "text/plain" },
      body: "hi",
    });
    expect(text.status).toBe(400);
  });
});

describe("successful calls", () => {
  it("creates and deletes channels, roles, member roles, messages, reactions and typing", async () => {
    const created = await api(sim, "POST", `/guilds/${DEMO_GUILD_ID}/channels`, {
      body: {
        name: "Table 3",
        type: 2,
        user_limit: 4,
        parent_id: DEMO_CHANNELS.gameRooms,
        permission_overwrites: [{ id: DEMO_GUILD_ID, type: 0, deny: "1024" }],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "Table 3",
      type: 2,
      user_limit: 4,
      parent_id: DEMO_CHANNELS.gameRooms,
      guild_id: DEMO_GUILD_ID,
      permission_overwrites: [{ id: DEMO_GUILD_ID, type: 0, allow: "0", deny: "1024" }],
    });
    expect(sim.channels(DEMO_GUILD_ID).some((c) => c.id === created.body.id)).toBe(true);
    expect(await api(sim, "DELETE", `/channels/${created.body.id}`)).toMatchObject({ status: 200, body: { id: created.body.id } });
    expect(sim.channels(DEMO_GUILD_ID).some((c) => c.id === created.body.id)).toBe(false);

    const role = await api(sim, "POST", `/guilds/${DEMO_GUILD_ID}/roles`, { body: { name: "Table 3 players" } });
    expect(role.body).toMatchObject({ name: "Table 3 players", permissions: "0" });
    expect((await api(sim, "PUT", `/guilds/${DEMO_GUILD_ID}/members/${DEMO_USERS.alice}/roles/${role.body.id}`)).status).toBe(204);
    expect((await api(sim, "DELETE", `/guilds/${DEMO_GUILD_ID}/members/${DEMO_USERS.alice}/roles/${role.body.id}`)).status).toBe(204);
    expect((await api(sim, "DELETE", `/guilds/${DEMO_GUILD_ID}/roles/${role.body.id}`)).status).toBe(204);

    const message = await api(sim, "POST", `/channels/${DEMO_CHANNELS.general}/messages`, { body: { content: "gg" } });
    expect(message.body).toMatchObject({ content: "gg", channel_id: DEMO_CHANNELS.general, author: { bot: true } });
    expect((await api(sim, "PUT", `/channels/${DEMO_CHANNELS.general}/messages/${message.body.id}/reactions/%F0%9F%91%8D/@me`)).status).toBe(204);
    expect((await api(sim, "POST", `/channels/${DEMO_CHANNELS.general}/typing`)).status).toBe(204);
  });

  it("records every request with its decoded X-Audit-Log-Reason", async () => {
    sim.clearRequests();
    await api(sim, "POST", `/guilds/${DEMO_GUILD_ID}/channels`, {
      body: { name: "Room", type: 2 },
      headers: { "X-Audit-Log-Reason": encodeURIComponent("Spell Coven: room für alice") },
    });
    await api(sim, "GET", "/gateway/bot", { auth: "Bot wrong" });
    expect(sim.requests()).toEqual([
      expect.objectContaining({
        method: "POST",
        path: `/api/v10/guilds/${DEMO_GUILD_ID}/channels`,
        body: { name: "Room", type: 2 },
        auditLogReason: "Spell Coven: room für alice",
        status: 201,
        bucket: expect.any(String),
      }),
      expect.objectContaining({ method: "GET", path: "/api/v10/gateway/bot", auditLogReason: null, status: 401 }),
    ]);
  });
});

describe("rate limits", () => {
  it("announces buckets in headers: per route template, split by major parameter", async () => {
    sim.setRateLimits({ routeLimit: 3, routeWindowMs: 10_000 });
    const typing = (channel: string) => api(sim, "POST", `/channels/${channel}/typing`);
    const a1 = await typing(DEMO_CHANNELS.general);
    const a2 = await typing(DEMO_CHANNELS.general);
    const b1 = await typing(DEMO_CHANNELS.lobby);
    const other = await api(sim, "GET", `/guilds/${DEMO_GUILD_ID}/channels`);
    expect(a1.headers.get("x-ratelimit-limit")).toBe("3");
    expect([a1, a2, b1].map((r) => r.headers.get("x-ratelimit-remaining"))).toEqual(["2", "1", "2"]);
    expect(a1.headers.get("x-ratelimit-bucket")).toBe(b1.headers.get("x-ratelimit-bucket"));
    expect(other.headers.get("x-ratelimit-bucket")).not.toBe(a1.headers.get("x-ratelimit-bucket"));
    const resetAfter = Number(a2.headers.get("x-ratelimit-reset-after"));
    expect(resetAfter).toBeGreaterThan(9);
    expect(resetAfter).toBeLessThanOrEqual(10);
    expect(Number(a2.headers.get("x-ratelimit-reset")) * 1000).toBeGreaterThan(Date.now() + 9000);
  });

  it("answers a route over its limit with a user-scope 429", async () => {
    sim.setRateLimits({ routeLimit: 2, routeWindowMs: 1500 });
    const path = `/channels/${DEMO_CHANNELS.general}/typing`;
    await api(sim, "POST", path);
    await api(sim, "POST", path);
    const limited = await api(sim, "POST", path);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ message: "You are being rate limited.", retry_after: expect.any(Number), global: false });
    expect(limited.body.retry_after).toBeGreaterThan(1);
    expect(limited.body.retry_after).toBeLessThanOrEqual(1.5);
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(limited.headers.get("x-ratelimit-scope")).toBe("user");
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(limited.headers.has("x-ratelimit-global")).toBe(false);
  });

  it("answers requests over the global limit with a global 429", async () => {
    sim.setRateLimits({ globalPerSecond: 3 });
    const results = [];
    for (const channel of Object.values(DEMO_CHANNELS)) results.push(await api(sim, "GET", `/channels/${channel}`));
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBe(2);
    expect(limited[0]!.body).toMatchObject({ message: "You are being rate limited.", global: true });
    expect(limited[0]!.headers.get("x-ratelimit-global")).toBe("true");
    expect(limited[0]!.headers.get("x-ratelimit-scope")).toBe("global");
  });

  it("failNext: injected 429s have shared scope, other statuses a generic body, and a pattern picks the route", async () => {
    sim.failNext(1, 429, /typing/, 2);
    sim.failNext(1, 502);
    const shared = await api(sim, "POST", `/channels/${DEMO_CHANNELS.general}/typing`);
    expect(shared.status).toBe(429);
    expect(shared.headers.get("x-ratelimit-scope")).toBe("shared");
    expect(shared.body).toEqual({ message: "The resource is being rate limited.", retry_after: 2, global: false });
    expect(await api(sim, "GET", "/gateway/bot")).toMatchObject({ status: 502, body: { message: "502: Bad Gateway", code: 0 } });
    expect((await api(sim, "GET", "/gateway/bot")).status).toBe(200);
  });
});

describe("outage", () => {
  it("answers 503 while down, and serves again after comeBack()", async () => {
    sim.goDown();
    expect(await api(sim, "GET", "/gateway/bot")).toMatchObject({ status: 503, body: { message: "503: Service Unavailable" } });
    sim.comeBack();
    expect((await api(sim, "GET", "/gateway/bot")).status).toBe(200);
  });
});

describe("moving members between voice channels (Modify Guild Member channel_id)", () => {
  const { alice } = DEMO_USERS;
  const path = `/guilds/${DEMO_GUILD_ID}/members/${alice}`;
  const channelOf = (userId: string) => sim.voiceStates(DEMO_GUILD_ID).find((v) => v.user_id === userId)?.channel_id ?? null;

  it("moves a connected member, dispatching the voice state change, and disconnects with null", async () => {
    sim.joinVoice(DEMO_GUILD_ID, alice, DEMO_CHANNELS.table1);
    const moved = await api(sim, "PATCH", path, { body: { channel_id: DEMO_CHANNELS.table2 } });
    expect(moved.status).toBe(200);
    expect((moved.body as { user: { id: string } }).user.id).toBe(alice);
    expect(channelOf(alice)).toBe(DEMO_CHANNELS.table2);
    expect((await api(sim, "PATCH", path, { body: { channel_id: null } })).status).toBe(200);
    expect(channelOf(alice)).toBeNull();
  });

  it("answers as Discord does: 40032 when the member is not in voice, 50013 without Move Members, 50035 for bad fields", async () => {
    expect(await api(sim, "PATCH", path, { body: { channel_id: DEMO_CHANNELS.table1 } })).toMatchObject({ status: 400, body: { code: 40032 } });
    sim.joinVoice(DEMO_GUILD_ID, alice, DEMO_CHANNELS.table1);
    sim.denyBotPermissions(DEMO_GUILD_ID, 1n << 24n); // MOVE_MEMBERS
    expect(await api(sim, "PATCH", path, { body: { channel_id: DEMO_CHANNELS.table2 } })).toMatchObject({ status: 403, body: { code: 50013 } });
    sim.denyBotPermissions(DEMO_GUILD_ID, 0n);
    expect(await api(sim, "PATCH", path, { body: { channel_id: "nope" } })).toMatchObject({ status: 400, body: { code: 50035 } });
    expect(await api(sim, "PATCH", path, { body: { nick: "x" } })).toMatchObject({ status: 400, body: { code: 50035 } });
    expect(channelOf(alice)).toBe(DEMO_CHANNELS.table1);
  });
});
