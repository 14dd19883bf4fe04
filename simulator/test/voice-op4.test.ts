/**
 * Gateway op 4 (Update Voice State) from the bot, at the protocol level: VOICE_STATE_UPDATE (with
 * member) then VOICE_SERVER_UPDATE, moves, leaves, a channel deleted under the bot, rejoin.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GatewayIntentBits } from "discord-api-types/v10";
import { BOT_USER_ID, DEMO_CHANNELS, DEMO_GUILD_ID, startSimulator, type LocalDiscord } from "../src/index.ts";
import { identifyPayload, rawGateway, waitFor, type RawGateway } from "./helpers.ts";

const INTENTS = GatewayIntentBits.Guilds | GatewayIntentBits.GuildVoiceStates;
let sim: LocalDiscord;
let gw: RawGateway;
let sessionId: string;

beforeEach(async () => {
  sim = await startSimulator({ heartbeatIntervalMs: 5000 });
  gw = await rawGateway(sim.gatewayUrl);
  gw.send(identifyPayload(sim.botToken, INTENTS));
  const ready = await gw.next((p) => p.t === "READY");
  sessionId = (ready.d as { session_id: string }).session_id;
  await gw.next((p) => p.t === "GUILD_CREATE");
});

afterEach(async () => {
  gw.ws.close();
  await sim.close();
});

const op4 = (channelId: string | null, selfDeaf = false) => ({
  op: 4,
  d: { guild_id: DEMO_GUILD_ID, channel_id: channelId, self_mute: false, self_deaf: selfDeaf },
});
const voiceEvents = () => gw.received.filter((p) => p.t === "VOICE_STATE_UPDATE" || p.t === "VOICE_SERVER_UPDATE");

describe("op 4 Update Voice State", () => {
  it("answers VOICE_STATE_UPDATE with member, then VOICE_SERVER_UPDATE with a token and the wss endpoint", async () => {
    gw.send(op4(DEMO_CHANNELS.lobby, true));
    await gw.next((p) => p.t === "VOICE_SERVER_UPDATE");
    const [state, server] = voiceEvents();
    expect(state!.t).toBe("VOICE_STATE_UPDATE");
    expect(state!.d).toMatchObject({
      guild_id: DEMO_GUILD_ID,
      channel_id: DEMO_CHANNELS.lobby,
      user_id: BOT_USER_ID,
      session_id: sessionId,
      self_deaf: true,
      member: { user: { id: BOT_USER_ID } },
    });
    expect(server!.t).toBe("VOICE_SERVER_UPDATE");
    expect(server!.d).toEqual({ token: expect.stringMatching(/^[0-9a-f]{24}$/), guild_id: DEMO_GUILD_ID, endpoint: sim.voice!.endpoint });
    expect(sim.voice!.endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    // The bot counts in presence like anyone (the hub decides whether to show it).
    expect(sim.voiceStates(DEMO_GUILD_ID)).toEqual([expect.objectContaining({ user_id: BOT_USER_ID, channel_id: DEMO_CHANNELS.lobby })]);
  });

  it("moves with a new state and a new token, leaves with channel_id null, and re-answers a repeated op 4", async () => {
    gw.send(op4(DEMO_CHANNELS.lobby));
    await waitFor(() => voiceEvents().length === 2);
    gw.send(op4(DEMO_CHANNELS.table1));
    await waitFor(() => voiceEvents().length === 4);
    gw.send(op4(DEMO_CHANNELS.table1)); // @discordjs/voice's rejoin: same channel again
    await waitFor(() => voiceEvents().length === 6);
    gw.send(op4(null));
    await waitFor(() => voiceEvents().length === 7);
    const events = voiceEvents();
    expect(events.map((e) => [e.t, (e.d as { channel_id?: string | null }).channel_id])).toEqual([
      ["VOICE_STATE_UPDATE", DEMO_CHANNELS.lobby],
      ["VOICE_SERVER_UPDATE", undefined],
      ["VOICE_STATE_UPDATE", DEMO_CHANNELS.table1],
      ["VOICE_SERVER_UPDATE", undefined],
      ["VOICE_STATE_UPDATE", DEMO_CHANNELS.table1],
      ["VOICE_SERVER_UPDATE", undefined],
      ["VOICE_STATE_UPDATE", null],
    ]);
    const tokens = events.filter((e) => e.t === "VOICE_SERVER_UPDATE").map((e) => (e.d as { token: string }).token);
    expect(new Set(tokens).size).toBe(3);
    expect(sim.voiceStates(DEMO_GUILD_ID)).toEqual([]);
  });

  it("a channel deleted under the bot disconnects it (VOICE_STATE_UPDATE with channel_id null)", async () => {
    gw.send(op4(DEMO_CHANNELS.table2));
    await waitFor(() => voiceEvents().length === 2);
    sim.deleteChannel(DEMO_CHANNELS.table2);
    const leave = await gw.next((p) => p.t === "VOICE_STATE_UPDATE" && (p.d as { channel_id: unknown }).channel_id === null);
    expect(leave.d).toMatchObject({ user_id: BOT_USER_ID, guild_id: DEMO_GUILD_ID });
  });

  it("ignores a text channel or unknown guild, and closes 4002 on a malformed payload", async () => {
    gw.send(op4(DEMO_CHANNELS.general));
    gw.send({ op: 4, d: { guild_id: "123", channel_id: DEMO_CHANNELS.lobby, self_mute: false, self_deaf: false } });
    gw.send({ op: 1, d: null });
    await gw.next((p) => p.op === 11);
    expect(voiceEvents()).toEqual([]);
    gw.send({ op: 4, d: { guild_id: DEMO_GUILD_ID, channel_id: 42 } });
    expect((await gw.closed).code).toBe(4002);
  });
});
