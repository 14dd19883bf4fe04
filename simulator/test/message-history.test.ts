/**
 * Get Channel Messages as Discord documents it: paging (limit, before, after, around; newest
 * first), Discord's form errors for a bad query, reactions in the message objects, the
 * permissions the bot needs, and a rate-limit bucket of its own.
 */
import { PermissionFlagsBits } from "discord-api-types/v10";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_BOT_TOKEN, DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS, startSimulator, type LocalDiscord } from "../src/index.ts";

let sim: LocalDiscord;
beforeEach(async () => {
  sim = await startSimulator();
  // Many reads per test: the route's bucket is tested on its own below.
  sim.setRateLimits({ routeLimit: 100, routeWindowMs: 1000 });
});
afterEach(async () => {
  await sim.close();
});

async function rest(method: string, path: string) {
  const res = await fetch(`${sim.apiBase}${path}`, { method, headers: { Authorization: `Bot ${DEFAULT_BOT_TOKEN}` } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as any) : null };
}
const voice: string = DEMO_CHANNELS.table1;
const history = (query = "", channelId: string = voice) => rest("GET", `/channels/${channelId}/messages${query}`);
const contents = (body: any[]) => body.map((m) => m.content);

function post(n: number): string[] {
  return Array.from({ length: n }, (_, i) => sim.postMessage(voice, DEMO_USERS.bob, `m${i}`).id);
}

describe("paging", () => {
  it("newest first; 50 by default; limit; before and after page through the channel", async () => {
    const ids = post(60);
    const latest = await history();
    expect(latest.status).toBe(200);
    expect(latest.body).toHaveLength(50);
    expect(latest.body[0].content).toBe("m59");
    expect(latest.body[49].content).toBe("m10");
    expect(contents((await history("?limit=3")).body)).toEqual(["m59", "m58", "m57"]);
    // before: the messages just older than the anchor; after: the ones just newer (still newest first).
    expect(contents((await history(`?limit=3&before=${ids[10]}`)).body)).toEqual(["m9", "m8", "m7"]);
    expect(contents((await history(`?limit=3&after=${ids[10]}`)).body)).toEqual(["m13", "m12", "m11"]);
    expect(contents((await history(`?before=${ids[2]}`)).body)).toEqual(["m1", "m0"]);
    expect((await history(`?after=${ids[59]}`)).body).toEqual([]);
    // around: the anchor with the messages on either side.
    expect(contents((await history(`?limit=5&around=${ids[30]}`)).body)).toEqual(["m32", "m31", "m30", "m29", "m28"]);
    expect(contents((await history(`?limit=1&around=${ids[30]}`)).body)).toEqual(["m30"]);
    // Only this channel's messages.
    sim.postMessage(DEMO_CHANNELS.table2, DEMO_USERS.bob, "elsewhere");
    expect(contents((await history("?limit=100")).body)).not.toContain("elsewhere");
  });

  it("message objects as REST made them: author, content, nonce, edits; deleted ones gone", async () => {
    const a = sim.postMessage(voice, DEMO_USERS.bob, "hello", { nonce: "n-1" });
    const b = sim.postMessage(voice, DEMO_USERS.bob, "typo");
    sim.editMessage(voice, b.id, "fixed");
    const c = sim.postMessage(voice, DEMO_USERS.bob, "gone soon");
    sim.deleteMessage(voice, c.id);
    const { body } = await history();
    expect(body.map((m: any) => m.id)).toEqual([b.id, a.id]);
    expect(body[0]).toMatchObject({ content: "fixed", edited_timestamp: expect.any(String), channel_id: voice, author: { id: DEMO_USERS.bob } });
    expect(body[1]).toMatchObject({ content: "hello", nonce: "n-1", edited_timestamp: null });
    expect(body[1].reactions).toBeUndefined();
  });
});

describe("a bad query is Discord's 50035 with the parameter named", () => {
  it.each([
    ["?limit=0", "limit", "NUMBER_TYPE_MIN"],
    ["?limit=101", "limit", "NUMBER_TYPE_MAX"],
    ["?limit=ten", "limit", "NUMBER_TYPE_COERCE"],
    ["?before=yesterday", "before", "NUMBER_TYPE_COERCE"],
    ["?before=1&after=2", "after", "BASE_TYPE_BAD_COMBINATION"],
  ])("%s", async (query, field, code) => {
    const res = await history(query);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(50035);
    expect(res.body.errors[field]._errors[0].code).toBe(code);
  });

  it("an unknown channel is 404 Unknown Channel (10003), before the query is read", async () => {
    const res = await history("?limit=0", "123456789012345678");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ code: 10003, message: "Unknown Channel" });
  });
});

describe("reactions in the message objects", () => {
  it("count, count_details, me, me_burst, burst_colors and emoji, per emoji in first-use order", async () => {
    const m = sim.postMessage(voice, DEMO_USERS.bob, "react to me");
    sim.addReaction(voice, m.id, DEMO_USERS.bob, "👍🏽");
    sim.addReaction(voice, m.id, DEMO_USERS.alice, "👍🏽");
    sim.addReaction(voice, m.id, DEMO_USERS.alice, "👍🏽"); // once per user and emoji
    sim.addReaction(voice, m.id, DEMO_USERS.alice, "dragon:123456789012345678");
    expect((await rest("PUT", `/channels/${voice}/messages/${m.id}/reactions/${encodeURIComponent("👍🏽")}/@me`)).status).toBe(204);
    const [msg] = (await history()).body;
    expect(msg.reactions).toEqual([
      { count: 3, count_details: { burst: 0, normal: 3 }, me: true, me_burst: false, burst_colors: [], emoji: { id: null, name: "👍🏽" } },
      { count: 1, count_details: { burst: 0, normal: 1 }, me: false, me_burst: false, burst_colors: [], emoji: { id: "123456789012345678", name: "dragon" } },
    ]);
    sim.removeReaction(voice, m.id, DEMO_USERS.alice, "dragon:123456789012345678");
    sim.removeReaction(voice, m.id, DEMO_USERS.bob, "👍🏽");
    expect((await history()).body[0].reactions).toEqual([
      { count: 2, count_details: { burst: 0, normal: 2 }, me: true, me_burst: false, burst_colors: [], emoji: { id: null, name: "👍🏽" } },
    ]);
  });
});

describe("permissions and rate limits", () => {
  it("without View Channel (or Connect, in a voice channel): 403 Missing Access; without Read Message History: no messages", async () => {
    post(2);
    sim.denyBotPermissions(DEMO_GUILD_ID, PermissionFlagsBits.ViewChannel);
    expect(await history()).toMatchObject({ status: 403, body: { code: 50001, message: "Missing Access" } });
    sim.denyBotPermissions(DEMO_GUILD_ID, PermissionFlagsBits.Connect);
    expect(await history()).toMatchObject({ status: 403, body: { code: 50001 } });
    sim.denyBotPermissions(DEMO_GUILD_ID, PermissionFlagsBits.ReadMessageHistory);
    expect(await history()).toMatchObject({ status: 200, body: [] });
    sim.denyBotPermissions(DEMO_GUILD_ID, 0n);
    expect((await history()).body).toHaveLength(2);
  });

  it("a bucket of its own per channel, announced in the headers; over it, 429", async () => {
    sim.setRateLimits({ routeLimit: 2, routeWindowMs: 60_000 });
    const first = await history();
    expect(first.headers.get("x-ratelimit-limit")).toBe("2");
    expect(first.headers.get("x-ratelimit-remaining")).toBe("1");
    const bucket = first.headers.get("x-ratelimit-bucket");
    await history();
    const third = await history();
    expect(third.status).toBe(429);
    expect(third.headers.get("x-ratelimit-bucket")).toBe(bucket);
    // Another channel, and sending in this one, are other buckets.
    expect((await history("", DEMO_CHANNELS.table2)).status).toBe(200);
    const sent = await fetch(`${sim.apiBase}/channels/${voice}/messages`, {
      method: "POST",
      headers: { Authorization: `Bot ${DEFAULT_BOT_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ content: "still allowed" }),
    });
    expect(sent.status).toBe(200);
    expect(sent.headers.get("x-ratelimit-bucket")).not.toBe(bucket);
  });
});
