/**
 * End to end, as a player sees it: the Discord simulator, gateway-node and the Worker under
 * `wrangler dev` (all on loopback), and a player connected to /api/ws. Then each moving part is
 * taken away in turn while Discord keeps changing, and the player must end up with every event,
 * in order, once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { startLocalSystem, type LocalSystem } from "../scripts/lib/local-system.ts";
import { freePort } from "../scripts/lib/free-port.ts";
import { TestPlayer } from "./player-client.ts";

const G = DEMO_GUILD_ID;
let system: LocalSystem;
let stateDir: string;
let player: TestPlayer;

const voiceLog = (p: TestPlayer) => p.events.filter((e) => e.event.startsWith("voice.")).map((e) => `${e.event}:${e.payload.userId}:${e.payload.channelId}`);
const seqs = (p: TestPlayer) => p.events.map((e) => e.seq);

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), "e2e-"));
  system = await startLocalSystem({ workerPort: await freePort(), gatewayHealthPort: 0, simulatorPort: 0, stateDir, quiet: true, logLevel: "WARN" });
  await system.startWorker();
  await system.startGateway();
  player = new TestPlayer(system.workerUrl, () => system.simulator!.mintToken(DEMO_USERS.alice));
  await player.connect();
}, 120_000);

afterAll(async () => {
  player?.close();
  await system?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

describe("the local system", () => {
  it("delivers a simulated user's voice join, move and leave to a connected player", async () => {
    const sim = system.simulator!;
    sim.joinVoice(G, DEMO_USERS.bob, DEMO_CHANNELS.table1);
    const joined = await player.next((m) => m.event === "voice.joined" && m.payload.userId === DEMO_USERS.bob);
    expect(joined.payload).toEqual({ guildId: G, channelId: DEMO_CHANNELS.table1, userId: DEMO_USERS.bob });
    sim.setVoiceFlags(G, DEMO_USERS.bob, { selfMute: true }); // not a join: a flags change
    sim.joinVoice(G, DEMO_USERS.bob, DEMO_CHANNELS.table2); // a move, still muted
    sim.leaveVoice(G, DEMO_USERS.bob);
    await player.next((m) => m.event === "voice.left" && m.payload.channelId === DEMO_CHANNELS.table2);
    expect(voiceLog(player)).toEqual([
      `voice.joined:${DEMO_USERS.bob}:${DEMO_CHANNELS.table1}`,
      `voice.flags:${DEMO_USERS.bob}:${DEMO_CHANNELS.table1}`,
      `voice.left:${DEMO_USERS.bob}:${DEMO_CHANNELS.table1}`,
      `voice.joined:${DEMO_USERS.bob}:${DEMO_CHANNELS.table2}`,
      `voice.flags:${DEMO_USERS.bob}:${DEMO_CHANNELS.table2}`,
      `voice.left:${DEMO_USERS.bob}:${DEMO_CHANNELS.table2}`,
    ]);
    const muted = player.events.filter((e) => e.event === "voice.flags").map((e) => e.payload.selfMute);
    expect(muted).toEqual([true, true]);
  });

  it("loses nothing while the Worker is down: gateway-node queues, the player resumes", async () => {
    const sim = system.simulator!;
    const before = player.events.length;
    await system.stopWorker();
    await player.closed();
    sim.joinVoice(G, DEMO_USERS.carol, DEMO_CHANNELS.lobby);
    sim.joinVoice(G, DEMO_USERS.dave, DEMO_CHANNELS.lobby);
    sim.leaveVoice(G, DEMO_USERS.carol);
    await new Promise((r) => setTimeout(r, 1500)); // posts fail and wait in the outbox
    await system.startWorker();
    const ok = await player.reconnect();
    expect(ok.resumed).toBe(true);
    await player.next((m) => m.event === "voice.left" && m.payload.userId === DEMO_USERS.carol, 30_000);
    const missed = player.events.slice(before).map((e) => `${e.event}:${e.payload.userId}`);
    expect(missed).toEqual([`voice.joined:${DEMO_USERS.carol}`, `voice.joined:${DEMO_USERS.dave}`, `voice.left:${DEMO_USERS.carol}`]);
    const s = seqs(player);
    expect(s).toEqual([...s].sort((a, b) => a - b));
    expect(new Set(s).size).toBe(s.length);
  }, 120_000);

  it("repairs presence after gateway-node is killed and restarted (events during the gap are not lost)", async () => {
    const sim = system.simulator!;
    await system.stopGateway("SIGKILL");
    sim.joinVoice(G, DEMO_USERS.bob, DEMO_CHANNELS.table2); // nobody is listening to Discord now
    sim.leaveVoice(G, DEMO_USERS.dave);
    // identifies afresh and sends a presence snapshot; the hub repairs leaves and joins in its own order
    const repaired = Promise.all([
      player.next((m) => m.event === "voice.joined" && m.payload.userId === DEMO_USERS.bob && m.payload.channelId === DEMO_CHANNELS.table2, 30_000),
      player.next((m) => m.event === "voice.left" && m.payload.userId === DEMO_USERS.dave, 30_000),
    ]);
    await system.startGateway();
    await repaired;
  }, 120_000);

  it("resumes the Discord session after a dropped gateway connection and forwards what happened meanwhile", async () => {
    const sim = system.simulator!;
    const resumesBefore = sim.gatewayStats().resumes;
    sim.dropConnections();
    sim.joinVoice(G, DEMO_USERS.carol, DEMO_CHANNELS.table1);
    await player.next((m) => m.event === "voice.joined" && m.payload.userId === DEMO_USERS.carol && m.payload.channelId === DEMO_CHANNELS.table1, 30_000);
    expect(sim.gatewayStats().resumes).toBeGreaterThan(resumesBefore);
  }, 60_000);

  it("agrees with Discord at the end: the player's presence equals the simulator's voice states", async () => {
    const fresh = new TestPlayer(system.workerUrl, () => system.simulator!.mintToken(DEMO_USERS.dave));
    const ok = await fresh.connect();
    fresh.close();
    const truth: Record<string, string[]> = {};
    for (const v of system.simulator!.voiceStates(G)) if (v.channel_id) (truth[v.channel_id] ??= []).push(v.user_id);
    const sortAll = (p: Record<string, string[]>) =>
      Object.fromEntries(
        Object.entries(p)
          .map(([k, v]) => [k, [...v].sort()])
          .sort(),
      );
    expect(sortAll(ok.presence)).toEqual(sortAll(truth));
  });
});

describe("table chat through the whole system", () => {
  it("one trace id from the player's command, through Discord's MESSAGE_CREATE and gateway-node, to the message.created envelope", async () => {
    const sim = system.simulator!;
    const token = await sim.mintToken(DEMO_USERS.alice);
    const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      fetch(`${system.workerUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    // gateway-node learns the new voice channel from CHANNEL_CREATE, which Discord sends before any message in it.
    const room = (await (await call("POST", "/api/create-room", { name: "Chat E2E" })).json()) as { channelId: string };

    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const created = player.next((m) => m.event === "message.created" && m.payload.nonce === "e2e-trace-1", 15_000);
    const res = await call(
      "POST",
      `/api/tables/${room.channelId}/messages`,
      { content: "gg from the site", commandId: "e2e-trace-1" },
      { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    );
    expect(res.status).toBe(202);
    const envelope = await created;
    expect(envelope.traceId).toBe(traceId);
    expect(envelope.payload).toMatchObject({ content: "gg from the site", contentAvailable: true, sentBy: DEMO_USERS.alice, channelId: room.channelId });
    // The trace id never went to Discord.
    expect(JSON.stringify(sim.requests().filter((r) => r.path.includes(room.channelId)))).not.toContain(traceId);

    // A message written in Discord carries the trace id gateway-node started for its dispatch.
    const fromDiscord = player.next((m) => m.event === "message.created" && m.payload.author.id === DEMO_USERS.bob, 15_000);
    const posted = sim.postMessage(room.channelId, DEMO_USERS.bob, "gg from Discord");
    const theirs = await fromDiscord;
    expect(theirs.payload.messageId).toBe(posted.id);
    expect(theirs.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(theirs.traceId).not.toBe(traceId);
    const deleted = player.next((m) => m.event === "message.deleted", 15_000);
    sim.deleteMessage(room.channelId, posted.id);
    expect((await deleted).payload.messageIds).toEqual([posted.id]);
  });
});
