/**
 * DiscordRestClient against the project's Discord simulator (real REST protocol, rate-limit
 * headers, Discord's error bodies), with tight limits so bursts finish in well under a second.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PermissionFlagsBits } from "discord-api-types/v10";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS, startSimulator, type LocalDiscord } from "@spell-coven/simulator";
import { createLogger } from "../../src/log.ts";
import {
  DiscordApiError,
  DiscordInputError,
  DiscordNetworkError,
  DiscordRestClient,
  MemoryCoordinator,
  type DiscordRestClientOptions,
} from "../../src/rest/index.ts";

let sim: LocalDiscord;
const lines: string[] = [];
const G = DEMO_GUILD_ID;

beforeAll(async () => {
  sim = await startSimulator({ seed: true });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.setRateLimits({ globalPerSecond: 50, routeLimit: 5, routeWindowMs: 300 });
  sim.clearRequests();
});

function client(o: Partial<DiscordRestClientOptions> = {}) {
  return new DiscordRestClient({
    token: sim.botToken,
    apiBase: sim.apiBase,
    retryBaseMs: 20,
    retryMaxMs: 80,
    timeoutMs: 2000,
    logger: createLogger("DEBUG", {}, (l) => lines.push(l)),
    ...o,
  });
}

const statuses = () => sim.requests().map((r) => r.status);
const count429 = () => statuses().filter((s) => s === 429).length;

function textChannels(n: number): string[] {
  return Array.from({ length: n }, (_, i) => sim.addChannel(G, { name: `burst-${i}-${Math.random().toString(36).slice(2, 6)}`, type: 0 }).id);
}

describe("rate limits (zero 429s the headers could predict)", () => {
  it("a parallel burst on one channel", async () => {
    const [ch] = textChannels(1);
    const c = client();
    const t0 = Date.now();
    const sent = await Promise.all(Array.from({ length: 15 }, (_, i) => c.sendMessage(ch!, `msg ${i}`)));
    expect(sent.map((m) => m.content)).toEqual(Array.from({ length: 15 }, (_, i) => `msg ${i}`));
    expect(sim.requests()).toHaveLength(15);
    expect(count429()).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2 * 300); // 3 windows of 5
  });

  it("a parallel burst over many channels and routes", async () => {
    const chans = textChannels(12);
    const c = client();
    await Promise.all(
      chans.flatMap((ch, i) => [
        c.sendMessage(ch, "a"),
        c.sendMessage(ch, "b"),
        c.triggerTyping(ch),
        c.sendMessage(ch, "c"),
        ...(i % 3 === 0 ? [c.getChannels(G)] : []),
      ]),
    );
    expect(sim.requests()).toHaveLength(12 * 4 + 4);
    expect(count429()).toBe(0);
  });

  it("a burst across the global limit", async () => {
    sim.setRateLimits({ globalPerSecond: 20, routeLimit: 50, routeWindowMs: 300 });
    const chans = textChannels(25);
    const c = client({ rateLimits: { globalPerSecond: 20 } });
    const t0 = Date.now();
    await Promise.all(chans.flatMap((ch) => [c.triggerTyping(ch), c.sendMessage(ch, "hi")]));
    expect(sim.requests()).toHaveLength(50);
    expect(count429()).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000); // 50 requests at 20/s
  });

  it("several clients sharing one coordinator (isolates/processes) stay inside the limits", async () => {
    const [ch] = textChannels(1);
    const shared = new MemoryCoordinator();
    const clients = Array.from({ length: 4 }, () => client({ coordinator: shared }));
    await Promise.all(clients.flatMap((c, k) => Array.from({ length: 4 }, (_, i) => c.sendMessage(ch!, `c${k}-${i}`))));
    expect(sim.requests()).toHaveLength(16);
    expect(count429()).toBe(0);
  });

  it("a 429 the headers could not predict (shared resource) is waited out and not counted as invalid", async () => {
    const [ch] = textChannels(1);
    sim.failNext(1, 429, /messages/, 0.2);
    const c = client({ coordinator: new MemoryCoordinator({ invalidWarnAt: 1 }) });
    const t0 = Date.now();
    await c.sendMessage(ch!, "after the shared limit");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(statuses()).toEqual([429, 200]);
    expect(lines.some((l) => l.includes("piling up"))).toBe(false);
  });
});

describe("failures", () => {
  it("5xx twice then success; before each retry of a create it looks for what the last try made", async () => {
    sim.failNext(2, 502, /^POST/);
    const ch = await client().createVoiceChannel(G, "Retry Room");
    expect(ch.name).toBe("Retry Room");
    expect(sim.requests().map((r) => `${r.method} ${r.status}`)).toEqual(["POST 502", "GET 200", "POST 502", "GET 200", "POST 201"]);
    expect(sim.channels(G).filter((c) => c.name === "Retry Room")).toHaveLength(1);
  });

  it("a channel made although the answer was lost (connection dropped) is found, not made twice", async () => {
    sim.failAfterApplying(1, 0, /^POST .*\/channels$/);
    const ch = await client().createVoiceChannel(G, "Lost Answer Room", { userLimit: 4 });
    expect(ch).toMatchObject({ name: "Lost Answer Room", type: 2, user_limit: 4 });
    expect(
      sim
        .channels(G)
        .filter((c) => c.name === "Lost Answer Room")
        .map((c) => c.id),
    ).toEqual([ch.id]);
    expect(sim.requests().map((r) => `${r.method} ${r.status}`)).toEqual(["POST 0", "GET 200"]);
    expect(lines.some((l) => l.includes("answer was lost; using it"))).toBe(true);
  });

  it("a role made although Discord answered 502 is found, not made twice", async () => {
    sim.failAfterApplying(1, 502, /^POST .*\/roles$/);
    const role = await client().createRole(G, { name: "Lost Answer Role" });
    const roles = await client().getRoles(G);
    expect(roles.filter((r) => r.name === "Lost Answer Role").map((r) => r.id)).toEqual([role.id]);
  });

  it("when it cannot check whether the create was made, it stops instead of risking a duplicate", async () => {
    sim.failAfterApplying(1, 0, /^POST .*\/channels$/);
    sim.failNext(3, 503, /^GET/);
    const err = await client({ maxRetries: 2 })
      .createVoiceChannel(G, "Unchecked Room")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordNetworkError);
    expect(sim.requests().map((r) => `${r.method} ${r.status}`)).toEqual(["POST 0", "GET 503", "GET 503", "GET 503"]);
    expect(sim.channels(G).filter((c) => c.name === "Unchecked Room")).toHaveLength(1);
    expect(lines.some((l) => l.includes('"level":"WARN"') && l.includes("could not check, so not retrying"))).toBe(true);
  });

  it("5xx five times: DiscordApiError after maxRetries, attempts counted", async () => {
    sim.failNext(5, 500);
    const err = (await client({ maxRetries: 3 })
      .getChannels(G)
      .catch((e: unknown) => e)) as DiscordApiError;
    expect(err).toBeInstanceOf(DiscordApiError);
    expect(err.status).toBe(500);
    expect(err.attempts).toBe(4);
    expect(statuses()).toEqual([500, 500, 500, 500]);
    sim.clearRequests();
    await client().getChannels(G); // the fifth failure is still queued
    expect(statuses()).toEqual([500, 200]);
  });

  it("Discord down (503 on every call) ends in a DiscordApiError", async () => {
    sim.goDown();
    try {
      const err = (await client({ maxRetries: 2 })
        .deleteChannel(DEMO_CHANNELS.table2)
        .catch((e: unknown) => e)) as DiscordApiError;
      expect(err.status).toBe(503);
      expect(err.attempts).toBe(3);
    } finally {
      sim.comeBack();
    }
  });

  it("field errors of Discord's body surface in the error (unknown parent category)", async () => {
    const err = (await client()
      .createVoiceChannel(G, "Orphan", { parentId: "1060000000000009999" })
      .catch((e: unknown) => e)) as DiscordApiError;
    expect(err).toBeInstanceOf(DiscordApiError);
    expect(err.status).toBe(400);
    expect(err.code).toBe(50035);
    expect(err.fieldErrors).toEqual([expect.objectContaining({ path: "parent_id", code: "CHANNEL_PARENT_INVALID" })]);
    expect(err.route).toBe("/guilds/:id/channels");
    expect(err.message).toMatch(/HTTP 400 \(code 50035 Invalid Form Body\): parent_id: .*CHANNEL_PARENT_INVALID/);
    expect(sim.requests()).toHaveLength(1);
  });

  it("unknown channel: 404 with code 10003", async () => {
    const err = (await client()
      .deleteChannel("1060000000000008888")
      .catch((e: unknown) => e)) as DiscordApiError;
    expect(err.status).toBe(404);
    expect(err.code).toBe(10003);
    expect(err.message).toContain("Unknown Channel");
  });

  it("a wrong token: 401, not retried", async () => {
    const err = (await client({ token: "wrong-token" })
      .getChannels(G)
      .catch((e: unknown) => e)) as DiscordApiError;
    expect(err.status).toBe(401);
    expect(statuses()).toEqual([401]);
  });

  it("bad inputs never reach Discord", async () => {
    const c = client();
    const calls = [
      () => c.createVoiceChannel(G, ""),
      () => c.createVoiceChannel(G, "ok", { userLimit: 100 }),
      () => c.createVoiceChannel("not-a-snowflake", "ok"),
      () => c.deleteChannel(DEMO_CHANNELS.table1, { reason: "x".repeat(513) }),
      () => c.sendMessage(DEMO_CHANNELS.general, "x".repeat(2001)),
      () => c.addMemberRole(G, "alice", "1"),
    ];
    for (const call of calls) await expect(call()).rejects.toBeInstanceOf(DiscordInputError);
    expect(sim.requests()).toHaveLength(0);
  });
});

describe("getMessages (the table chat's history)", () => {
  it("a page newest first, with reactions; before pages back; the query reaches Discord as given", async () => {
    const [ch] = textChannels(1);
    const ids = Array.from({ length: 5 }, (_, i) => sim.postMessage(ch!, DEMO_USERS.bob, `m${i}`).id);
    sim.addReaction(ch!, ids[4]!, DEMO_USERS.alice, "🎲");
    const c = client();
    const page = await c.getMessages(ch!, { limit: 2 });
    expect(page.map((m) => m.content)).toEqual(["m4", "m3"]);
    expect(page[0]!.reactions).toEqual([expect.objectContaining({ count: 1, me: false, emoji: { id: null, name: "🎲" } })]);
    expect((await c.getMessages(ch!, { before: page[1]!.id })).map((m) => m.content)).toEqual(["m2", "m1", "m0"]);
    expect((await c.getMessages(ch!, { after: ids[3]!, limit: 10 })).map((m) => m.content)).toEqual(["m4"]);
    expect((await c.getMessages(ch!)).length).toBe(5);
    expect(sim.requests().map((r) => r.query)).toEqual(["limit=2", `before=${page[1]!.id}`, `limit=10&after=${ids[3]}`, ""]);
  });

  it("parallel reads share the rate limiting of the other calls: zero 429s", async () => {
    const [ch] = textChannels(1);
    sim.postMessage(ch!, DEMO_USERS.bob, "hello");
    const c = client();
    const pages = await Promise.all(Array.from({ length: 12 }, () => c.getMessages(ch!, { limit: 1 })));
    expect(pages.every((p) => p.length === 1)).toBe(true);
    expect(sim.requests()).toHaveLength(12);
    expect(count429()).toBe(0);
  });

  it("a bot that may not see the channel: DiscordApiError 403 with code 50001, not retried", async () => {
    sim.denyBotPermissions(G, PermissionFlagsBits.ViewChannel);
    try {
      const err = (await client()
        .getMessages(DEMO_CHANNELS.table1)
        .catch((e: unknown) => e)) as DiscordApiError;
      expect(err).toBeInstanceOf(DiscordApiError);
      expect([err.status, err.code]).toEqual([403, 50001]);
      expect(statuses()).toEqual([403]);
    } finally {
      sim.denyBotPermissions(G, 0n);
    }
  });

  it("a bad query never reaches Discord", async () => {
    const c = client();
    for (const opts of [{ limit: 0 }, { limit: 101 }, { limit: 2.5 }, { before: "yesterday" }, { before: "1", after: "2" }]) {
      await expect(c.getMessages(DEMO_CHANNELS.table1, opts)).rejects.toBeInstanceOf(DiscordInputError);
    }
    await expect(c.getMessages("not-a-channel")).rejects.toBeInstanceOf(DiscordInputError);
    expect(sim.requests()).toHaveLength(0);
  });
});

describe("the rooms flow", () => {
  it("creates a room with an audit reason, roles, a message, a reaction, then cleans up", async () => {
    const c = client();
    const room = await c.createVoiceChannel(G, "Table 9", { parentId: DEMO_CHANNELS.gameRooms, userLimit: 4, reason: "Room opened by Alice (über)" });
    expect(room).toMatchObject({ name: "Table 9", type: 2, parent_id: DEMO_CHANNELS.gameRooms, user_limit: 4, guild_id: G });
    expect(sim.channels(G).some((ch) => ch.id === room.id)).toBe(true);
    const role = await c.createRole(G, { name: "Table 9 players", mentionable: false, reason: "room role" });
    await c.addMemberRole(G, DEMO_USERS.alice, role.id, { reason: "joined Table 9" });
    await c.removeMemberRole(G, DEMO_USERS.alice, role.id);
    const msg = await c.sendMessage(DEMO_CHANNELS.general, "Table 9 is open");
    await c.addReaction(DEMO_CHANNELS.general, msg.id, "🎲");
    await c.triggerTyping(DEMO_CHANNELS.general);
    expect((await c.getChannels(G)).map((ch) => ch.id)).toContain(room.id);
    await c.deleteRole(G, role.id, { reason: "room closed" });
    const deleted = await c.deleteChannel(room.id, { reason: "room closed" });
    expect(deleted.id).toBe(room.id);
    const reqs = sim.requests();
    expect(reqs.every((r) => r.status < 300)).toBe(true);
    expect(reqs[0]!.auditLogReason).toBe("Room opened by Alice (über)");
    expect(reqs.find((r) => r.method === "PUT" && r.path.includes("/members/"))!.auditLogReason).toBe("joined Table 9");
    expect(reqs.at(-1)!.auditLogReason).toBe("room closed");
  });
});

describe("logs", () => {
  it("every call at DEBUG with its route, retries/waits at INFO, and never the token", () => {
    expect(lines.some((l) => l.includes('"level":"DEBUG"') && l.includes('"route":"/channels/:id/messages"'))).toBe(true);
    expect(lines.some((l) => l.includes('"level":"INFO"') && l.includes("retrying"))).toBe(true);
    expect(lines.some((l) => l.includes('"level":"INFO"') && l.includes("waiting for discord rate limit"))).toBe(true);
    for (const l of lines) expect(l).not.toContain(sim.botToken);
  });
});
