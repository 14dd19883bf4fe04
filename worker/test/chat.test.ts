/**
 * Table chat commands end to end inside workerd: the HTTP routes and WebSocket messages, the
 * hub's buckets, and what the Discord simulator saw (its request log); message events posted as
 * gateway-node would, with their trace ids through to the envelope.
 */
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { GUILD_ID, chatMessagePayload, connect, mintToken, postEvents, request, uniqueId, until } from "./helpers.ts";
import { api, createRoom, discordRequests, newPlayer, sim } from "./rooms-helpers.ts";

beforeAll(async () => {
  // Discord's own limits out of the way: the hub's buckets are what is tested here.
  await sim("setRateLimits", {
    routeLimit: 1000,
    routeWindowMs: 1000,
    globalPerSecond: 1000,
    reactionLimit: 1000,
    reactionWindowMs: 1000,
    reactionIntervalMs: 0,
  });
});
afterEach(async () => {
  await sim("clearRequests");
});

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
/** The bot's user id, read from its token as the Worker does. */
const BOT_USER_ID = atob(inject("botToken").split(".")[0]!);
const traceparent = (traceId = TRACE) => `00-${traceId}-00f067aa0ba902b7-01`;

async function table() {
  const owner = await newPlayer();
  const room = await (await createRoom(owner, { name: "Chat Table" })).json<any>();
  return { owner, channelId: room.channelId as string };
}
const send = (as: string, channelId: string, body: unknown, headers: Record<string, string> = {}) =>
  api("POST", `/api/tables/${channelId}/messages`, as, body, headers);
const posts = async (channelId: string, what = "messages") =>
  (await discordRequests()).filter((r) => r.method === "POST" && r.path.endsWith(`/channels/${channelId}/${what}`));

describe("sendMessage", () => {
  it("a seated player's message reaches Discord with its nonce, enforce_nonce and no mentions; command.result says accepted then sent", async () => {
    const t = await table();
    const sock = await connect({ userId: t.owner });
    const res = await send(t.owner, t.channelId, { content: "  @everyone gg, well played  ", commandId: "cmd-hello-1" }, { traceparent: traceparent() });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ commandId: "cmd-hello-1", traceId: TRACE, status: "accepted" });
    expect(res.headers.get("X-Trace-Id")).toBe(TRACE);
    const sent = await sock.next((m) => m.signal === "command.result" && m.payload.status === "sent");
    expect(sent.payload).toMatchObject({ commandId: "cmd-hello-1", traceId: TRACE, command: "sendMessage", channelId: t.channelId });
    expect(sock.messages.some((m) => m.signal === "command.result" && m.payload.status === "accepted")).toBe(true);
    const [req] = await posts(t.channelId);
    expect(req.body).toEqual({
      content: `<@${t.owner}>: @everyone gg, well played`,
      nonce: "cmd-hello-1",
      enforce_nonce: true,
      allowed_mentions: { parse: [] },
    });
    // Nothing of the trace reaches Discord.
    expect(JSON.stringify(req)).not.toContain(TRACE);
    const [message] = await (await fetch(`${(await import("./rooms-helpers.ts")).control}/messages?channelId=${t.channelId}`)).json<any[]>();
    expect(message.id).toBe(sent.payload.messageId);
  });

  it("only seat holders write; bad input is refused before the hub; nothing reaches Discord", async () => {
    const t = await table();
    const stranger = await newPlayer();
    const res = await send(stranger, t.channelId, { content: "hello" });
    expect(res.status).toBe(403);
    expect((await res.json<any>()).error.code).toBe("NOT_ROOM_MEMBER");
    expect((await send(t.owner, t.channelId, { content: "x".repeat(2001) })).status).toBe(400);
    expect((await send(t.owner, t.channelId, { content: "   " })).status).toBe(400);
    expect((await send(t.owner, "123", { content: "hi" })).status).toBe(404);
    expect(await posts(t.channelId)).toHaveLength(0);
  });

  it("a burst of 50 sends: exactly what the buckets allow is accepted, the rest get 429 + Retry-After, Discord sees only the accepted", async () => {
    const t = await table();
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => send(t.owner, t.channelId, { content: `burst ${i}` })));
    const elapsedMs = Date.now() - started;
    const accepted = answers.filter((r) => r.status === 202);
    const refused = answers.filter((r) => r.status === 429);
    expect(accepted.length + refused.length).toBe(50);
    // 5 at once, then one per 2 s for the player (and one per second for the channel).
    expect(accepted.length).toBeGreaterThanOrEqual(5);
    expect(accepted.length).toBeLessThanOrEqual(5 + Math.floor(elapsedMs / 2000));
    for (const r of refused) {
      expect(Number(r.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
      expect((await r.json<any>()).error).toMatchObject({ code: "RATE_LIMITED", details: { bucket: "user" } });
    }
    await until(
      () => posts(t.channelId),
      (p) => p.length >= accepted.length,
      "the accepted sends at Discord",
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(await posts(t.channelId)).toHaveLength(accepted.length);
  });

  it("Discord's 429: the REST client waits and retries with the same nonce; one message, result sent", async () => {
    const t = await table();
    const sock = await connect({ userId: t.owner });
    await sim("failNext", { count: 1, status: 429, match: `POST /channels/${t.channelId}/messages`, retryAfterSeconds: 0.2 });
    expect((await send(t.owner, t.channelId, { content: "after a 429", commandId: "retry-429-a" })).status).toBe(202);
    await sock.next((m) => m.signal === "command.result" && m.payload.commandId === "retry-429-a" && m.payload.status === "sent");
    const sent = await posts(t.channelId);
    expect(sent.map((r) => r.status)).toEqual([429, 200]);
    expect(sent.map((r) => r.body.nonce)).toEqual(["retry-429-a", "retry-429-a"]);
  });

  it("a send that failed at Discord runs again with the same command id; a repeat of a sent one is answered with its result", async () => {
    const t = await table();
    const sock = await connect({ userId: t.owner });
    const results = () => sock.messages.filter((m) => m.signal === "command.result" && m.payload.commandId === "retry-after-fail");
    await sim("failNext", { count: 1, status: 403, match: `POST /channels/${t.channelId}/messages` });
    expect((await (await send(t.owner, t.channelId, { content: "try again", commandId: "retry-after-fail" })).json<any>()).status).toBe("accepted");
    const failed = await sock.next((m) => m.signal === "command.result" && m.payload.commandId === "retry-after-fail" && m.payload.status === "failed");
    expect(failed.payload.code).toBe("DISCORD_FORBIDDEN");
    expect((await (await send(t.owner, t.channelId, { content: "try again", commandId: "retry-after-fail" })).json<any>()).status).toBe("accepted");
    const sent = await sock.next((m) => m.signal === "command.result" && m.payload.commandId === "retry-after-fail" && m.payload.status === "sent");
    const before = results().length;
    expect((await (await send(t.owner, t.channelId, { content: "try again", commandId: "retry-after-fail" })).json<any>()).status).toBe("duplicate");
    await until(
      async () => results(),
      (r) => r.length > before,
      "the answer to the repeat",
    );
    expect(results().at(-1)!.payload).toMatchObject({ status: "sent", messageId: sent.payload.messageId });
    expect((await posts(t.channelId)).map((r) => r.status)).toEqual([403, 200]);
  });

  it("the same command id twice: answered as a duplicate, one Discord call", async () => {
    const t = await table();
    expect((await (await send(t.owner, t.channelId, { content: "once", commandId: "dup-1" })).json<any>()).status).toBe("accepted");
    const again = await (await send(t.owner, t.channelId, { content: "once", commandId: "dup-1" })).json<any>();
    expect(again.status).toBe("duplicate");
    await until(
      () => posts(t.channelId),
      (p) => p.length >= 1,
      "the send",
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(await posts(t.channelId)).toHaveLength(1);
  });
});

describe("addReaction and typingStart", () => {
  it("custom and multi-codepoint emoji are URL-encoded as Discord requires", async () => {
    const t = await table();
    const sock = await connect({ userId: t.owner });
    await send(t.owner, t.channelId, { content: "react to me", commandId: "react-target" });
    const { payload } = await sock.next((m) => m.signal === "command.result" && m.payload.status === "sent");
    for (const emoji of ["👍🏽", "dragon:123456789012345678"]) {
      const res = await api("PUT", `/api/tables/${t.channelId}/messages/${payload.messageId}/reactions/${encodeURIComponent(emoji)}`, t.owner);
      expect(res.status).toBe(202);
      await new Promise((r) => setTimeout(r, 1000)); // the channel's reaction bucket: 1 per second
    }
    await until(
      () => discordRequests(),
      (rs) => rs.filter((r) => r.method === "PUT").length === 2,
      "both reactions",
    );
    const paths = (await discordRequests()).filter((r) => r.method === "PUT").map((r) => r.path);
    expect(paths).toEqual([
      `/api/v10/channels/${t.channelId}/messages/${payload.messageId}/reactions/%F0%9F%91%8D%F0%9F%8F%BD/@me`,
      `/api/v10/channels/${t.channelId}/messages/${payload.messageId}/reactions/dragon%3A123456789012345678/@me`,
    ]);
    expect((await discordRequests()).filter((r) => r.method === "PUT").every((r) => r.status === 204)).toBe(true);
    const bad = await api("PUT", `/api/tables/${t.channelId}/messages/${payload.messageId}/reactions/notanemoji`, t.owner);
    expect(bad.status).toBe(400);
  });

  it("a second reaction within a second is refused locally (429) and never sent", async () => {
    const t = await table();
    const msg = "123456789012345678";
    const first = await api("PUT", `/api/tables/${t.channelId}/messages/${msg}/reactions/${encodeURIComponent("🎲")}`, t.owner);
    const second = await api("PUT", `/api/tables/${t.channelId}/messages/${msg}/reactions/${encodeURIComponent("🎲")}`, t.owner);
    expect([first.status, second.status]).toEqual([202, 429]);
    expect(second.headers.get("Retry-After")).toBe("1");
    await until(
      () => discordRequests(),
      (rs) => rs.some((r) => r.method === "PUT"),
      "the first reaction",
    );
    await new Promise((r) => setTimeout(r, 100));
    expect((await discordRequests()).filter((r) => r.method === "PUT")).toHaveLength(1);
  });

  it("typing: one Discord call per channel per 8 s; every player's typing shows on the page as theirs", async () => {
    const t = await table();
    const other = await newPlayer();
    expect((await api("POST", `/api/rooms/${t.channelId}/join`, other, {})).status).toBe(200);
    const watcher = await connect({ userId: await newPlayer() });
    const a = await (await api("POST", `/api/tables/${t.channelId}/typing`, t.owner)).json<any>();
    const b = await (await api("POST", `/api/tables/${t.channelId}/typing`, other)).json<any>();
    expect([a.status, b.status]).toEqual(["accepted", "collapsed"]);
    await watcher.next((m) => m.event === "typing.started" && m.payload.userId === other && m.payload.channelId === t.channelId);
    expect(watcher.messages.find((m) => m.event === "typing.started" && m.payload.userId === t.owner)?.traceId).toBe(a.traceId);
    await until(
      () => posts(t.channelId, "typing"),
      (p) => p.length >= 1,
      "the typing call",
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(await posts(t.channelId, "typing")).toHaveLength(1);
  });
});

describe("command results on the SSE stream", () => {
  it("a player on /api/stream gets command.result as an event without an id (it is not replayed)", async () => {
    const t = await table();
    const ticket = await (
      await request("/api/stream/ticket", { method: "POST", headers: { Authorization: `Bearer ${await mintToken(t.owner)}` } })
    ).json<any>();
    const res = await request(ticket.url);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const until = async (needle: string) => {
      const deadline = Date.now() + 5000;
      while (!text.includes(needle)) {
        if (Date.now() > deadline) throw new Error(`no ${needle} in ${text.slice(0, 500)}`);
        text += (await reader.read()).value ?? "";
      }
    };
    await until("event: ready");
    await send(t.owner, t.channelId, { content: "over SSE", commandId: "sse-result-1" });
    await until('"status":"sent"');
    const block = text.split("\n\n").find((b) => b.includes('"status":"sent"'))!;
    expect(block.startsWith("event: command.result\ndata: ")).toBe(true);
    expect(JSON.parse(block.split("data: ")[1]!).payload).toMatchObject({ commandId: "sse-result-1", status: "sent" });
    await reader.cancel();
  });
});

describe("commands over the WebSocket", () => {
  it("chat.send works like the route; a refusal comes back as command.result refused with its code", async () => {
    const t = await table();
    const sock = await connect({ userId: t.owner });
    sock.send({ type: "chat.send", channelId: t.channelId, content: "from the socket", commandId: "ws-send-1", traceId: TRACE });
    const sent = await sock.next((m) => m.signal === "command.result" && m.payload.commandId === "ws-send-1" && m.payload.status === "sent");
    expect(sent.payload.traceId).toBe(TRACE);
    const stranger = await connect({ userId: await newPlayer() });
    stranger.send({ type: "chat.send", channelId: t.channelId, content: "let me in", commandId: "ws-send-2" });
    const refused = await stranger.next((m) => m.signal === "command.result" && m.payload.commandId === "ws-send-2");
    expect(refused.payload).toMatchObject({ status: "refused", code: "NOT_ROOM_MEMBER" });
    expect((await posts(t.channelId)).map((r) => r.body.content)).toEqual([`<@${t.owner}>: from the socket`]);
  });
});

describe("message events", () => {
  it("a table's messages are broadcast as sequenced events with gateway-node's trace id; other channels are not", async () => {
    const t = await table();
    const sock = await connect({ userId: await newPlayer() });
    const m = chatMessagePayload(t.channelId);
    const res = await postEvents([
      { id: uniqueId("m"), guildId: GUILD_ID, event: "message.created", payload: chatMessagePayload("123456789"), traceId: "11111111111111111111111111111111" },
      { id: uniqueId("m"), guildId: GUILD_ID, event: "message.created", payload: m, traceId: TRACE },
      {
        id: uniqueId("m"),
        guildId: GUILD_ID,
        event: "message.deleted",
        payload: { guildId: GUILD_ID, channelId: t.channelId, messageIds: [m.messageId, "1234"] },
        traceId: "22222222222222222222222222222222",
      },
    ]);
    expect(res.status).toBe(200);
    const created = await sock.next((e) => e.event === "message.created");
    expect(created).toMatchObject({ type: "event", traceId: TRACE, payload: { messageId: m.messageId, contentAvailable: false, content: "" } });
    const deleted = await sock.next((e) => e.event === "message.deleted");
    expect(deleted).toMatchObject({ seq: created.seq + 1, traceId: "22222222222222222222222222222222", payload: { messageIds: [m.messageId, "1234"] } });
    expect(sock.messages.filter((e) => e.event === "message.created")).toHaveLength(1);
  });

  it("the message a site send caused names its player and carries the command's trace id (the nonce ties them)", async () => {
    const t = await table();
    const sock = await connect({ userId: t.owner });
    await send(t.owner, t.channelId, { content: "tied by the nonce", commandId: "nonce-tie-1" }, { traceparent: traceparent() });
    const sent = await sock.next((m) => m.signal === "command.result" && m.payload.status === "sent");
    // What gateway-node forwards when Discord's MESSAGE_CREATE for it arrives, with its own trace id.
    await postEvents([
      {
        id: uniqueId("m"),
        guildId: GUILD_ID,
        event: "message.created",
        traceId: "33333333333333333333333333333333",
        payload: chatMessagePayload(t.channelId, {
          messageId: sent.payload.messageId,
          nonce: "nonce-tie-1",
          content: `<@${t.owner}>: tied by the nonce`,
          contentAvailable: true,
          author: { id: "100000000000000000", username: "bot", displayName: null, avatar: null, bot: true },
        }),
      },
    ]);
    const created = await sock.next((e) => e.event === "message.created");
    expect(created.traceId).toBe(TRACE);
    // The page shows the player's text; Discord shows the mention that names them.
    expect(created.payload).toMatchObject({ sentBy: t.owner, content: "tied by the nonce" });
  });

  it("a private table's chat reaches only its players and who is in its voice channel; everyone else gets a skip for its seq, live and on resume", async () => {
    const owner = await newPlayer();
    const room = await (await createRoom(owner, { name: "Secret Chat", private: true })).json<any>();
    const inVoice = "300000000000000019"; // in Discord, at the table, without a seat on the site
    await postEvents([
      { id: uniqueId("v"), guildId: GUILD_ID, event: "voice.joined", payload: { guildId: GUILD_ID, channelId: room.channelId, userId: inVoice } },
    ]);
    const seated = await connect({ userId: owner });
    const voice = await connect({ userId: inVoice, batch: true });
    const outsiderId = await newPlayer();
    const outsider = await connect({ userId: outsiderId });
    const from = outsider.ok;
    const secret = chatMessagePayload(room.channelId, { content: "our secret plan", contentAvailable: true });
    await postEvents([
      { id: uniqueId("m"), guildId: GUILD_ID, event: "message.created", payload: secret },
      { id: uniqueId("v"), guildId: GUILD_ID, event: "voice.joined", payload: { guildId: GUILD_ID, channelId: room.channelId, userId: "300000000000000020" } },
    ]);
    const created = await seated.next((e) => e.event === "message.created" && e.payload.messageId === secret.messageId);
    const inBatch = (m: any) => (m.type === "batch" ? m.events : [m]);
    await until(
      async () => voice.messages.flatMap(inBatch),
      (ms) => ms.some((e: any) => e.event === "message.created" && e.payload.messageId === secret.messageId),
      "the message for the player in voice",
    );
    expect(await outsider.next((m) => m.seq === created.seq)).toEqual({ v: 1, type: "skip", seq: created.seq, ts: expect.any(Number) });
    await outsider.next((e) => e.event === "voice.joined" && e.payload.userId === "300000000000000020");
    expect(JSON.stringify(outsider.messages)).not.toContain("secret plan");

    const resumedOutsider = await connect({ userId: outsiderId, resume: { seq: from.seq, epoch: from.epoch } });
    expect(resumedOutsider.ok.resumed).toBe(true);
    expect(await resumedOutsider.next((m) => m.seq === created.seq)).toMatchObject({ type: "skip" });
    const resumedOwner = await connect({ userId: owner, resume: { seq: from.seq, epoch: from.epoch } });
    expect(await resumedOwner.next((m) => m.seq === created.seq)).toMatchObject({ event: "message.created", payload: { content: "our secret plan" } });
  });

  it("a private table's typing and site reactions reach only its players too", async () => {
    const owner = await newPlayer();
    const room = await (await createRoom(owner, { name: "Secret Typing", private: true })).json<any>();
    const seated = await connect({ userId: owner });
    const outsider = await connect({ userId: await newPlayer() });
    const typed = await (await api("POST", `/api/tables/${room.channelId}/typing`, owner)).json<any>();
    expect(typed.status).toBe("accepted");
    const typing = await seated.next((e) => e.event === "typing.started" && e.payload.channelId === room.channelId);
    expect(await outsider.next((m) => m.seq === typing.seq)).toMatchObject({ type: "skip" });
  });
});

describe("site reactions", () => {
  it("show as the player's (sentBy); Discord's report of the bot's reaction is not shown again", async () => {
    const t = await table();
    const sock = await connect({ userId: t.owner });
    await send(t.owner, t.channelId, { content: "react to me", commandId: "react-attr" });
    const { payload } = await sock.next((m) => m.signal === "command.result" && m.payload.status === "sent");
    const res = await api("PUT", `/api/tables/${t.channelId}/messages/${payload.messageId}/reactions/${encodeURIComponent("🐉")}`, t.owner);
    expect(res.status).toBe(202);
    const added = await sock.next((e) => e.event === "message.reaction.added" && e.payload.messageId === payload.messageId);
    expect(added.payload).toMatchObject({ userId: BOT_USER_ID, sentBy: t.owner, emoji: { id: null, name: "🐉" } });
    expect(added.traceId).toBe((await res.json<any>()).traceId);
    // gateway-node's report of the same reaction (the bot's, in Discord) is dropped.
    const echo = { guildId: GUILD_ID, channelId: t.channelId, messageId: payload.messageId, userId: BOT_USER_ID, emoji: { id: null, name: "🐉" } };
    await postEvents([
      { id: uniqueId("r"), guildId: GUILD_ID, event: "message.reaction.added", payload: echo },
      { id: uniqueId("r"), guildId: GUILD_ID, event: "message.reaction.added", payload: { ...echo, userId: "300000000000000001" } },
    ]);
    await sock.next((e) => e.event === "message.reaction.added" && e.payload.userId === "300000000000000001");
    expect(sock.messages.filter((e) => e.event === "message.reaction.added")).toHaveLength(2);
  });
});

describe("GET /api/metrics", () => {
  const TOKEN = "test-metrics-token-0123456789abcdef";
  const scrape = (auth?: string, q = "") => request(`/api/metrics${q}`, auth === undefined ? {} : { headers: { Authorization: auth } });
  const value = (text: string, name: string, labels: Record<string, string>) => {
    const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
    return line ? Number(line.split(" ").at(-1)) : 0;
  };

  it("an operator with METRICS_TOKEN reads connections, events, signals, closes by code and command outcomes; anyone else gets 401", async () => {
    expect((await scrape()).status).toBe(401);
    expect((await scrape("Bearer not-the-token-but-long-enough-000000")).status).toBe(401);
    const before = await (await scrape(`Bearer ${TOKEN}`)).text();
    const t = await table();
    const sock = await connect({ userId: t.owner });
    await send(t.owner, t.channelId, { content: "counted" });
    await sock.next((m) => m.signal === "command.result" && m.payload.status === "sent");
    const stranger = await newPlayer();
    await send(stranger, t.channelId, { content: "refused" });
    sock.ws.close(4321, "bye");
    await sock.closed;
    await new Promise((r) => setTimeout(r, 100));
    const res = await scrape(`Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("text/plain");
    const after = await res.text();
    const grew = (name: string, labels: Record<string, string>) => value(after, name, labels) - value(before, name, labels);
    expect(after).toContain("# TYPE hub_commands_total counter");
    expect(grew("hub_connections_total", { guild: GUILD_ID, transport: "ws" })).toBeGreaterThanOrEqual(1);
    expect(grew("hub_commands_total", { command: "sendMessage", outcome: "accepted" })).toBe(1);
    expect(grew("hub_commands_total", { command: "sendMessage", outcome: "sent" })).toBe(1);
    expect(grew("hub_commands_total", { command: "sendMessage", outcome: "refused", code: "NOT_ROOM_MEMBER" })).toBe(1);
    expect(grew("hub_signals_total", { signal: "command.result" })).toBeGreaterThanOrEqual(2);
    expect(grew("hub_events_total", { event: "room.created" })).toBeGreaterThanOrEqual(1);
    expect(grew("hub_closes_total", { code: "4321", by: "client" })).toBe(1);
    expect(after).toMatch(new RegExp(`hub_seq\\{guild="${GUILD_ID}"\\} \\d+`));
    const json = await (await scrape(`Bearer ${TOKEN}`, "?format=json")).json<any>();
    expect(json.gauges.some((g: any) => g.name === "hub_sockets")).toBe(true);
  });
});
