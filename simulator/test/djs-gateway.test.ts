/**
 * Proof with a real client: @discordjs/ws (unmodified) against the simulator's gateway.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GatewayDispatchEvents, GatewayIntentBits, type GatewayGuildCreateDispatchData, type GatewayReadyDispatchData } from "discord-api-types/v10";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS, startSimulator, type LocalDiscord } from "../src/index.ts";
import { WebSocketShardEvents } from "@discordjs/ws";
import { djsGateway, waitFor, type DjsGateway } from "./helpers.ts";

const INTENTS = GatewayIntentBits.Guilds | GatewayIntentBits.GuildVoiceStates;

let sim: LocalDiscord;
let gw: DjsGateway | undefined;

beforeEach(async () => {
  sim = await startSimulator({ heartbeatIntervalMs: 200 });
});

afterEach(async () => {
  await gw?.manager.destroy();
  gw = undefined;
  await sim.close();
});

const events = (g: DjsGateway, t: GatewayDispatchEvents) => g.dispatches.filter((d) => d.t === t);

describe("@discordjs/ws against the simulator", () => {
  it("identifies over zlib-stream and receives READY then GUILD_CREATE with voice states", async () => {
    sim.joinVoice(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.lobby);
    gw = djsGateway(sim, INTENTS);
    await gw.manager.connect();
    const ready = events(gw, GatewayDispatchEvents.Ready)[0]?.d as GatewayReadyDispatchData;
    expect(ready.session_id).toMatch(/^[0-9a-f]{32}$/);
    expect(ready.resume_gateway_url).not.toBe(sim.gatewayUrl);
    expect(ready.guilds).toEqual([{ id: DEMO_GUILD_ID, unavailable: true }]);
    const guild = (await waitFor(() => events(gw!, GatewayDispatchEvents.GuildCreate)[0])).d as GatewayGuildCreateDispatchData;
    expect(guild.id).toBe(DEMO_GUILD_ID);
    expect(guild.channels.map((c) => c.name)).toEqual(expect.arrayContaining(["Lobby", "Table 1", "Table 2", "general", "Game Rooms"]));
    expect(guild.voice_states).toEqual([expect.objectContaining({ user_id: DEMO_USERS.alice, channel_id: DEMO_CHANNELS.lobby })]);
    expect(gw.dispatches.map((d) => d.s)).toEqual([1, 2]);
  });
});

describe("@discordjs/ws recovery", () => {
  it("gets its heartbeats acknowledged and answers a heartbeat request", async () => {
    gw = djsGateway(sim, INTENTS);
    const latencies: number[] = [];
    gw.manager.on(WebSocketShardEvents.HeartbeatComplete, ({ latency }) => latencies.push(latency));
    await gw.manager.connect();
    await waitFor(() => latencies.length >= 2, 2000, "two acknowledged heartbeats");
    const before = sim.gatewayStats().heartbeats;
    sim.requestHeartbeat();
    await waitFor(() => sim.gatewayStats().heartbeats > before, 1000, "requested heartbeat");
  });

  it("resumes after the connection drops, receiving what was dispatched meanwhile", async () => {
    gw = djsGateway(sim, INTENTS);
    await gw.manager.connect();
    sim.dropConnections();
    sim.joinVoice(DEMO_GUILD_ID, DEMO_USERS.bob, DEMO_CHANNELS.table1); // emitted while disconnected
    await waitFor(() => events(gw!, GatewayDispatchEvents.Resumed).length === 1, 5000, "RESUMED");
    const voice = events(gw, GatewayDispatchEvents.VoiceStateUpdate);
    expect(voice.map((v) => (v.d as { user_id: string }).user_id)).toEqual([DEMO_USERS.bob]);
    expect(sim.gatewayStats()).toMatchObject({ identifies: 1, resumes: 1 });
    expect(gw.dispatches.map((d) => d.s)).toEqual([1, 2, 3, 4]); // READY, GUILD_CREATE, VOICE_STATE_UPDATE, RESUMED
  });

  it("resumes on resume_gateway_url after op 7 Reconnect", async () => {
    gw = djsGateway(sim, INTENTS);
    await gw.manager.connect();
    sim.sendReconnect();
    sim.joinVoice(DEMO_GUILD_ID, DEMO_USERS.carol, DEMO_CHANNELS.table2);
    await waitFor(() => events(gw!, GatewayDispatchEvents.Resumed).length === 1, 5000, "RESUMED");
    expect(events(gw, GatewayDispatchEvents.VoiceStateUpdate)).toHaveLength(1);
    expect(sim.gatewayStats()).toMatchObject({ connections: 2, resumeUrlConnections: 1, identifies: 1, resumes: 1 });
  });

  it("identifies a new session after op 9 Invalid Session (d: false)", async () => {
    sim = await restart({ identifyWindowMs: 0 });
    gw = djsGateway(sim, INTENTS, { identifyThrottle: false });
    await gw.manager.connect();
    const firstSession = (events(gw, GatewayDispatchEvents.Ready)[0]!.d as GatewayReadyDispatchData).session_id;
    sim.sendInvalidSession(false);
    const second = await waitFor(() => events(gw!, GatewayDispatchEvents.Ready)[1], 5000, "second READY");
    expect((second.d as GatewayReadyDispatchData).session_id).not.toBe(firstSession);
    expect(sim.gatewayStats()).toMatchObject({ identifies: 2, resumes: 0 });
  });

  it("stops with an error on 4004 (bad token) instead of reconnecting", async () => {
    gw = djsGateway(sim, INTENTS, { identifyToken: "not-the-token" });
    void gw.manager.connect().catch(() => undefined);
    const error = await waitFor(() => gw!.errors[0], 5000, "error");
    expect(error.message).toBe("Authentication failed");
    await new Promise((r) => setTimeout(r, 800)); // longer than djs' 500 ms reconnect delay
    expect(sim.gatewayStats()).toMatchObject({ connections: 1, identifies: 0 });
    expect(gw.closeCodes).toContain(4004);
  });
});

async function restart(options: Parameters<typeof startSimulator>[0]): Promise<LocalDiscord> {
  await sim.close();
  return startSimulator({ heartbeatIntervalMs: 200, ...options });
}
