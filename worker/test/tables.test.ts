import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { evictDurableObject } from "cloudflare:test";
import { PermissionFlagsBits } from "discord-api-types/v10";
import { GUILD_ID, connect, events, postEvents, postSigned, voiceJoined } from "./helpers.ts";
import { control, createRoom, discordRequests, endRoom, hub, invite, join, leave, newPlayer, sim } from "./rooms-helpers.ts";

beforeAll(async () => {
  await sim("setRateLimits", { routeLimit: 1000, routeWindowMs: 1000, globalPerSecond: 1000 });
});
afterEach(async () => {
  await sim("clearRequests");
});

type Sock = Awaited<ReturnType<typeof connect>>;
const OFFER = { type: "offer", sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" };

/** A table with its creator seated, plus more seated players. */
async function table(opts: { players?: number; private?: boolean; userLimit?: number } = {}) {
  const owner = await newPlayer();
  const room = await (await createRoom(owner, { name: "Board Video", private: opts.private ?? false, userLimit: opts.userLimit ?? 4 })).json<any>();
  const players = [owner];
  for (let i = 1; i < (opts.players ?? 1); i++) {
    const p = await newPlayer();
    const token = room.private ? (await (await invite(owner, room.channelId)).json<any>()).token : undefined;
    expect((await join(p, room.channelId, token)).status).toBe(200);
    players.push(p);
  }
  return { room, channelId: room.channelId as string, players };
}

/** Joins the call and returns the socket's own peer id, from its table.state. */
async function joinCall(sock: Sock, channelId: string, camera = true): Promise<string> {
  const seen = sock.messages.length;
  sock.send({ type: "table.join", channelId, camera });
  const state = await sock.next((m) => m.type === "signal" && m.signal === "table.state" && sock.messages.indexOf(m) >= seen);
  return state.payload.you;
}
const signals = (s: Sock, name?: string) => s.messages.filter((m) => m.type === "signal" && (!name || m.signal === name));
const errorAck = (s: Sock, code: string) => s.next((m) => m.event === "error" && m.payload.code === code);

describe("table calls: who connects to whom", () => {
  it("the newcomer offers to every player already there; everyone learns who is at the table", async () => {
    const t = await table({ players: 3 });
    const [a, b, c] = (await Promise.all(t.players.map((userId) => connect({ userId })))) as [Sock, Sock, Sock];
    const pa = await joinCall(a, t.channelId);
    const pb = await joinCall(b, t.channelId);
    const pc = await joinCall(c, t.channelId);
    await c.next(() => signals(c, "rtc.connect").length === 2);
    const cConnects = signals(c, "rtc.connect").map((m) => m.payload);
    expect(cConnects).toEqual(
      expect.arrayContaining([
        { channelId: t.channelId, peer: pa, role: "offerer", gen: 1 },
        { channelId: t.channelId, peer: pb, role: "offerer", gen: 1 },
      ]),
    );
    expect((await a.next((m) => m.signal === "rtc.connect" && m.payload.peer === pc)).payload.role).toBe("answerer");
    expect((await a.next((m) => m.signal === "rtc.connect" && m.payload.peer === pb)).payload.role).toBe("answerer");
    const state = signals(c, "table.state").at(-1)!.payload;
    expect(state.you).toBe(pc);
    expect(state.peers.map((p: any) => [p.userId, p.role, p.camera])).toEqual(t.players.map((u) => [u, "player", true]));
  });

  it("a spectator of a public table receives from every player and sends nothing", async () => {
    const t = await table({ players: 2 });
    const [a, b] = (await Promise.all(t.players.map((userId) => connect({ userId })))) as [Sock, Sock, Sock];
    const pa = await joinCall(a, t.channelId);
    await joinCall(b, t.channelId);
    const watcher = await connect({ userId: await newPlayer() });
    const pw = await joinCall(watcher, t.channelId, true);
    await watcher.next(() => signals(watcher, "rtc.connect").length === 2);
    const mine = signals(watcher, "rtc.connect").map((m) => m.payload.role);
    expect(mine).toEqual(["answerer", "answerer"]);
    expect((await a.next((m) => m.signal === "rtc.connect" && m.payload.peer === pw)).payload.role).toBe("offerer");
    const seen = signals(watcher, "table.state")
      .at(-1)!
      .payload.peers.find((p: any) => p.peerId === pw);
    expect(seen).toMatchObject({ role: "spectator", camera: false });
    // A second spectator is not connected to the first.
    const other = await connect({ userId: await newPlayer() });
    const po = await joinCall(other, t.channelId);
    await other.next(() => signals(other, "rtc.connect").length === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(signals(other, "rtc.connect").map((m) => m.payload.peer)).not.toContain(pw);
    expect(signals(other, "rtc.connect")).toHaveLength(2);
    expect(pa).not.toBe(po);
  });

  it("a private table refuses people without a seat, with a clear error", async () => {
    const t = await table({ private: true });
    const outsider = await connect({ userId: await newPlayer() });
    outsider.send({ type: "table.join", channelId: t.channelId, camera: false });
    expect((await errorAck(outsider, "NOT_ROOM_MEMBER")).payload.message).toMatch(/private/);
    expect(signals(outsider)).toHaveLength(0);
  });

  it("caps spectators at 8 per table", async () => {
    const t = await table();
    for (let i = 0; i < 8; i++) await joinCall(await connect({ userId: await newPlayer() }), t.channelId);
    const ninth = await connect({ userId: await newPlayer() });
    ninth.send({ type: "table.join", channelId: t.channelId, camera: false });
    await errorAck(ninth, "TABLE_FULL");
  });

  it("a player's second tab takes over the call; the first is told why", async () => {
    const t = await table({ players: 2 });
    const other = await connect({ userId: t.players[1] });
    const po = await joinCall(other, t.channelId);
    const tab1 = await connect({ userId: t.players[0] });
    const p1 = await joinCall(tab1, t.channelId);
    const tab2 = await connect({ userId: t.players[0] });
    const p2 = await joinCall(tab2, t.channelId);
    await errorAck(tab1, "TABLE_OPENED_ELSEWHERE");
    expect((await tab1.next((m) => m.signal === "table.left")).payload.peerId).toBe(p1);
    await other.next((m) => m.signal === "table.left" && m.payload.peerId === p1);
    const state = await other.next((m) => m.signal === "table.state" && m.payload.peers.some((p: any) => p.peerId === p2));
    expect(state.payload.peers.map((p: any) => p.peerId)).toEqual([po, p2]);
  });
});

describe("relaying signals", () => {
  async function pair() {
    const t = await table({ players: 3 });
    const [a, b, c] = (await Promise.all(t.players.map((userId) => connect({ userId })))) as [Sock, Sock, Sock];
    const pa = await joinCall(a, t.channelId);
    const pb = await joinCall(b, t.channelId);
    const pc = await joinCall(c, t.channelId);
    return { t, a, b, c, pa, pb, pc };
  }

  it("relays only to the addressee, with `from` stamped by the hub", async () => {
    const { a, b, c, pa, pb, t } = await pair();
    b.send({ type: "rtc.signal", to: pa, gen: 1, description: OFFER, from: "forged" });
    const got = await a.next((m) => m.signal === "rtc.signal");
    expect(got.payload).toEqual({ channelId: t.channelId, from: pb, gen: 1, description: OFFER });
    b.send({ type: "rtc.signal", to: pa, gen: 1, candidate: { candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0 } });
    await a.next((m) => m.signal === "rtc.signal" && m.payload.candidate);
    b.send({ type: "rtc.signal", to: pa, gen: 1, candidate: null }); // end of candidates
    await a.next((m) => m.signal === "rtc.signal" && m.payload.candidate === null);
    expect(signals(c, "rtc.signal")).toHaveLength(0);
    expect(signals(b, "rtc.signal")).toHaveLength(0);
  });

  it("signals are never sequenced, stored or replayed", async () => {
    const { a, b, pa } = await pair();
    const before = await hub().status();
    for (let i = 0; i < 5; i++) b.send({ type: "rtc.signal", to: pa, gen: 1, description: OFFER });
    await a.next((m) => signals(a, "rtc.signal").length >= 5 && m.signal === "rtc.signal");
    const after = await hub().status();
    expect(after.seq).toBe(before.seq);
    for (const m of signals(a)) expect(m).not.toHaveProperty("seq");
    const resumed = await connect({ userId: a.ok.userId, resume: { seq: a.ok.seq, epoch: a.ok.epoch } });
    expect(resumed.ok.resumed).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(signals(resumed)).toHaveLength(0);
  });

  it("generations: the offerer rebuilds a pair, stale signals and resets from the answerer are refused", async () => {
    const { a, c, pa, pc } = await pair();
    // c joined last, so c offers to a.
    a.send({ type: "rtc.reset", to: pc, gen: 2 });
    await errorAck(a, "NOT_OFFERER");
    c.send({ type: "rtc.reset", to: pa, gen: 2 });
    expect((await a.next((m) => m.signal === "rtc.reset")).payload).toMatchObject({ from: pc, gen: 2 });
    c.send({ type: "rtc.signal", to: pa, gen: 1, description: OFFER });
    await errorAck(c, "STALE_GENERATION");
    c.send({ type: "rtc.signal", to: pa, gen: 2, description: OFFER });
    expect((await a.next((m) => m.signal === "rtc.signal")).payload.gen).toBe(2);
    c.send({ type: "rtc.reset", to: pa, gen: 2 });
    await c.next((m) => m.event === "error" && m.payload.code === "STALE_GENERATION" && m.payload.message.includes("above"));
  });

  it("answers bad input with an error ack and relays nothing", async () => {
    const { a, b, pa } = await pair();
    const cases: [unknown, string][] = [
      [{ type: "rtc.signal", to: "nobody", gen: 1, description: OFFER }, "UNKNOWN_PEER"],
      [{ type: "rtc.signal", to: pa, gen: 1 }, "BAD_MESSAGE"],
      [{ type: "rtc.signal", to: pa, gen: 1, description: OFFER, candidate: null }, "BAD_MESSAGE"],
      [{ type: "rtc.signal", to: pa, gen: 1, description: { type: "offer", sdp: "x".repeat(17 * 1024) } }, "BAD_MESSAGE"],
      [{ type: "rtc.signal", to: "../../etc", gen: 1, description: OFFER }, "BAD_MESSAGE"],
      [{ type: "rtc.signal", to: pa, gen: -1, description: OFFER }, "BAD_MESSAGE"],
      [{ type: "table.join", channelId: "not-a-channel", camera: true }, "BAD_MESSAGE"],
      [{ type: "table.join", channelId: "199999999999999999", camera: true }, "TABLE_NOT_FOUND"],
    ];
    for (const [message, code] of cases) {
      const seen = b.messages.length;
      b.send(message);
      await b.next((m) => m.event === "error" && b.messages.indexOf(m) >= seen);
      expect(b.messages.at(-1).payload.code, JSON.stringify(message).slice(0, 80)).toBe(code);
    }
    const outsider = await connect({ userId: await newPlayer() });
    outsider.send({ type: "rtc.signal", to: pa, gen: 1, description: OFFER });
    await errorAck(outsider, "NOT_AT_TABLE");
    expect(signals(a, "rtc.signal")).toHaveLength(0);
    expect(b.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("limits the rate of signalling messages per socket", async () => {
    const { a, b, pa } = await pair();
    const candidate = { candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0 };
    for (let i = 0; i < 260; i++) b.send({ type: "rtc.signal", to: pa, gen: 1, candidate });
    await errorAck(b, "RATE_LIMITED");
    await new Promise((r) => setTimeout(r, 200));
    const relayed = signals(a, "rtc.signal").length;
    expect(relayed).toBeGreaterThanOrEqual(200);
    expect(relayed).toBeLessThan(260);
  });
});

describe("leaving the call", () => {
  it("a closed socket leaves its table: the others get table.left", async () => {
    const t = await table({ players: 2 });
    const [a, b] = (await Promise.all(t.players.map((userId) => connect({ userId })))) as [Sock, Sock, Sock];
    await joinCall(a, t.channelId);
    const pb = await joinCall(b, t.channelId);
    b.ws.close(1000);
    expect((await a.next((m) => m.signal === "table.left")).payload.peerId).toBe(pb);
    await a.next((m) => m.signal === "table.state" && m.payload.peers.length === 1);
  });

  it("table.leave, a seat given up and a room that ends each take players out of the call", async () => {
    const t = await table({ players: 3 });
    const [a, b, c] = (await Promise.all(t.players.map((userId) => connect({ userId })))) as [Sock, Sock, Sock];
    const pa = await joinCall(a, t.channelId);
    const pb = await joinCall(b, t.channelId);
    const pc = await joinCall(c, t.channelId);
    c.send({ type: "table.leave", channelId: t.channelId });
    expect((await c.next((m) => m.signal === "table.left")).payload.peerId).toBe(pc);
    await a.next((m) => m.signal === "table.left" && m.payload.peerId === pc);

    expect((await leave(t.players[1]!, t.channelId)).status).toBe(200);
    await b.next((m) => m.signal === "table.left" && m.payload.peerId === pb);
    await a.next((m) => m.signal === "table.left" && m.payload.peerId === pb);

    expect((await endRoom(t.players[0]!, t.channelId)).status).toBe(200);
    expect((await a.next((m) => m.signal === "table.left" && m.payload.peerId === pa)).payload.channelId).toBe(t.channelId);
    a.send({ type: "rtc.signal", to: pb, gen: 1, description: OFFER });
    await errorAck(a, "NOT_AT_TABLE");
  });

  it("keeps the call across hibernation: membership lives in the sockets' attachments", async () => {
    const t = await table({ players: 2 });
    const [a, b] = (await Promise.all(t.players.map((userId) => connect({ userId })))) as [Sock, Sock, Sock];
    const pa = await joinCall(a, t.channelId);
    const pb = await joinCall(b, t.channelId);
    await evictDurableObject(hub(), { webSockets: "hibernate" });
    b.send({ type: "rtc.signal", to: pa, gen: 1, description: OFFER });
    expect((await a.next((m) => m.signal === "rtc.signal")).payload.from).toBe(pb);
    expect(events(a).filter((m) => m.event?.startsWith("rtc"))).toHaveLength(0);
  });
});

describe("into the table's voice without manual steps", () => {
  const voiceOf = async (userId: string) => {
    const state = await (await fetch(`${control}/state`)).json<any>();
    return state.guilds.find((g: any) => g.id === GUILD_ID).voiceStates.find((v: any) => v.user_id === userId)?.channel_id ?? null;
  };
  /** Someone in voice, as Discord (the simulator) and the hub (through gateway-node's event) both see it. */
  const inVoice = async (userId: string, channelId: string) => {
    await sim("joinVoice", { guildId: GUILD_ID, userId, channelId });
    await postEvents([voiceJoined(userId, channelId)]);
  };
  const lobbyChannel = async () =>
    (await sim("addChannel", { guildId: GUILD_ID, name: `Lobby ${Math.random().toString(36).slice(2, 6)}`, type: 2 })).id as string;
  const voiceStatus = (s: Sock, status: string) => s.next((m) => m.signal === "table.voice" && m.payload.status === status, 8_000);

  it("a seated player in another voice channel is moved to the table's by the bot, with an audit-log reason", async () => {
    const t = await table();
    const player = t.players[0]!;
    await inVoice(player, await lobbyChannel());
    const sock = await connect({ userId: player });
    const started = Date.now();
    await joinCall(sock, t.channelId);
    await voiceStatus(sock, "moving");
    await voiceStatus(sock, "moved");
    expect(Date.now() - started).toBeLessThan(2_000); // seed 001 US2: within 2 s
    expect(await voiceOf(player)).toBe(t.channelId);
    const patch = (await discordRequests()).find((r) => r.method === "PATCH" && r.path.endsWith(`/members/${player}`));
    expect(patch.body).toEqual({ channel_id: t.channelId });
    expect(patch.auditLogReason).toMatch(/opened their table/);
  });

  it("a player not in voice is told to join, and brought to the table when they connect anywhere", async () => {
    const t = await table();
    const player = t.players[0]!;
    const sock = await connect({ userId: player });
    await joinCall(sock, t.channelId);
    await voiceStatus(sock, "join-voice");
    await inVoice(player, await lobbyChannel());
    await voiceStatus(sock, "moved");
    expect(await voiceOf(player)).toBe(t.channelId);
  });

  it("explains a move Discord refuses (no Move Members permission) in plain language", async () => {
    const t = await table();
    const player = t.players[0]!;
    await inVoice(player, await lobbyChannel());
    await sim("denyBotPermissions", { guildId: GUILD_ID, permissions: String(PermissionFlagsBits.MoveMembers) });
    try {
      const sock = await connect({ userId: player });
      await joinCall(sock, t.channelId);
      const failed = await voiceStatus(sock, "failed");
      expect(failed.payload.message).toMatch(/Move Members/);
      expect(await voiceOf(player)).not.toBe(t.channelId);
    } finally {
      await sim("denyBotPermissions", { guildId: GUILD_ID, permissions: "0" });
    }
  });

  it("leaves spectators and players already there alone", async () => {
    const t = await table();
    const player = t.players[0]!;
    await inVoice(player, t.channelId);
    const sock = await connect({ userId: player });
    await joinCall(sock, t.channelId);
    await voiceStatus(sock, "in-voice");
    const watcherId = await newPlayer();
    await inVoice(watcherId, await lobbyChannel());
    const watcher = await connect({ userId: watcherId });
    await joinCall(watcher, t.channelId);
    await new Promise((r) => setTimeout(r, 200));
    expect(signals(watcher, "table.voice")).toHaveLength(0);
    expect((await discordRequests()).filter((r) => r.method === "PATCH")).toHaveLength(0);
  });
});

describe("speaking indicators from rtc-node (POST /api/internal/signals)", () => {
  const speaking = (channelId: string, userId: string, on: boolean) => ({
    guildId: GUILD_ID,
    signal: "voice.speaking",
    payload: { channelId, userId, speaking: on, level: 0.4 },
  });
  const postSignals = (signals: unknown[], opts: { secret?: string } = {}) =>
    postSigned(JSON.stringify({ signals }), { ...opts, path: "/api/internal/signals" });

  it("relays who is speaking to that table's call only, as signals (no seq)", async () => {
    const t = await table({ players: 2 });
    const other = await table();
    const [a, b] = (await Promise.all(t.players.map((userId) => connect({ userId })))) as [Sock, Sock, Sock];
    await joinCall(a, t.channelId);
    await joinCall(b, t.channelId);
    const elsewhere = await connect({ userId: other.players[0] });
    await joinCall(elsewhere, other.channelId);
    const res = await postSignals([speaking(t.channelId, t.players[1]!, true)]);
    expect(res.status).toBe(200);
    expect((await res.json<any>()).delivered).toBe(2);
    for (const s of [a, b])
      expect((await s.next((m) => m.signal === "voice.speaking")).payload).toEqual({
        channelId: t.channelId,
        userId: t.players[1],
        speaking: true,
        level: 0.4,
      });
    await new Promise((r) => setTimeout(r, 100));
    expect(signals(elsewhere, "voice.speaking")).toHaveLength(0);
  });

  it("refuses unsigned posts, other signal names and guilds not served, relaying nothing", async () => {
    const t = await table();
    const a = await connect({ userId: t.players[0] });
    await joinCall(a, t.channelId);
    expect((await postSignals([speaking(t.channelId, t.players[0]!, true)], { secret: "another-secret-another-secret-xx" })).status).toBe(401);
    expect((await postSignals([{ ...speaking(t.channelId, t.players[0]!, true), signal: "rtc.signal" }])).status).toBe(400);
    expect((await postSignals([{ ...speaking(t.channelId, t.players[0]!, true), guildId: "123456789012345678" }])).status).toBe(403);
    await new Promise((r) => setTimeout(r, 100));
    expect(signals(a, "voice.speaking")).toHaveLength(0);
  });
});
