/**
 * The table chat's history end to end inside workerd: GET /api/tables/:channelId/messages against
 * the Discord simulator (its REST Get Channel Messages, its request log and fault switches).
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { PermissionFlagsBits } from "discord-api-types/v10";
import { GUILD_ID, request, until } from "./helpers.ts";
import { api, control, createRoom, discordRequests, errorOf, join, newPlayer, sim } from "./rooms-helpers.ts";

beforeAll(async () => {
  // Discord's own route limits out of the way (the burst below is several players at once).
  await sim("setRateLimits", { routeLimit: 1000, routeWindowMs: 1000, globalPerSecond: 1000 });
});
afterEach(async () => {
  await sim("clearRequests");
});

async function table(opts: { private?: boolean } = {}) {
  const owner = await newPlayer();
  const room = await (await createRoom(owner, { name: "History Table", ...opts })).json<any>();
  return { owner, channelId: room.channelId as string };
}
const history = (as: string, channelId: string, query = "") => api("GET", `/api/tables/${channelId}/messages${query}`, as);
const reads = async (channelId: string) => (await discordRequests()).filter((r) => r.method === "GET" && r.path.endsWith(`/channels/${channelId}/messages`));
const stored = async (channelId: string): Promise<any[]> => (await fetch(`${control}/messages?channelId=${channelId}`)).json();

/** hub_chat_history_total by outcome, from the operator's metrics route. */
async function historyCounts(): Promise<{ read: number; shared: number }> {
  const res = await request("/api/metrics?format=json", { headers: { Authorization: "Bearer test-metrics-token-0123456789abcdef" } });
  const { counters } = await res.json<{ counters: { name: string; labels: Record<string, string>; value: number }[] }>();
  const sum = (outcome: string) =>
    counters.filter((c) => c.name === "hub_chat_history_total" && c.labels.outcome === outcome && c.labels.guild === GUILD_ID).reduce((n, c) => n + c.value, 0);
  return { read: sum("read"), shared: sum("shared") };
}

describe("reading a table's chat", () => {
  it("a seated player sees the recent messages oldest first: their own site message named as theirs, Discord's with reactions", async () => {
    const t = await table();
    const discordUser = await newPlayer();
    const fromDiscord = await sim("postMessage", { channelId: t.channelId, userId: discordUser, content: "hi from Discord" });
    await sim("addReaction", { channelId: t.channelId, messageId: fromDiscord.id, userId: discordUser, emoji: "🎲" });
    expect((await api("POST", `/api/tables/${t.channelId}/messages`, t.owner, { content: "hello from the site" })).status).toBe(202);
    await until(
      () => stored(t.channelId),
      (ms) => ms.length === 2,
      "the site message in Discord",
    );

    const res = await history(t.owner, t.channelId);
    expect(res.status).toBe(200);
    const page = await res.json<any>();
    expect(page).toMatchObject({ channelId: t.channelId, hasMore: false });
    expect(page.messages).toHaveLength(2);
    const [discord, site] = page.messages;
    expect(discord).toMatchObject({
      guildId: GUILD_ID,
      messageId: fromDiscord.id,
      author: { id: discordUser, bot: false },
      content: "hi from Discord",
      contentAvailable: true,
      reactions: [{ emoji: { id: null, name: "🎲" }, count: 1 }],
    });
    expect(discord.sentBy).toBeUndefined();
    // As live message.created shows it: the player, and their text without the `<@player>: ` prefix.
    expect(site).toMatchObject({ content: "hello from the site", sentBy: t.owner, author: { bot: true }, reactions: [] });
    expect(await reads(t.channelId)).toEqual([expect.objectContaining({ query: "limit=50", status: 200 })]);
  });

  it("pages back with before until hasMore is false", async () => {
    const t = await table();
    const writer = await newPlayer();
    for (let i = 0; i < 5; i++) await sim("postMessage", { channelId: t.channelId, userId: writer, content: `m${i}` });
    const texts = (p: any) => p.messages.map((m: any) => m.content);

    const first = await (await history(t.owner, t.channelId, "?limit=2")).json<any>();
    expect([texts(first), first.hasMore]).toEqual([["m3", "m4"], true]);
    const second = await (await history(t.owner, t.channelId, `?limit=2&before=${first.messages[0].messageId}`)).json<any>();
    expect([texts(second), second.hasMore]).toEqual([["m1", "m2"], true]);
    const third = await (await history(t.owner, t.channelId, `?limit=2&before=${second.messages[0].messageId}`)).json<any>();
    expect([texts(third), third.hasMore]).toEqual([["m0"], false]);
  });
});

describe("who may read", () => {
  it("a private table refuses a player without a seat (and asks nothing of Discord); a seat opens it", async () => {
    const t = await table({ private: true });
    const outsider = await newPlayer();
    const res = await history(outsider, t.channelId);
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: "NOT_ROOM_MEMBER", message: "This table is private: take a seat to read its chat." });
    expect(await reads(t.channelId)).toEqual([]);
    expect((await history(t.owner, t.channelId)).status).toBe(200);
  });

  it("a public table's chat is readable by any signed-in player, seated or not", async () => {
    const t = await table();
    const passerby = await newPlayer();
    expect((await history(passerby, t.channelId)).status).toBe(200);
    const seated = await newPlayer();
    expect((await join(seated, t.channelId)).status).toBe(200);
    expect((await history(seated, t.channelId)).status).toBe(200);
  });

  it("an unknown table is 404 ROOM_NOT_FOUND; no token is 401", async () => {
    const player = await newPlayer();
    expect(await errorOf(await history(player, "1060000000000009999"))).toMatchObject({ code: "ROOM_NOT_FOUND" });
    const t = await table();
    const anonymous = await api("GET", `/api/tables/${t.channelId}/messages`, player, undefined, { Authorization: "" });
    expect(anonymous.status).toBe(401);
  });
});

describe("a bad query", () => {
  it.each([
    ["?limit=0", "limit"],
    ["?limit=101", "limit"],
    ["?limit=ten", "limit"],
    ["?limit=", "limit"],
    ["?before=yesterday", "before"],
  ])("%s: 400 VALIDATION_FAILED naming %s, nothing sent to Discord", async (query, param) => {
    const t = await table();
    const res = await history(t.owner, t.channelId, query);
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe("VALIDATION_FAILED");
    expect(error.message).toMatch(new RegExp(`^${param} must`));
    expect(error.details[0].path).toBe(param);
    expect(await reads(t.channelId)).toEqual([]);
  });

  it("limit 1 and 100 are fine", async () => {
    const t = await table();
    expect((await history(t.owner, t.channelId, "?limit=1")).status).toBe(200);
    expect((await history(t.owner, t.channelId, "?limit=100")).status).toBe(200);
  });
});

describe("several players opening the page at once", () => {
  it("share one Discord call (two 500s keep it in flight through the REST client's retries); everyone gets the same page", async () => {
    const t = await table();
    await sim("postMessage", { channelId: t.channelId, userId: t.owner, content: "shared" });
    const players = [t.owner, ...(await Promise.all(Array.from({ length: 4 }, () => newPlayer())))];
    const before = await historyCounts();
    // At least 750 ms of backoff (MAX_API_RETRIES is 2 in the tests): every player's request arrives meanwhile.
    await sim("failNext", { count: 2, status: 500, match: `^GET /channels/${t.channelId}/messages$` });
    const answers = await Promise.all(players.map((p) => history(p, t.channelId)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const bodies = await Promise.all(answers.map((r) => r.text()));
    expect(new Set(bodies).size).toBe(1);
    expect(JSON.parse(bodies[0]!).messages.map((m: any) => m.content)).toEqual(["shared"]);
    // One call's attempts (two 500s, then the answer) for five players.
    expect((await reads(t.channelId)).map((r) => r.status)).toEqual([500, 500, 200]);
    // What the operator sees: one read, four shared.
    const after = await historyCounts();
    expect([after.read - before.read, after.shared - before.shared]).toEqual([1, 4]);
  });
});

describe("when Discord fails", () => {
  it("Discord down: 502 DISCORD_UNAVAILABLE with Retry-After; back up, the history loads", async () => {
    const t = await table();
    await sim("goDown");
    try {
      const res = await history(t.owner, t.channelId);
      expect(res.status).toBe(502);
      expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
      expect(await errorOf(res)).toMatchObject({ code: "DISCORD_UNAVAILABLE", message: expect.stringMatching(/try again/i) });
    } finally {
      await sim("comeBack");
    }
    expect((await history(t.owner, t.channelId)).status).toBe(200);
  });

  it("the bot may not see the channel: 403 DISCORD_FORBIDDEN", async () => {
    const t = await table();
    await sim("denyBotPermissions", { guildId: GUILD_ID, permissions: String(PermissionFlagsBits.ViewChannel) });
    try {
      const res = await history(t.owner, t.channelId);
      expect(res.status).toBe(403);
      expect(await errorOf(res)).toMatchObject({ code: "DISCORD_FORBIDDEN" });
    } finally {
      await sim("denyBotPermissions", { guildId: GUILD_ID, permissions: "0" });
    }
  });

  it("Discord rate limits for longer than the REST client waits: 429 DISCORD_RATE_LIMITED with Discord's Retry-After", async () => {
    const t = await table();
    await sim("failNext", { count: 1, status: 429, match: `^GET /channels/${t.channelId}/messages$`, retryAfterSeconds: 120 });
    const res = await history(t.owner, t.channelId);
    expect(res.status).toBe(429);
    expect(res.headers.get("Retry-After")).toBe("120");
    expect(await errorOf(res)).toMatchObject({ code: "DISCORD_RATE_LIMITED" });
  });
});
