/** Shard lifecycle against the simulator: translation, heartbeat, zombie, op 7, op 9, close codes, drops, resume replay. */
import { afterEach, describe, expect, it } from "vitest";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { allReady, hubPresence, simPresence, sleepMs, startHarness, until, type Harness } from "./helpers/harness.ts";

const G = DEMO_GUILD_ID;
const { alice, bob, carol } = DEMO_USERS;
let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

const ids = () => h!.hub.events.map((e) => e.id);
const counts = () => h!.sim.gatewayStats();

async function ready(harness: Harness, shards = 1) {
  await until(() => allReady(harness, shards), 8000, "shards ready");
  await harness.hub.waitFor(() => harness.hub.ofType("presence.snapshot").length >= shards || harness.config.guildIds.length < shards, 8000, "snapshot");
}

describe("gateway session against the simulator", () => {
  it("identifies, snapshots, and translates join / mute / move / leave / rooms", async () => {
    h = await startHarness({ beforeStart: (sim) => sim.joinVoice(G, carol, DEMO_CHANNELS.table2) });
    await ready(h);
    const snap = h.hub.ofType("presence.snapshot")[0]!;
    expect(snap.id).toMatch(new RegExp(`^snap:${G}:[\\w-]+:\\d+$`));
    expect(snap.payload.voiceStates).toEqual([{ userId: carol, channelId: DEMO_CHANNELS.table2 }]);

    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby);
    h.sim.setVoiceFlags(G, alice, { selfMute: true });
    h.sim.setVoiceFlags(G, alice, { selfDeaf: true });
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.table1); // move
    h.sim.leaveVoice(G, alice);
    const room = h.sim.addChannel(G, { name: "Table 9", type: 2 });
    h.sim.addChannel(G, { name: "text", type: 0 });
    h.sim.deleteChannel(room.id);
    await h.hub.waitFor(() => h!.hub.events.length === 10, 5000, "10 events");
    const evs = h.hub.events.slice(1);
    expect(evs.map((e) => e.event)).toEqual([
      "voice.joined",
      "voice.flags", // muted
      "voice.flags", // deafened
      "voice.left", // the move...
      "voice.joined",
      "voice.flags", // ...carries the flags she still has
      "voice.left",
      "room.created",
      "room.deleted",
    ]);
    // v:<random per connection>:<seq>: unique without trusting the server's session id or seq.
    expect(evs[0]!.id).toMatch(/^v:[0-9a-f]{12}:\d+$/);
    expect(evs[1]!.id).toMatch(/^v:[0-9a-f]{12}:\d+$/);
    expect(evs[1]!.payload).toEqual({
      guildId: G,
      channelId: DEMO_CHANNELS.lobby,
      userId: alice,
      selfMute: true,
      selfDeaf: false,
      serverMute: false,
      serverDeaf: false,
    });
    expect(evs[2]!.payload).toMatchObject({ selfMute: true, selfDeaf: true });
    expect(evs[3]!.id).toMatch(/:0$/);
    expect(evs[4]!.id).toBe(evs[3]!.id.replace(/:0$/, ":1"));
    expect(evs[5]!.id).toBe(evs[3]!.id.replace(/:0$/, ":f"));
    expect(evs[3]!.payload).toEqual({ guildId: G, channelId: DEMO_CHANNELS.lobby, userId: alice });
    expect(evs[4]!.payload).toEqual({ guildId: G, channelId: DEMO_CHANNELS.table1, userId: alice });
    expect(evs[5]!.payload).toMatchObject({ channelId: DEMO_CHANNELS.table1, selfMute: true, selfDeaf: true });
    expect(new Set(ids()).size).toBe(ids().length);
    expect(evs[7]).toMatchObject({ id: `room.created:${room.id}`, payload: { channelId: room.id, name: "Table 9", guildId: G } });
    expect(evs[8]!.id).toBe(`room.deleted:${room.id}`);
    expect(hubPresence(h.hub, G)).toEqual(simPresence(h.sim, G));
    // The identify carried the documented intents and never leaked the token to the logs.
    expect(h.logs.join("\n")).not.toContain(h.sim.botToken);
  });

  it("answers op 1 at once and jitters the first heartbeat", async () => {
    h = await startHarness({ sim: { heartbeatIntervalMs: 5000 }, deps: { random: () => 0.98 } });
    await ready(h);
    const before = counts().heartbeats;
    expect(before).toBe(0); // first beat waits interval * 0.98
    h.sim.requestHeartbeat();
    await until(() => counts().heartbeats === before + 1, 1000, "immediate heartbeat");
  });

  it("zombie: no ACK before the next beat -> close (not 1000) and resume, events kept", async () => {
    h = await startHarness();
    await ready(h);
    const identifies = counts().identifies;
    h.sim.setZombie(true);
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby);
    await until(() => h!.node.metrics.zombies.total() === 1, 5000, "zombie detected");
    await until(() => counts().resumes === 1 && allReady(h!), 5000, "resumed");
    h.sim.joinVoice(G, bob, DEMO_CHANNELS.lobby);
    await h.hub.waitFor(() => h!.hub.ofType("voice.joined").length === 2);
    expect(counts().identifies).toBe(identifies);
    expect(new Set(ids()).size).toBe(ids().length);
    expect(h.node.metrics.resumed.total()).toBe(1);
  });

  it("op 7 Reconnect -> resume on resume_gateway_url", async () => {
    h = await startHarness();
    await ready(h);
    h.sim.sendReconnect();
    await until(() => counts().resumes === 1 && allReady(h!), 5000, "resumed");
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby);
    await h.hub.waitFor(() => h!.hub.ofType("voice.joined").length === 1);
    expect(counts().identifies).toBe(1);
    expect(h.hub.ofType("presence.snapshot")).toHaveLength(1); // a resume sends no snapshot
  });

  it("op 9 d:true -> resume; op 9 d:false -> wait, identify, fresh snapshot", async () => {
    h = await startHarness();
    await ready(h);
    h.sim.sendInvalidSession(true);
    await until(() => counts().resumes === 1 && allReady(h!), 5000, "resumed");
    expect(counts().identifies).toBe(1);
    h.sim.sendInvalidSession(false);
    await until(() => counts().identifies === 2 && allReady(h!), 5000, "re-identified");
    await h.hub.waitFor(() => h!.hub.ofType("presence.snapshot").length === 2);
    expect(h.node.metrics.invalidSessions.total()).toBe(2);
  });

  it("dropped socket: resume replays the events missed meanwhile, in order, once", async () => {
    h = await startHarness({ tuning: { reconnectBaseMs: 300 } });
    await ready(h);
    h.sim.dropConnections();
    // While the client waits to reconnect, the world moves on; the session buffers the dispatches.
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby);
    h.sim.joinVoice(G, bob, DEMO_CHANNELS.table1);
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.table2);
    h.sim.leaveVoice(G, bob);
    await until(() => counts().resumes === 1 && allReady(h!), 5000, "resumed");
    await h.hub.waitFor(() => h!.hub.events.length === 1 + 5);
    expect(h.hub.events.slice(1).map((e) => `${e.event}:${(e.payload as { userId: string }).userId}`)).toEqual([
      `voice.joined:${alice}`,
      `voice.joined:${bob}`,
      `voice.left:${alice}`,
      `voice.joined:${alice}`,
      `voice.left:${bob}`,
    ]);
    expect(counts().identifies).toBe(1);
    expect(hubPresence(h.hub, G)).toEqual(simPresence(h.sim, G));
    expect(h.logs.some((l) => l.includes("RESUMED") && l.includes('"replayedEvents":4'))).toBe(true);
  });

  it("close codes: resumable (4000, 4008) resume; 4007 / 4009 start a new session", async () => {
    h = await startHarness();
    await ready(h);
    h.sim.closeWith(4000);
    await until(() => counts().resumes === 1 && allReady(h!), 5000, "resume after 4000");
    h.sim.closeWith(4008);
    await until(() => counts().resumes === 2 && allReady(h!), 5000, "resume after 4008");
    expect(counts().identifies).toBe(1);
    h.sim.closeWith(4009);
    await until(() => counts().identifies === 2 && allReady(h!), 5000, "identify after 4009");
    h.sim.closeWith(4007);
    await until(() => counts().identifies === 3 && allReady(h!), 5000, "identify after 4007");
    expect(counts().resumes).toBe(2);
    await h.hub.waitFor(() => h!.hub.ofType("presence.snapshot").length === 3);
  });

  it("fatal 4004: stops without retrying, exits 3, /health unhealthy with the fix", async () => {
    h = await startHarness();
    await ready(h);
    const connections = counts().connections;
    h.sim.closeWith(4004);
    const result = await h.node.finished;
    expect(result.exitCode).toBe(3);
    expect(result.reason).toMatch(/DISCORD_BOT_TOKEN/);
    await sleepMs(300);
    expect(counts().connections).toBe(connections); // no retry
    const res = await fetch(`http://127.0.0.1:${h.node.healthPort}/health`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; reason: string };
    expect(body.status).toBe("unhealthy");
    expect(body.reason).toMatch(/Reset Token/);
    expect(h.logs.some((l) => l.includes('"level":"ERROR"') && l.includes("4004") && l.includes("Operator action"))).toBe(true);
  });

  it("fatal 4014: the error says which intent to enable in the Developer Portal", async () => {
    h = await startHarness({ sim: { allowedIntents: 1 | 128 | 512 }, config: { enableMessageEvents: true, messageContent: true } });
    const result = await h.node.finished;
    expect(result.exitCode).toBe(3);
    expect(result.reason).toMatch(/4014/);
    expect(result.reason).toMatch(/Message Content intent in the Developer Portal/);
    expect(counts().identifies).toBe(0);
  });

  it("bad token: GET /gateway/bot 401 -> exit 3 telling to fix DISCORD_BOT_TOKEN, no identify", async () => {
    h = await startHarness({ config: { token: "not-the-token" } });
    const result = await h.node.finished;
    expect(result.exitCode).toBe(3);
    expect(result.reason).toMatch(/DISCORD_BOT_TOKEN/);
    expect(counts().connections).toBe(0);
    expect(h.logs.join("\n")).not.toContain("not-the-token");
  });

  it("GET /gateway/bot answered 429: waits retry_after like every REST call, then starts", async () => {
    h = await startHarness({ beforeStart: (sim) => sim.failNext(1, 429, /gateway\/bot/, 0.3) });
    await ready(h);
    const calls = h.sim.requests().filter((r) => r.path.endsWith("/gateway/bot"));
    expect(calls.map((r) => r.status)).toEqual([429, 200]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(280);
    expect(h.logs.some((l) => l.includes("discord rate limited (429)"))).toBe(true);
  });

  it("GET /gateway/bot failing with 5xx: retried with backoff, then starts", async () => {
    h = await startHarness({ beforeStart: (sim) => sim.failNext(2, 502, /gateway\/bot/) });
    await ready(h);
    expect(
      h.sim
        .requests()
        .filter((r) => r.path.endsWith("/gateway/bot"))
        .map((r) => r.status),
    ).toEqual([502, 502, 200]);
  });

  it("5 consecutive failed attempts -> unhealthy, ERROR 'operator action', exit 1", async () => {
    h = await startHarness();
    await ready(h);
    h.sim.goDown();
    const result = await h.node.finished;
    expect(result.exitCode).toBe(1);
    expect(result.reason).toMatch(/5 consecutive connection attempts failed/);
    expect(h.node.health().status).toBe("unhealthy");
    expect(h.logs.some((l) => l.includes('"level":"ERROR"') && l.includes("Operator action is needed"))).toBe(true);
    // The backoff grew between attempts (40 ms base: ~40, 80, 160, 300...).
    const waits = h.logs.filter((l) => l.includes('"msg":"reconnecting"')).map((l) => JSON.parse(l).inMs as number);
    expect(waits.length).toBeGreaterThanOrEqual(5);
    expect(waits[4]!).toBeGreaterThan(waits[1]!);
  });

  it("an outage shorter than 5 attempts recovers by resuming", async () => {
    h = await startHarness({ tuning: { reconnectBaseMs: 100 } });
    await ready(h);
    h.sim.goDown();
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby);
    await sleepMs(250);
    h.sim.comeBack();
    await until(() => allReady(h!), 8000, "back");
    await h.hub.waitFor(() => h!.hub.ofType("voice.joined").length === 1);
    expect(counts().identifies).toBe(1);
    expect(h.node.health().status).toBe("ok");
  });

  it("a resume that comes too late gets op 9 d:false and falls back to identify + snapshot", async () => {
    h = await startHarness({ sim: { resumeWindowMs: 50 }, tuning: { reconnectBaseMs: 400 } });
    await ready(h);
    h.sim.dropConnections();
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby); // lost with the session...
    await until(() => counts().identifies === 2 && allReady(h!), 5000, "re-identified");
    await h.hub.waitFor(() => h!.hub.ofType("presence.snapshot").length === 2);
    // ...but repaired by the snapshot.
    expect(hubPresence(h.hub, G)).toEqual(simPresence(h.sim, G));
    expect(hubPresence(h.hub, G).get(alice)).toBe(DEMO_CHANNELS.lobby);
  });
});
