import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject, evictDurableObject } from "cloudflare:test";
import { PermissionFlagsBits } from "discord-api-types/v10";
import { GUILD_ID, connect, events, postEvents, request, voiceJoined, voiceLeft } from "./helpers.ts";
import { ageRoom, control, createRoom, discordRequests, endRoom, errorOf, hub, invite, join, listRooms, newPlayer, sim } from "./rooms-helpers.ts";
import { signInvite, INVITE_TTL_MS } from "../src/auth/invite-token.ts";

const IDLE_MS = 3600 * 1000;

beforeAll(async () => {
  // Roomy buckets: these tests are about rooms and failures, not about waiting for Discord's windows.
  await sim("setRateLimits", { routeLimit: 1000, routeWindowMs: 1000, globalPerSecond: 1000 });
});
afterEach(async () => {
  await sim("clearRequests");
});

describe("creating rooms", () => {
  it("creates a public voice channel with 4 seats by default, records the room, and broadcasts room.created", async () => {
    const alice = await newPlayer();
    const client = await connect();
    const res = await createRoom(alice, { name: "Friday Commander" });
    expect(res.status).toBe(201);
    const room = await res.json<any>();
    expect(room).toMatchObject({
      name: "Friday Commander",
      guildId: GUILD_ID,
      private: false,
      userLimit: 4,
      creatorId: alice,
      members: [alice],
      voice: [],
      closingAt: null,
    });
    const [req] = (await discordRequests()).filter((r) => r.method === "POST");
    expect(req.path).toBe(`/api/v10/guilds/${GUILD_ID}/channels`);
    expect(req.body).toMatchObject({ name: "Friday Commander", type: 2, user_limit: 4 });
    expect(req.auditLogReason).toContain(alice);
    expect((await client.next((m) => m.event === "room.created")).payload).toEqual({ channelId: room.channelId, name: "Friday Commander", guildId: GUILD_ID });
    expect((await listRooms(alice)).map((r) => r.channelId)).toContain(room.channelId);
  });

  it("creates a private room: a role, a channel only that role can see and join, and the role for its creator", async () => {
    const alice = await newPlayer();
    const room = await (await createRoom(alice, { name: "Secret Table", private: true, userLimit: 3 })).json<any>();
    expect(room).toMatchObject({ private: true, userLimit: 3 });
    const reqs = await discordRequests();
    const role = reqs.find((r) => r.method === "POST" && r.path.endsWith("/roles"));
    expect(role.status).toBe(200);
    const channel = reqs.find((r) => r.method === "POST" && r.path.endsWith("/channels"));
    const overwrites = channel.body.permission_overwrites as any[];
    const everyone = overwrites.find((o) => o.id === GUILD_ID);
    expect(BigInt(everyone.deny) & PermissionFlagsBits.ViewChannel).toBe(PermissionFlagsBits.ViewChannel);
    expect(BigInt(everyone.deny) & PermissionFlagsBits.Connect).toBe(PermissionFlagsBits.Connect);
    const roleOverwrite = overwrites.find((o) => o.id !== GUILD_ID && o.type === 0);
    expect(BigInt(roleOverwrite.allow) & PermissionFlagsBits.Connect).toBe(PermissionFlagsBits.Connect);
    const grant = reqs.find((r) => r.method === "PUT" && r.path.includes(`/members/${alice}/roles/${roleOverwrite.id}`));
    expect(grant?.status).toBe(204);
  });

  it("returns the first result for a retried create with the same Idempotency-Key, and makes one channel", async () => {
    const alice = await newPlayer();
    const headers = { "Idempotency-Key": "create-7f3a" };
    const first = await createRoom(alice, { name: "Once Only" }, headers);
    const second = await createRoom(alice, { name: "Once Only" }, headers);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    expect((await second.json<any>()).channelId).toBe((await first.json<any>()).channelId);
    expect((await discordRequests()).filter((r) => r.method === "POST" && r.path.endsWith("/channels"))).toHaveLength(1);
    const reused = await createRoom(alice, { name: "Something Else" }, headers);
    expect(reused.status).toBe(422);
    expect((await errorOf(reused)).code).toBe("IDEMPOTENCY_KEY_REUSED");
  });

  it("limits room creation per player with a clear 429 and Retry-After, without affecting others", async () => {
    const alice = await newPlayer();
    for (let i = 0; i < 3; i++) expect((await createRoom(alice, { name: `Room ${i}` })).status).toBe(201);
    const limited = await createRoom(alice, { name: "One Too Many" });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await errorOf(limited)).toMatchObject({ code: "RATE_LIMITED", message: expect.stringMatching(/try again in \d+ s/) });
    expect((await createRoom(await newPlayer(), { name: "Someone Else's" })).status).toBe(201);
  });

  it("broadcasts a room once even when gateway-node reports the same CHANNEL_CREATE", async () => {
    const client = await connect();
    const room = await (await createRoom(await newPlayer(), { name: "Twice Reported" })).json<any>();
    const dup = {
      id: `room.created:${room.channelId}`,
      guildId: GUILD_ID,
      event: "room.created",
      payload: { channelId: room.channelId, name: room.name, guildId: GUILD_ID },
    };
    expect(await (await postEvents([dup])).json()).toMatchObject({ duplicates: 1 });
    await postEvents([voiceJoined("300000000000000555", room.channelId)]);
    await client.next((m) => m.event === "voice.joined" && m.payload.userId === "300000000000000555");
    expect(events(client).filter((m) => m.event === "room.created" && m.payload.channelId === room.channelId)).toHaveLength(1);
  });

  it("validates input before calling Discord", async () => {
    const alice = await newPlayer();
    for (const body of [{ userLimit: 100 }, { userLimit: 0 }, { name: "" }, { parentId: "not-a-snowflake" }, { name: "x".repeat(101) }, { private: "yes" }]) {
      const res = await createRoom(alice, body);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe("VALIDATION_FAILED");
    }
    expect((await errorOf(await createRoom(alice, "{nope"))).code).toBe("INVALID_JSON");
    expect((await errorOf(await createRoom("player-without-discord", { private: true }))).code).toBe("DISCORD_ACCOUNT_REQUIRED");
    expect(await discordRequests()).toHaveLength(0);
  });
});

describe("Discord failures", () => {
  it("waits out a 429 by its retry_after, then succeeds", async () => {
    await sim("failNext", { count: 1, status: 429, match: "/channels$", retryAfterSeconds: 0.3 });
    const started = Date.now();
    expect((await createRoom(await newPlayer(), { name: "After Rate Limit" })).status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect((await discordRequests()).filter((r) => r.method === "POST").map((r) => r.status)).toEqual([429, 201]);
  });

  it("retries 5xx with backoff and succeeds within MAX_API_RETRIES", async () => {
    await sim("failNext", { count: 2, status: 502, match: "^POST .*/channels$" });
    expect((await createRoom(await newPlayer(), { name: "After Outage" })).status).toBe(201);
    expect((await discordRequests()).filter((r) => r.method === "POST").map((r) => r.status)).toEqual([502, 502, 201]);
  });

  it("a channel Discord made although its answer was lost becomes the room; no second channel", async () => {
    const client = await connect();
    await sim("failAfterApplying", { count: 1, status: 0, match: "^POST .*/channels$" });
    const res = await createRoom(await newPlayer(), { name: "Answer Lost" });
    expect(res.status).toBe(201);
    const room = await res.json<any>();
    const reqs = await discordRequests();
    expect(reqs.filter((r) => r.method === "POST" && r.path.endsWith("/channels")).map((r) => r.status)).toEqual([0]);
    const state = await (await fetch(`${control}/state`)).json<any>();
    expect(JSON.stringify(state).split('"Answer Lost"').length - 1).toBe(1);
    await client.next((m) => m.event === "room.created" && m.payload.channelId === room.channelId);
  });

  it("gives up after MAX_API_RETRIES with a clear 502 and announces nothing", async () => {
    const client = await connect();
    await sim("failNext", { count: 3, status: 500, match: "^POST .*/channels$" }); // exactly 1 + MAX_API_RETRIES
    const res = await createRoom(await newPlayer(), { name: "Never Made" });
    expect(res.status).toBe(502);
    expect(await errorOf(res)).toMatchObject({ code: "DISCORD_UNAVAILABLE", message: expect.stringMatching(/try again/i), requestId: expect.any(String) });
    expect((await discordRequests()).filter((r) => r.method === "POST")).toHaveLength(3);
    expect(events(client).some((m) => m.event === "room.created" && m.payload.name === "Never Made")).toBe(false);
  });

  it("maps Discord's 403 to a clear 403", async () => {
    await sim("failNext", { count: 1, status: 403, match: "/channels$" });
    const res = await createRoom(await newPlayer(), { name: "Forbidden" });
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: "DISCORD_FORBIDDEN", message: expect.stringMatching(/permission/) });
  });

  it("leaves no channel or role behind when giving the creator the role fails part-way", async () => {
    const alice = await newPlayer();
    await sim("failNext", { count: 3, status: 500, match: `/members/${alice}/roles/` });
    const res = await createRoom(alice, { name: "Half Made", private: true });
    expect(res.status).toBe(502);
    const reqs = await discordRequests();
    const channel = reqs.find((r) => r.method === "POST" && r.path.endsWith("/channels") && r.status === 201);
    const role = reqs.find((r) => r.method === "POST" && r.path.endsWith("/roles") && r.status === 200);
    expect(channel && role).toBeTruthy();
    const state = await (await fetch(`${control}/state`)).json<any>();
    const channels = JSON.stringify(state);
    expect(reqs.some((r) => r.method === "DELETE" && r.status < 300 && r.path.startsWith("/api/v10/channels/"))).toBe(true);
    expect(reqs.some((r) => r.method === "DELETE" && r.status < 300 && /\/roles\/\d+$/.test(r.path))).toBe(true);
    expect(channels).not.toContain('"Half Made"');
    expect((await listRooms(alice)).some((r) => r.name === "Half Made")).toBe(false);
  });
});

describe("invites and joining", () => {
  async function privateRoom(userLimit = 4) {
    const owner = await newPlayer();
    const room = await (await createRoom(owner, { name: "Invite Only", private: true, userLimit })).json<any>();
    const inv = await (await invite(owner, room.channelId)).json<any>();
    return { owner, room, inv };
  }

  it("signs a 24 h invite bound to the room, with a link to the lobby", async () => {
    const { room, inv } = await privateRoom();
    expect(inv.expiresAt - Date.now()).toBeGreaterThan(INVITE_TTL_MS - 60_000);
    const url = new URL(inv.url);
    expect(url.searchParams.get("room")).toBe(room.channelId);
    expect(url.searchParams.get("invite")).toBe(inv.token);
  });

  it("lets a player with a valid invite join: a seat and the room's role on Discord", async () => {
    const { room, inv } = await privateRoom();
    const watcher = await connect();
    const bob = await newPlayer();
    const res = await join(bob, room.channelId, inv.token);
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body.alreadyMember).toBe(false);
    expect(body.room.members).toContain(bob);
    expect((await discordRequests()).some((r) => r.method === "PUT" && r.path.includes(`/members/${bob}/roles/`) && r.status === 204)).toBe(true);
    const seated = await watcher.next((m) => m.event === "room.seated" && m.payload.userId === bob);
    expect(seated.payload).toEqual({ guildId: GUILD_ID, channelId: room.channelId, userId: bob });
    expect((await (await join(bob, room.channelId, inv.token)).json<any>()).alreadyMember).toBe(true);
  });

  it("refuses private rooms without an invite, and invites from outsiders", async () => {
    const { room } = await privateRoom();
    const res = await join(await newPlayer(), room.channelId);
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe("INVITE_REQUIRED");
    const outsider = await invite(await newPlayer(), room.channelId);
    expect(outsider.status).toBe(403);
    expect((await errorOf(outsider)).code).toBe("NOT_ROOM_MEMBER");
  });

  it("answers tampered, expired and other-room invites with clear errors, not crashes", async () => {
    const { room, inv } = await privateRoom();
    const other = await privateRoom();
    const [v, payload, mac] = inv.token.split(".");
    const flipped = `${v}.${payload}.${mac.slice(0, -2)}${mac.endsWith("AA") ? "BB" : "AA"}`;
    const forgedPayload = `${v}.${btoa(JSON.stringify({ g: GUILD_ID, c: room.channelId, exp: Date.now() + 9e9, by: "x", n: "y" })).replace(/=+$/, "")}.${mac}`;
    const expired = (await signInvite(env.HUB_SECRET!, { guildId: GUILD_ID, channelId: room.channelId, invitedBy: "x" }, Date.now() - INVITE_TTL_MS - 1000))
      .token;
    const cases: [string, number, string][] = [
      [flipped, 400, "INVITE_INVALID"],
      [forgedPayload, 400, "INVITE_INVALID"],
      ["garbage", 400, "INVITE_INVALID"],
      [expired, 410, "INVITE_EXPIRED"],
      [other.inv.token, 403, "INVITE_WRONG_ROOM"],
    ];
    for (const [token, status, code] of cases) {
      const res = await join(await newPlayer(), room.channelId, token);
      expect(res.status, code).toBe(status);
      expect((await errorOf(res)).code).toBe(code);
    }
  });

  it("answers ROOM_FULL when seats (members and people in voice) are taken", async () => {
    const { room, inv } = await privateRoom(3);
    expect((await join(await newPlayer(), room.channelId, inv.token)).status).toBe(200); // seat 2
    await postEvents([voiceJoined("300000000000000777", room.channelId)]); // someone already in voice: seat 3
    const full = await join(await newPlayer(), room.channelId, inv.token);
    expect(full.status).toBe(409);
    expect(await errorOf(full)).toMatchObject({ code: "ROOM_FULL", message: expect.stringContaining("3 of 3") });
    await postEvents([voiceLeft("300000000000000777", room.channelId)]);
    expect((await join(await newPlayer(), room.channelId, inv.token)).status).toBe(200);
  });

  it("gives the last seat to exactly one of two racing players", async () => {
    const { room, inv } = await privateRoom(2);
    const [a, b] = [await newPlayer(), await newPlayer()];
    const results = await Promise.all([join(a, room.channelId, inv.token), join(b, room.channelId, inv.token)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const rooms = await listRooms(a);
    expect(rooms.find((r) => r.channelId === room.channelId).members).toHaveLength(2);
  });

  it("tells a player who is not in the Discord server to join it first, and keeps the seat free", async () => {
    const { room, inv } = await privateRoom(2);
    const res = await join("299999999999999999", room.channelId, inv.token); // valid token, but not a server member
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: "NOT_GUILD_MEMBER", message: expect.stringMatching(/join it first/) });
    expect((await join(await newPlayer(), room.channelId, inv.token)).status).toBe(200);
  });

  it("releases the seat when Discord refuses the role", async () => {
    const { room, inv } = await privateRoom(2);
    const bob = await newPlayer();
    await sim("failNext", { count: 3, status: 500, match: `/members/${bob}/roles/` });
    expect((await join(bob, room.channelId, inv.token)).status).toBe(502);
    expect((await join(await newPlayer(), room.channelId, inv.token)).status).toBe(200);
  });
});

describe("ending rooms", () => {
  it("lets only the creator (or an admin) end a room", async () => {
    const alice = await newPlayer();
    const room = await (await createRoom(alice, { name: "Mine" })).json<any>();
    const other = await endRoom(await newPlayer(), room.channelId);
    expect(other.status).toBe(403);
    expect((await errorOf(other)).code).toBe("NOT_ROOM_CREATOR");
    const admin = await endRoom(await newPlayer(), room.channelId, { roles: ["admin"] });
    expect(admin.status).toBe(200);
  });

  it("deletes the channel and role on Discord and broadcasts room.deleted", async () => {
    const alice = await newPlayer();
    const room = await (await createRoom(alice, { name: "Short Game", private: true })).json<any>();
    const client = await connect();
    const res = await endRoom(alice, room.channelId);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ channelId: room.channelId, guildId: GUILD_ID, deleted: true });
    const reqs = await discordRequests();
    expect(reqs.find((r) => r.method === "DELETE" && r.path === `/api/v10/channels/${room.channelId}`)?.auditLogReason).toMatch(/ended/);
    expect(reqs.some((r) => r.method === "DELETE" && /\/roles\/\d+$/.test(r.path) && r.status === 204)).toBe(true);
    expect((await client.next((m) => m.event === "room.deleted")).payload).toEqual({ channelId: room.channelId, guildId: GUILD_ID });
    expect((await listRooms(alice)).some((r) => r.channelId === room.channelId)).toBe(false);
  });

  it("retries a role deletion Discord failed until it succeeds, driven by the alarm", async () => {
    const alice = await newPlayer();
    const room = await (await createRoom(alice, { name: "Stubborn Role", private: true })).json<any>();
    await sim("failNext", { count: 3, status: 500, match: "/roles/\\d+$" });
    expect((await endRoom(alice, room.channelId)).status).toBe(200);
    const alarmAt = await runInDurableObject(hub(), (_inst, state) => state.storage.getAlarm());
    expect(alarmAt).not.toBeNull();
    expect(alarmAt!).toBeLessThanOrEqual(Date.now() + 6_000); // the retry is due in 5 s
    await runInDurableObject(hub(), (_inst, state) => {
      state.storage.sql.exec("UPDATE discord_cleanup SET next_at = ?", Date.now() - 1);
    });
    await sim("clearRequests");
    await runDurableObjectAlarm(hub());
    expect((await discordRequests()).some((r) => r.method === "DELETE" && /\/roles\/\d+$/.test(r.path) && r.status === 204)).toBe(true);
    const left = await runInDurableObject(hub(), (_inst, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM discord_cleanup").one().n);
    expect(left).toBe(0);
  });

  it("answers 404 for rooms it does not manage, 400 for malformed ids and 401 without a token", async () => {
    const res = await endRoom(await newPlayer(), "1234567890123456789");
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("ROOM_NOT_FOUND");
    expect((await endRoom(await newPlayer(), "abc")).status).toBe(400);
    expect((await request("/api/end-room/1234567890123456789", { method: "DELETE" })).status).toBe(401);
  });

  it("forgets a room whose channel was deleted in Discord, and deletes its role", async () => {
    const alice = await newPlayer();
    const room = await (await createRoom(alice, { name: "Deleted Elsewhere", private: true })).json<any>();
    await sim("clearRequests");
    await postEvents([
      { id: `room.deleted:${room.channelId}`, guildId: GUILD_ID, event: "room.deleted", payload: { channelId: room.channelId, guildId: GUILD_ID } },
    ]);
    expect((await listRooms(alice)).some((r) => r.channelId === room.channelId)).toBe(false);
    await runDurableObjectAlarm(hub());
    expect((await discordRequests()).some((r) => r.method === "DELETE" && /\/roles\/\d+$/.test(r.path) && r.status === 204)).toBe(true);
  });
});

describe("inactivity cleanup", () => {
  it("warns with room.closing after an idle hour, cancels when someone joins, and removes the room when the warning runs out", async () => {
    const client = await connect();
    const alice = await newPlayer();
    const room = await (await createRoom(alice, { name: "Idle Table" })).json<any>();

    await ageRoom(room.channelId, { idleFor: IDLE_MS + 1000 });
    await runDurableObjectAlarm(hub());
    const warning = await client.next((m) => m.event === "room.closing" && m.payload.channelId === room.channelId);
    expect(warning.payload.closesAt - Date.now()).toBeGreaterThan(25_000);
    expect((await listRooms(alice)).find((r) => r.channelId === room.channelId).closingAt).toBe(warning.payload.closesAt);

    await postEvents([voiceJoined("300000000000000888", room.channelId)]);
    await client.next((m) => m.event === "room.closing.cancelled" && m.payload.channelId === room.channelId);
    await postEvents([voiceLeft("300000000000000888", room.channelId)]);
    expect((await listRooms(alice)).find((r) => r.channelId === room.channelId).closingAt).toBeNull();

    await ageRoom(room.channelId, { idleFor: IDLE_MS + 1000 });
    await runDurableObjectAlarm(hub());
    await ageRoom(room.channelId, { closingAt: Date.now() - 1 });
    await runDurableObjectAlarm(hub());
    await client.next((m) => m.event === "room.deleted" && m.payload.channelId === room.channelId);
    expect(
      (await discordRequests()).some((r) => r.method === "DELETE" && r.path === `/api/v10/channels/${room.channelId}` && /idle/.test(r.auditLogReason)),
    ).toBe(true);
    expect((await listRooms(alice)).some((r) => r.channelId === room.channelId)).toBe(false);
  });

  it("keeps a room with people in voice however long ago it was created", async () => {
    const alice = await newPlayer();
    const room = await (await createRoom(alice, { name: "Busy Table" })).json<any>();
    await postEvents([voiceJoined("300000000000000999", room.channelId)]);
    await ageRoom(room.channelId, { idleFor: 10 * IDLE_MS });
    await runDurableObjectAlarm(hub());
    expect((await listRooms(alice)).find((r) => r.channelId === room.channelId)).toMatchObject({ closingAt: null, voice: ["300000000000000999"] });
    await postEvents([voiceLeft("300000000000000999", room.channelId)]);
  });

  it("deletes the channel once when a player ends the room while the cleanup alarm fires", async () => {
    const alice = await newPlayer();
    const room = await (await createRoom(alice, { name: "Raced" })).json<any>();
    await ageRoom(room.channelId, { idleFor: IDLE_MS + 1000, closingAt: Date.now() - 1 });
    await sim("clearRequests");
    const [ended] = await Promise.all([endRoom(alice, room.channelId), runDurableObjectAlarm(hub())]);
    expect([200, 404]).toContain(ended.status);
    const deletes = (await discordRequests()).filter((r) => r.method === "DELETE" && r.path === `/api/v10/channels/${room.channelId}`);
    expect(deletes).toHaveLength(1);
    expect((await listRooms(alice)).some((r) => r.channelId === room.channelId)).toBe(false);
  });

  it("keeps rooms, seats and clocks across a restart of the object", async () => {
    const alice = await newPlayer();
    const room = await (await createRoom(alice, { name: "Survivor", private: true, userLimit: 2 })).json<any>();
    const inv = await (await invite(alice, room.channelId)).json<any>();
    await evictDurableObject(hub());
    const bob = await newPlayer();
    expect((await join(bob, room.channelId, inv.token)).status).toBe(200);
    await evictDurableObject(hub());
    const full = await join(await newPlayer(), room.channelId, inv.token);
    expect((await errorOf(full)).code).toBe("ROOM_FULL");
    expect((await listRooms(alice)).find((r) => r.channelId === room.channelId).members).toEqual([alice, bob]);
    expect((await endRoom(alice, room.channelId)).status).toBe(200);
  });
});
