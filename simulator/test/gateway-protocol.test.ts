/**
 * Gateway protocol details with a bare `ws` client: close codes, limits, sharding, intents,
 * resume rules, zlib-stream framing, heartbeat timeout, outage.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inflateSync, constants as zlibConstants } from "node:zlib";
import { GatewayDispatchEvents, GatewayIntentBits } from "discord-api-types/v10";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS, shardOf, startSimulator, type LocalDiscord } from "../src/index.ts";
import { api, identifyPayload, rawGateway, waitFor, type RawGateway } from "./helpers.ts";

const GUILDS_AND_VOICE = GatewayIntentBits.Guilds | GatewayIntentBits.GuildVoiceStates;

let sim: LocalDiscord;
const open: RawGateway[] = [];

beforeEach(async () => {
  sim = await startSimulator({ heartbeatIntervalMs: 300, identifyWindowMs: 0 });
});

afterEach(async () => {
  for (const c of open.splice(0)) c.ws.terminate();
  await sim.close();
});

async function connect(query?: string, url = sim.gatewayUrl): Promise<RawGateway> {
  const c = await rawGateway(url, query);
  open.push(c);
  return c;
}

async function identified(intents = GUILDS_AND_VOICE, shard: [number, number] = [0, 1]): Promise<{ c: RawGateway; sessionId: string }> {
  const c = await connect();
  c.send(identifyPayload(sim.botToken, intents, shard));
  const ready = await c.next((p) => p.t === GatewayDispatchEvents.Ready);
  return { c, sessionId: (ready.d as { session_id: string }).session_id };
}

const dispatched = (c: RawGateway, t: string) => c.received.filter((p) => p.t === t);

describe("handshake and close codes", () => {
  it("sends Hello first, with the configured heartbeat_interval", async () => {
    const c = await connect();
    const hello = await c.next(() => true);
    expect(hello).toMatchObject({ op: 10, s: null, t: null, d: { heartbeat_interval: 300 } });
  });

  const closes: [string, number, (c: RawGateway) => void, string?][] = [
    ["a bad token", 4004, (c) => c.send(identifyPayload("wrong", 1))],
    ["an undefined intent bit", 4013, (c) => c.send(identifyPayload(sim.botToken, 1 << 30))],
    ["a privileged intent not allowed (GUILD_MEMBERS)", 4014, (c) => c.send(identifyPayload(sim.botToken, GatewayIntentBits.GuildMembers))],
    ["shard id >= shard count", 4010, (c) => c.send(identifyPayload(sim.botToken, 1, [1, 1]))],
    ["a payload before identify", 4003, (c) => c.send({ op: 3, d: { status: "online", since: null, activities: [], afk: false } })],
    ["an unknown opcode", 4001, (c) => c.send({ op: 99, d: null })],
    ["invalid JSON", 4002, (c) => c.send("{nope")],
    ["a payload over 4096 bytes", 4002, (c) => c.send({ op: 1, d: null, pad: "x".repeat(4096) })],
    ["a bad API version", 4012, () => {}, "v=9&encoding=json"],
    ["etf encoding", 4002, () => {}, "v=10&encoding=etf"],
  ];
  for (const [what, code, act, query] of closes) {
    it(`closes ${code} on ${what}`, async () => {
      const c = await connect(query);
      act(c);
      expect((await c.closed).code).toBe(code);
    });
  }

  it("closes 4005 on a second identify", async () => {
    const { c } = await identified();
    c.send(identifyPayload(sim.botToken, 1));
    expect((await c.closed).code).toBe(4005);
  });

  it("closes 4008 on the 121st payload within 60 s", async () => {
    const c = await connect();
    for (let i = 0; i < 120; i++) c.send({ op: 1, d: null });
    await waitFor(() => c.received.filter((p) => p.op === 11).length === 120, 3000, "120 ACKs");
    c.send({ op: 1, d: null });
    expect((await c.closed).code).toBe(4008);
  });

  it("closes 4009 when the client stops heartbeating for 1.5 intervals", async () => {
    const c = await connect();
    const started = Date.now();
    expect((await c.closed).code).toBe(4009);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it("decrements session_start_limit.remaining per identify", async () => {
    await identified();
    expect((await api(sim, "GET", "/gateway/bot")).body.session_start_limit.remaining).toBe(999);
  });

  it("answers a too-fast second identify of the same max_concurrency bucket with op 9", async () => {
    await sim.close();
    sim = await startSimulator({ heartbeatIntervalMs: 300 }); // default 5 s identify window
    await identified();
    const c = await connect();
    c.send(identifyPayload(sim.botToken, 1));
    expect(await c.next((p) => p.op === 9)).toMatchObject({ op: 9, d: false });
  });
});

describe("heartbeats", () => {
  it("ACKs heartbeats, and stops while zombie", async () => {
    const { c } = await identified();
    c.send({ op: 1, d: 2 });
    await c.next((p) => p.op === 11);
    sim.setZombie(true);
    const acks = c.received.filter((p) => p.op === 11).length;
    c.send({ op: 1, d: 2 });
    await new Promise((r) => setTimeout(r, 100));
    expect(c.received.filter((p) => p.op === 11).length).toBe(acks);
  });
});

describe("sharding and intents", () => {
  it("routes guilds by (guild_id >> 22) % shard_count", async () => {
    // A second guild on the other shard of two.
    const other = ["1060000000400000001", "1060000000000000001", "1060000000800000001"].find((id) => shardOf(id, 2) !== shardOf(DEMO_GUILD_ID, 2))!;
    sim.addGuild({ id: other, name: "Other" });
    const demoShard = shardOf(DEMO_GUILD_ID, 2);
    const a = await identified(1, [demoShard, 2]);
    const b = await identified(1, [1 - demoShard, 2]);
    const guildsOf = (c: RawGateway) => dispatched(c, "GUILD_CREATE").map((p) => (p.d as { id: string }).id);
    await waitFor(() => guildsOf(a.c).length && guildsOf(b.c).length);
    expect(guildsOf(a.c)).toEqual([DEMO_GUILD_ID]);
    expect(guildsOf(b.c)).toEqual([other]);
    expect(dispatched(b.c, "READY")[0]!.d as { guilds: unknown[]; shard: number[] }).toMatchObject({
      guilds: [{ id: other, unavailable: true }],
      shard: [1 - demoShard, 2],
    });
  });

  it("sends MESSAGE_CREATE only with GUILD_MESSAGES, with content only with MESSAGE_CONTENT", async () => {
    const none = await identified(GatewayIntentBits.Guilds);
    const noContent = await identified(GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages);
    const content = await identified(GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.MessageContent);
    sim.postMessage(DEMO_CHANNELS.general, DEMO_USERS.alice, "hello table");
    await waitFor(() => dispatched(content.c, "MESSAGE_CREATE").length && dispatched(noContent.c, "MESSAGE_CREATE").length);
    expect(dispatched(content.c, "MESSAGE_CREATE")[0]!.d).toMatchObject({ content: "hello table", guild_id: DEMO_GUILD_ID, author: { id: DEMO_USERS.alice } });
    expect(dispatched(noContent.c, "MESSAGE_CREATE")[0]!.d).toMatchObject({ content: "", author: { id: DEMO_USERS.alice } });
    await new Promise((r) => setTimeout(r, 50));
    expect(dispatched(none.c, "MESSAGE_CREATE")).toEqual([]);
  });

  it("sends VOICE_STATE_UPDATE (full state with member) only with GUILD_VOICE_STATES; leaves have channel_id null", async () => {
    const withVoice = await identified(GUILDS_AND_VOICE);
    const without = await identified(GatewayIntentBits.Guilds);
    sim.joinVoice(DEMO_GUILD_ID, DEMO_USERS.dave, DEMO_CHANNELS.lobby);
    sim.joinVoice(DEMO_GUILD_ID, DEMO_USERS.dave, DEMO_CHANNELS.table1);
    sim.leaveVoice(DEMO_GUILD_ID, DEMO_USERS.dave);
    await waitFor(() => dispatched(withVoice.c, "VOICE_STATE_UPDATE").length === 3);
    const states = dispatched(withVoice.c, "VOICE_STATE_UPDATE").map((p) => p.d as Record<string, any>);
    expect(states.map((s) => s.channel_id)).toEqual([DEMO_CHANNELS.lobby, DEMO_CHANNELS.table1, null]);
    expect(states[0]).toMatchObject({
      guild_id: DEMO_GUILD_ID,
      user_id: DEMO_USERS.dave,
      session_id: expect.any(String),
      self_mute: false,
      member: { user: { id: DEMO_USERS.dave, username: "dave" }, roles: [] },
    });
    expect(dispatched(without.c, "VOICE_STATE_UPDATE")).toEqual([]);
  });

  it("dispatches CHANNEL_CREATE/DELETE for REST changes, disconnecting voice members first", async () => {
    const { c } = await identified();
    const created = await api(sim, "POST", `/guilds/${DEMO_GUILD_ID}/channels`, { body: { name: "Table 9", type: 2 } });
    sim.joinVoice(DEMO_GUILD_ID, DEMO_USERS.alice, created.body.id);
    await api(sim, "DELETE", `/channels/${created.body.id}`);
    await waitFor(() => dispatched(c, "CHANNEL_DELETE").length);
    const tail = c.received
      .filter((p) => p.op === 0)
      .slice(-4)
      .map((p) => {
        const d = p.d as { channel_id?: string | null; id?: string };
        return [p.t, "channel_id" in d ? d.channel_id : d.id];
      });
    expect(tail).toEqual([
      ["CHANNEL_CREATE", created.body.id],
      ["VOICE_STATE_UPDATE", created.body.id],
      ["VOICE_STATE_UPDATE", null],
      ["CHANNEL_DELETE", created.body.id],
    ]);
  });

  it("dispatches GUILD_ROLE_CREATE/DELETE and GUILD_MEMBER_UPDATE (the latter only with GUILD_MEMBERS)", async () => {
    await sim.close();
    sim = await startSimulator({ heartbeatIntervalMs: 300, identifyWindowMs: 0, allowedIntents: GatewayIntentBits.Guilds | GatewayIntentBits.GuildMembers });
    const { c } = await identified(GatewayIntentBits.Guilds | GatewayIntentBits.GuildMembers);
    const role = await api(sim, "POST", `/guilds/${DEMO_GUILD_ID}/roles`, { body: { name: "players" } });
    await api(sim, "PUT", `/guilds/${DEMO_GUILD_ID}/members/${DEMO_USERS.bob}/roles/${role.body.id}`);
    await api(sim, "DELETE", `/guilds/${DEMO_GUILD_ID}/roles/${role.body.id}`);
    await waitFor(() => dispatched(c, "GUILD_ROLE_DELETE").length);
    expect(dispatched(c, "GUILD_ROLE_CREATE")[0]!.d).toMatchObject({ guild_id: DEMO_GUILD_ID, role: { id: role.body.id, name: "players" } });
    expect(dispatched(c, "GUILD_MEMBER_UPDATE")[0]!.d).toMatchObject({ guild_id: DEMO_GUILD_ID, user: { id: DEMO_USERS.bob }, roles: [role.body.id] });
    expect(dispatched(c, "GUILD_ROLE_DELETE")[0]!.d).toEqual({ guild_id: DEMO_GUILD_ID, role_id: role.body.id });
  });
});

describe("resume", () => {
  it("replays every dispatch after seq on resume_gateway_url, then RESUMED", async () => {
    const { c, sessionId } = await identified();
    const resumeUrl = (dispatched(c, "READY")[0]!.d as { resume_gateway_url: string }).resume_gateway_url;
    expect(resumeUrl).toMatch(/\/gateway-resume$/);
    sim.dropConnections();
    await c.closed;
    sim.joinVoice(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.lobby);
    sim.joinVoice(DEMO_GUILD_ID, DEMO_USERS.bob, DEMO_CHANNELS.lobby);
    const r = await connect(undefined, resumeUrl);
    r.send({ op: 6, d: { token: sim.botToken, session_id: sessionId, seq: 2 } });
    await r.next((p) => p.t === "RESUMED");
    expect(r.received.filter((p) => p.op === 0).map((p) => [p.s, p.t])).toEqual([
      [3, "VOICE_STATE_UPDATE"],
      [4, "VOICE_STATE_UPDATE"],
      [5, "RESUMED"],
    ]);
  });

  it("answers an unknown session, or one past the resume window, with op 9 d:false", async () => {
    const unknown = await connect();
    unknown.send({ op: 6, d: { token: sim.botToken, session_id: "0".repeat(32), seq: 1 } });
    expect(await unknown.next((p) => p.op === 9)).toMatchObject({ d: false });

    await sim.close();
    sim = await startSimulator({ heartbeatIntervalMs: 300, resumeWindowMs: 50 });
    const { c, sessionId } = await identified();
    sim.dropConnections();
    await c.closed;
    await new Promise((r) => setTimeout(r, 100));
    const late = await connect();
    late.send({ op: 6, d: { token: sim.botToken, session_id: sessionId, seq: 2 } });
    expect(await late.next((p) => p.op === 9)).toMatchObject({ d: false });
  });

  it("closes 4007 for a seq the session never sent", async () => {
    const { c, sessionId } = await identified();
    sim.dropConnections();
    await c.closed;
    const r = await connect();
    r.send({ op: 6, d: { token: sim.botToken, session_id: sessionId, seq: 99 } });
    expect((await r.closed).code).toBe(4007);
  });

  it("forgets the session when the client closes with 1000, keeps it on other codes", async () => {
    const first = await identified();
    first.c.ws.close(1000);
    await first.c.closed;
    const second = await identified();
    second.c.ws.close(4100);
    await second.c.closed;
    await waitFor(() => sim.gatewayStats().openConnections === 0);
    for (const [sessionId, expected] of [
      [first.sessionId, 9],
      [second.sessionId, 0],
    ] as const) {
      const r = await connect();
      r.send({ op: 6, d: { token: sim.botToken, session_id: sessionId, seq: 2 } });
      expect((await r.next((p) => p.op === 9 || p.t === "RESUMED")).op).toBe(expected);
    }
  });

  it("op 9 d:true lets the client resume on the same socket", async () => {
    const { c, sessionId } = await identified();
    sim.sendInvalidSession(true);
    await c.next((p) => p.op === 9);
    c.send({ op: 6, d: { token: sim.botToken, session_id: sessionId, seq: 2 } });
    expect(await c.next((p) => p.t === "RESUMED")).toMatchObject({ s: 3 });
  });

  it("keeps sessions resumable through goDown (which refuses new sockets) and comeBack", async () => {
    const { c, sessionId } = await identified();
    sim.goDown();
    await c.closed;
    await expect(rawGateway(sim.gatewayUrl)).rejects.toThrow(/503/);
    sim.joinVoice(DEMO_GUILD_ID, DEMO_USERS.carol, DEMO_CHANNELS.table2);
    sim.comeBack();
    const r = await connect();
    r.send({ op: 6, d: { token: sim.botToken, session_id: sessionId, seq: 2 } });
    await r.next((p) => p.t === "RESUMED");
    expect(r.received.filter((p) => p.op === 0).map((p) => p.t)).toEqual(["VOICE_STATE_UPDATE", "RESUMED"]);
  });

  it("closeWith sends the given code and reason", async () => {
    const { c } = await identified();
    sim.closeWith(4000, "maintenance");
    expect(await c.closed).toEqual({ code: 4000, reason: "maintenance" });
  });
});

describe("fault switches (setGatewayFaults, restartGateway)", () => {
  it("requireUserAgent: an upgrade without User-Agent: DiscordBot (...) gets HTTP 400", async () => {
    sim.setGatewayFaults({ requireUserAgent: true });
    await expect(rawGateway(sim.gatewayUrl)).rejects.toThrow(/400/);
    const ok = await rawGateway(sim.gatewayUrl, undefined, { "User-Agent": "DiscordBot (https://example.com, 1.0)" });
    open.push(ok);
    expect((await ok.next((p) => p.op === 10)).op).toBe(10);
  });

  it("invalidateResumes: a resume of a live session gets op 9 d:false", async () => {
    const { c, sessionId } = await identified();
    sim.setGatewayFaults({ invalidateResumes: true });
    sim.dropConnections();
    await c.closed;
    const r = await connect();
    r.send({ op: 6, d: { token: sim.botToken, session_id: sessionId, seq: 2 } });
    expect(await r.next((p) => p.op === 9)).toMatchObject({ d: false });
  });

  it("reuseSessionIds: every identify gets the first session_id, numbered from 1 again", async () => {
    sim.setGatewayFaults({ reuseSessionIds: true });
    const first = await identified();
    first.c.ws.close(1000);
    await first.c.closed;
    const second = await identified();
    expect(second.sessionId).toBe(first.sessionId);
    expect(dispatched(second.c, "READY")[0]!.s).toBe(1);
  });

  it("restartSeqOnResume: after a resume the dispatches are numbered from 1 again", async () => {
    sim.setGatewayFaults({ restartSeqOnResume: true });
    const { c, sessionId } = await identified();
    sim.dropConnections();
    await c.closed;
    const r = await connect();
    r.send({ op: 6, d: { token: sim.botToken, session_id: sessionId, seq: 2 } });
    expect(await r.next((p) => p.t === "RESUMED")).toMatchObject({ s: 1 });
    sim.joinVoice(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.lobby);
    expect(await r.next((p) => p.t === "VOICE_STATE_UPDATE")).toMatchObject({ s: 2 });
  });

  it("restartGateway: sockets drop and sessions are forgotten", async () => {
    const { c, sessionId } = await identified();
    sim.restartGateway();
    await c.closed;
    const r = await connect();
    r.send({ op: 6, d: { token: sim.botToken, session_id: sessionId, seq: 2 } });
    expect(await r.next((p) => p.op === 9)).toMatchObject({ d: false });
  });
});

describe("zlib-stream", () => {
  it("sends binary frames that each end in 00 00 ff ff and inflate with one shared context", async () => {
    const c = await connect("v=10&encoding=json&compress=zlib-stream");
    c.send(identifyPayload(sim.botToken, GUILDS_AND_VOICE));
    await c.next((p) => p.t === GatewayDispatchEvents.GuildCreate);
    expect(c.frames.length).toBeGreaterThanOrEqual(3);
    for (const frame of c.frames) expect([...frame.subarray(-4)]).toEqual([0x00, 0x00, 0xff, 0xff]);
    expect(c.received.map((p) => p.op)).toEqual([10, 0, 0]);
    // Frames depend on each other: the second alone does not inflate (shared context, not per-message).
    expect(() => inflateSync(c.frames[1]!, { finishFlush: zlibConstants.Z_SYNC_FLUSH })).toThrow();
  });
});
