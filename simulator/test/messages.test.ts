/**
 * Table chat support: text in voice channels, nonces with enforce_nonce, edits and deletes over
 * REST and the control API, reactions (with Discord's per-bot reaction limit that the per-channel
 * headers do not show) and typing.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GatewayDispatchEvents, GatewayIntentBits } from "discord-api-types/v10";
import { DEFAULT_BOT_TOKEN, DEMO_CHANNELS, DEMO_USERS, startSimulator, type LocalDiscord } from "../src/index.ts";
import { djsGateway, waitFor } from "./helpers.ts";

let sim: LocalDiscord;
beforeEach(async () => {
  sim = await startSimulator();
});
afterEach(async () => {
  await sim.close();
});

async function rest(method: string, path: string, body?: unknown) {
  const res = await fetch(`${sim.apiBase}${path}`, {
    method,
    headers: { Authorization: `Bot ${DEFAULT_BOT_TOKEN}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as any) : null };
}
const voice = DEMO_CHANNELS.table1;

describe("messages in a voice channel's text chat", () => {
  it("enforce_nonce returns the first message for a repeated nonce; without it a second one is made", async () => {
    const a = await rest("POST", `/channels/${voice}/messages`, { content: "gg", nonce: "n-1", enforce_nonce: true });
    const b = await rest("POST", `/channels/${voice}/messages`, { content: "gg", nonce: "n-1", enforce_nonce: true });
    expect(a.status).toBe(200);
    expect(b.body.id).toBe(a.body.id);
    expect(a.body.nonce).toBe("n-1");
    const c = await rest("POST", `/channels/${voice}/messages`, { content: "gg", nonce: "n-1" });
    expect(c.body.id).not.toBe(a.body.id);
    expect(sim.messages(voice).map((m) => m.id)).toEqual([a.body.id, c.body.id]);
  });

  it("content is limited to 2000 code points, as Discord counts", async () => {
    expect((await rest("POST", `/channels/${voice}/messages`, { content: "🎲".repeat(2000) })).status).toBe(200);
    const tooLong = await rest("POST", `/channels/${voice}/messages`, { content: "a".repeat(2001) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors.content._errors[0].code).toBe("BASE_TYPE_MAX_LENGTH");
  });

  it("edit, delete and bulk delete over REST; the bot may not edit other people's messages", async () => {
    const mine = (await rest("POST", `/channels/${voice}/messages`, { content: "first" })).body;
    const edited = await rest("PATCH", `/channels/${voice}/messages/${mine.id}`, { content: "first (edited)" });
    expect(edited.body).toMatchObject({ content: "first (edited)", edited_timestamp: expect.any(String) });
    const theirs = sim.postMessage(voice, DEMO_USERS.bob, "hello");
    expect((await rest("PATCH", `/channels/${voice}/messages/${theirs.id}`, { content: "x" })).status).toBe(403);
    const more = [sim.postMessage(voice, DEMO_USERS.bob, "a"), sim.postMessage(voice, DEMO_USERS.bob, "b")];
    expect((await rest("DELETE", `/channels/${voice}/messages/${mine.id}`)).status).toBe(204);
    expect((await rest("DELETE", `/channels/${voice}/messages/${mine.id}`)).status).toBe(404);
    expect((await rest("POST", `/channels/${voice}/messages/bulk-delete`, { messages: more.map((m) => m.id) })).status).toBe(204);
    expect(sim.messages(voice).map((m) => m.id)).toEqual([theirs.id]);
  });

  it("control API: post with a nonce, edit, react and type as a user", async () => {
    const ctl = (name: string, body: unknown) =>
      fetch(`${sim.url}/control/${name}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as any,
      }));
    const posted = await ctl("postMessage", { channelId: voice, userId: DEMO_USERS.bob, content: "from Discord", nonce: "abc" });
    expect(posted.body.result).toMatchObject({ content: "from Discord", nonce: "abc" });
    expect((await ctl("editMessage", { channelId: voice, messageId: posted.body.result.id, content: "edited in Discord" })).status).toBe(200);
    expect((await ctl("addReaction", { channelId: voice, messageId: posted.body.result.id, userId: DEMO_USERS.bob, emoji: "👍🏽" })).status).toBe(200);
    expect((await ctl("addReaction", { channelId: voice, messageId: posted.body.result.id, userId: DEMO_USERS.bob, emoji: "not an emoji" })).status).toBe(400);
    expect((await ctl("startTyping", { channelId: voice, userId: DEMO_USERS.bob })).status).toBe(200);
    const listed = (await (await fetch(`${sim.url}/control/messages?channelId=${voice}`)).json()) as any[];
    expect(listed.map((m) => m.content)).toEqual(["edited in Discord"]);
  });
});

describe("reactions", () => {
  it("headers announce 1 per second per channel; the real limit is 1 per 250 ms for the whole bot", async () => {
    const a = sim.postMessage(voice, DEMO_USERS.bob, "a");
    const b = sim.postMessage(DEMO_CHANNELS.table2, DEMO_USERS.bob, "b");
    const first = await rest("PUT", `/channels/${voice}/messages/${a.id}/reactions/${encodeURIComponent("👍")}/@me`);
    expect(first.status).toBe(204);
    expect(first.headers.get("x-ratelimit-limit")).toBe("1");
    expect(Number(first.headers.get("x-ratelimit-reset-after"))).toBeCloseTo(1, 0);
    // Another channel's bucket is full by its headers, yet the bot-wide limit refuses it.
    const other = await rest("PUT", `/channels/${DEMO_CHANNELS.table2}/messages/${b.id}/reactions/${encodeURIComponent("👍")}/@me`);
    expect(other.status).toBe(429);
    expect(other.body.retry_after).toBeLessThanOrEqual(0.25);
    await new Promise((r) => setTimeout(r, 260));
    expect((await rest("PUT", `/channels/${DEMO_CHANNELS.table2}/messages/${b.id}/reactions/${encodeURIComponent("👍")}/@me`)).status).toBe(204);
  });

  it("a reaction the user already has, or a removal of one they do not, answers 204 and dispatches nothing (as Discord)", async () => {
    const gw = djsGateway(sim, GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessageReactions);
    // Discord's reaction limits out of the way: what is dispatched is tested here.
    sim.setRateLimits({ reactionLimit: 100, reactionWindowMs: 1000, reactionIntervalMs: 0 });
    try {
      await gw.manager.connect();
      const m = sim.postMessage(voice, DEMO_USERS.bob, "react twice");
      const path = `/channels/${voice}/messages/${m.id}/reactions/${encodeURIComponent("🎲")}/@me`;
      for (const method of ["PUT", "PUT", "DELETE", "DELETE"]) expect((await rest(method, path)).status).toBe(204);
      const reactionEvents = () =>
        gw.dispatches.filter((d) => d.t === GatewayDispatchEvents.MessageReactionAdd || d.t === GatewayDispatchEvents.MessageReactionRemove);
      await waitFor(() => reactionEvents().length >= 2 || undefined);
      await new Promise((r) => setTimeout(r, 200));
      expect(reactionEvents().map((d) => d.t)).toEqual([GatewayDispatchEvents.MessageReactionAdd, GatewayDispatchEvents.MessageReactionRemove]);
    } finally {
      await gw.manager.destroy();
    }
  });
});
