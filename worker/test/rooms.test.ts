import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { GUILD_ID, connect, events, mintToken, postEvents, request } from "./helpers.ts";

const control = inject("discordControlUrl");

async function sim(action: string, body: unknown = {}) {
  const res = await fetch(`${control}/${action}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`simulator ${action}: ${res.status} ${await res.text()}`);
  return (await res.json<any>()).result;
}
async function discordRequests(): Promise<any[]> {
  return (await fetch(`${control}/requests`)).json();
}

async function createRoom(body: unknown, token?: string) {
  return request("/api/create-room", {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token ?? (await mintToken("200000000000000077"))}` },
  });
}
async function endRoom(channelId: string) {
  return request(`/api/end-room/${channelId}`, { method: "DELETE", headers: { Authorization: `Bearer ${await mintToken("200000000000000077")}` } });
}

beforeAll(async () => {
  // Roomy buckets: these tests are about failures, not about waiting for Discord's windows.
  await sim("setRateLimits", { routeLimit: 1000, routeWindowMs: 1000, globalPerSecond: 1000 });
});

afterEach(async () => {
  await sim("clearRequests");
});

describe("POST /api/create-room", () => {
  it("creates a voice channel on Discord, answers with it, and broadcasts room.created", async () => {
    const client = await connect();
    const res = await createRoom({ name: "Friday Commander", userLimit: 4 });
    expect(res.status).toBe(201);
    const room = await res.json<any>();
    expect(room).toEqual({ channelId: expect.stringMatching(/^\d+$/), name: "Friday Commander", guildId: GUILD_ID });

    const [req] = (await discordRequests()).filter((r) => r.method === "POST");
    expect(req.path).toBe(`/api/v10/guilds/${GUILD_ID}/channels`);
    expect(req.body).toMatchObject({ name: "Friday Commander", type: 2, user_limit: 4 });
    expect(req.auditLogReason).toContain("200000000000000077");

    const ev = await client.next((m) => m.event === "room.created");
    expect(ev.payload).toEqual(room);
  });

  it("broadcasts a room once even when gateway-node reports the same CHANNEL_CREATE", async () => {
    const client = await connect();
    const room = await (await createRoom({ name: "Twice Reported" })).json<any>();
    const dup = { id: `room.created:${room.channelId}`, guildId: GUILD_ID, event: "room.created", payload: room };
    expect(await (await postEvents([dup])).json()).toMatchObject({ duplicates: 1 });
    await client.next((m) => m.event === "room.created" && m.payload.channelId === room.channelId);
    await postEvents([{ id: `marker:${Date.now()}`, guildId: GUILD_ID, event: "voice.joined", payload: { guildId: GUILD_ID, channelId: room.channelId, userId: "300000000000000555" } }]);
    await client.next((m) => m.event === "voice.joined" && m.payload.userId === "300000000000000555");
    expect(events(client).filter((m) => m.event === "room.created" && m.payload.channelId === room.channelId)).toHaveLength(1);
  });

  it("waits out a 429 by its retry_after, then succeeds", async () => {
    await sim("failNext", { count: 1, status: 429, match: "/channels$", retryAfterSeconds: 0.3 });
    const started = Date.now();
    const res = await createRoom({ name: "After Rate Limit" });
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const posts = (await discordRequests()).filter((r) => r.method === "POST");
    expect(posts.map((r) => r.status)).toEqual([429, 201]);
  });

  it("retries 5xx with backoff and succeeds within MAX_API_RETRIES", async () => {
    await sim("failNext", { count: 2, status: 502, match: "/channels$" });
    const res = await createRoom({ name: "After Outage" });
    expect(res.status).toBe(201);
    expect((await discordRequests()).filter((r) => r.method === "POST").map((r) => r.status)).toEqual([502, 502, 201]);
  });

  it("gives up after MAX_API_RETRIES with a clear 502 and no room announced", async () => {
    await sim("failNext", { count: 3, status: 500, match: "/channels$" }); // exactly 1 + MAX_API_RETRIES
    const res = await createRoom({ name: "Never Made" });
    expect(res.status).toBe(502);
    const { error } = await res.json<any>();
    expect(error.code).toBe("DISCORD_UNAVAILABLE");
    expect(error.message).toMatch(/try again/i);
    expect(error.requestId).toBeTruthy();
    expect((await discordRequests()).filter((r) => r.method === "POST")).toHaveLength(3); // 1 + MAX_API_RETRIES (2)
  });

  it("maps Discord's 403 to a clear 403", async () => {
    await sim("failNext", { count: 1, status: 403, match: "/channels$" });
    const res = await createRoom({ name: "Forbidden" });
    expect(res.status).toBe(403);
    expect((await res.json<any>()).error).toMatchObject({ code: "DISCORD_FORBIDDEN", message: expect.stringMatching(/permission/) });
  });

  it("validates input before calling Discord", async () => {
    for (const body of [{ userLimit: 100 }, { name: "" }, { parentId: "not-a-snowflake" }, { name: "x".repeat(101) }]) {
      const res = await createRoom(body);
      expect(res.status).toBe(400);
      expect((await res.json<any>()).error.code).toBe("VALIDATION_FAILED");
    }
    const bad = await createRoom("{nope");
    expect((await bad.json<any>()).error.code).toBe("INVALID_JSON");
    expect(await discordRequests()).toHaveLength(0);
  });
});

describe("DELETE /api/end-room/:channelId", () => {
  it("deletes the channel on Discord and broadcasts room.deleted", async () => {
    const room = await (await createRoom({ name: "Short Game" })).json<any>();
    const client = await connect();
    const res = await endRoom(room.channelId);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ channelId: room.channelId, guildId: GUILD_ID, deleted: true });
    const del = (await discordRequests()).find((r) => r.method === "DELETE");
    expect(del.path).toBe(`/api/v10/channels/${room.channelId}`);
    expect(del.auditLogReason).toMatch(/ended/);
    expect((await client.next((m) => m.event === "room.deleted")).payload).toEqual({ channelId: room.channelId, guildId: GUILD_ID });
  });

  it("answers 404 for a channel Discord does not know", async () => {
    const res = await endRoom("1234567890123456789");
    expect(res.status).toBe(404);
    expect((await res.json<any>()).error.code).toBe("DISCORD_NOT_FOUND");
  });

  it("rejects a malformed channel id and a missing token", async () => {
    expect((await endRoom("abc")).status).toBe(400);
    expect((await request("/api/end-room/1234567890123456789", { method: "DELETE" })).status).toBe(401);
  });
});
