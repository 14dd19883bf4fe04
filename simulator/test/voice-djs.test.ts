/**
 * Proof with the real client: unmodified @discordjs/voice 0.19.2 with @snazzah/davey as the bot
 * (over an unmodified @discordjs/ws gateway) and as simulated people, against the simulator's
 * voice server: transport encryption in both modes, DAVE end to end, tones heard both ways.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { VoiceConnection } from "@discordjs/voice";
import { BOT_USER_ID, DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS, startSimulator, type LocalDiscord, type VoiceServerOptions } from "../src/index.ts";
import { botVoice, closeTo, whenE2ee, whenHeard, whenReady, type BotVoice } from "./voiceHelpers.ts";
import { waitFor } from "./helpers.ts";
import { VoiceCloseCodes } from "discord-api-types/voice/v8";
import { VoiceConnectionStatus } from "@discordjs/voice";

let sim: LocalDiscord | undefined;
let bot: BotVoice | undefined;

afterEach(async () => {
  await bot?.close();
  bot = undefined;
  await sim?.close();
  sim = undefined;
});

async function start(voice: VoiceServerOptions = {}): Promise<LocalDiscord> {
  sim = await startSimulator({ heartbeatIntervalMs: 5000, voice: { heartbeatIntervalMs: 2000, ...voice } });
  return sim;
}

const mode = (c: VoiceConnection) =>
  (c.state as { networking?: { state: { connectionData?: { encryptionMode?: string } } } }).networking?.state.connectionData?.encryptionMode;

describe.each(["aead_aes256_gcm_rtpsize", "aead_xchacha20_poly1305_rtpsize"] as const)("bot and a simulated person with %s and DAVE", (transport) => {
  it("hear each other's tones end-to-end encrypted", async () => {
    const s = await start({ modes: [transport] });
    bot = await botVoice(s, DEMO_CHANNELS.lobby);
    await whenReady(bot.connection);
    await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.lobby);
    const alice = s.person(DEMO_USERS.alice);
    await whenE2ee(s, [bot.connection, alice.connection]);
    expect(mode(bot.connection)).toBe(transport);
    expect(mode(alice.connection)).toBe(transport);

    bot.speak(440);
    s.personSpeak(DEMO_USERS.alice, 880);
    // What was heard while E2EE was starting does not count.
    bot.listener.reset();
    s.personResetHeard(DEMO_USERS.alice);
    const botHeard = await whenHeard(() => bot!.listener.heard(), DEMO_USERS.alice);
    const aliceHeard = await whenHeard(() => s.personStatus(DEMO_USERS.alice).heard, BOT_USER_ID);
    expect(closeTo(botHeard.frequencyHz, 880)).toBe(true);
    expect(closeTo(aliceHeard.frequencyHz, 440)).toBe(true);
    expect(botHeard.levelDbfs).toBeGreaterThan(-12);
    expect(bot.listener.heard().daveDecryptFailures).toBe(0);
    expect(s.personStatus(DEMO_USERS.alice).heard.daveDecryptFailures).toBe(0);
    const stats = s.voice!.stats();
    expect(stats.relay.decryptFailures).toBe(0);
    expect(stats.rooms[0]!.dave).toMatchObject({ established: true, epoch: 1 });
  });
});

describe("the voice server's group life", () => {
  it("three participants with joins and leaves: the MLS group changes and everybody still decrypts", async () => {
    const s = await start();
    bot = await botVoice(s, DEMO_CHANNELS.table1);
    await whenReady(bot.connection);
    await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.table1);
    await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.bob, DEMO_CHANNELS.table1);
    const code3 = await whenE2ee(s, [bot.connection, s.person(DEMO_USERS.alice).connection, s.person(DEMO_USERS.bob).connection]);
    expect(s.voice!.stats().rooms[0]!.dave!.leaves).toHaveLength(3);

    s.personLeave(DEMO_USERS.alice);
    await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.carol, DEMO_CHANNELS.table1);
    const members = () => [bot!.connection, s.person(DEMO_USERS.bob).connection, s.person(DEMO_USERS.carol).connection];
    const code = await waitFor(
      () => !s.voice!.stats().rooms[0]!.users.includes(DEMO_USERS.alice) && s.voice!.stats().rooms[0]!.users.length === 3,
      5000,
      "alice out, carol in",
    ).then(() => whenE2ee(s, members()));
    expect(code).not.toBe(code3); // a new epoch, a new privacy code
    const room = s.voice!.stats().rooms[0]!;
    expect(room.users.sort()).toEqual([BOT_USER_ID, DEMO_USERS.bob, DEMO_USERS.carol].sort());
    expect(room.dave!.epoch).toBeGreaterThanOrEqual(3);

    s.personSpeak(DEMO_USERS.bob, 523);
    s.personSpeak(DEMO_USERS.carol, 784);
    bot.listener.reset();
    s.personResetHeard(DEMO_USERS.carol);
    const fromBob = await whenHeard(() => bot!.listener.heard(), DEMO_USERS.bob);
    const fromCarol = await whenHeard(() => bot!.listener.heard(), DEMO_USERS.carol);
    const carolHearsBob = await whenHeard(() => s.personStatus(DEMO_USERS.carol).heard, DEMO_USERS.bob);
    expect([fromBob.frequencyHz, fromCarol.frequencyHz, carolHearsBob.frequencyHz].map((hz, i) => closeTo(hz, [523, 784, 523][i]!))).toEqual([
      true,
      true,
      true,
    ]);
    expect(bot.listener.heard().daveDecryptFailures + s.personStatus(DEMO_USERS.carol).heard.daveDecryptFailures).toBe(0);
    expect(bot.listener.heard().speakers[DEMO_USERS.alice]).toBeUndefined();
  });

  it("a dropped voice socket resumes without losing the group", async () => {
    const s = await start();
    bot = await botVoice(s, DEMO_CHANNELS.lobby);
    await whenReady(bot.connection);
    await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.lobby);
    const code = await whenE2ee(s, [bot.connection, s.person(DEMO_USERS.alice).connection]);
    const epoch = s.voice!.stats().rooms[0]!.dave!.epoch;
    expect(s.dropVoice(BOT_USER_ID)).toBe(1);
    await waitFor(() => s.voice!.stats().resumes === 1, 8000, "a voice resume");
    expect(s.voice!.stats().identifies).toBe(2); // no new identify: the same session
    s.personSpeak(DEMO_USERS.alice, 660);
    bot.listener.reset();
    const heard = await whenHeard(() => bot!.listener.heard(), DEMO_USERS.alice);
    expect(closeTo(heard.frequencyHz, 660)).toBe(true);
    expect(bot.connection.voicePrivacyCode).toBe(code);
    expect(s.voice!.stats().rooms[0]!.dave!.epoch).toBe(epoch);
    expect(bot.listener.heard().daveDecryptFailures).toBe(0);
  });

  it("a client without DAVE is closed with 4017 (and @discordjs/voice keeps rejoining)", async () => {
    const s = await start();
    bot = await botVoice(s, DEMO_CHANNELS.lobby, { daveEncryption: false });
    await waitFor(() => (s.voice!.stats().closeCodes[VoiceCloseCodes.EndToEndEncryptionDAVEProtocolRequired] ?? 0) >= 2, 8000, "4017 closes");
    expect(bot.connection.state.status).not.toBe(VoiceConnectionStatus.Ready);
    expect(s.voice!.stats().sessions).toBe(0);
    expect(s.voiceStateRequestCount()).toBeGreaterThanOrEqual(2); // each 4017 brings another op 4
  });

  it("an endpoint move reconnects everyone to the new endpoint", async () => {
    const s = await start();
    bot = await botVoice(s, DEMO_CHANNELS.lobby);
    await whenReady(bot.connection);
    await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.lobby);
    await whenE2ee(s, [bot.connection, s.person(DEMO_USERS.alice).connection]);
    const before = s.voice!.endpoint;
    const after = await s.moveVoiceEndpoint();
    expect(after).not.toBe(before);
    await waitFor(() => s.voice!.stats().identifies === 4, 8000, "both clients identify again");
    await whenReady(bot.connection);
    await whenE2ee(s, [bot.connection, s.person(DEMO_USERS.alice).connection]);
    s.personSpeak(DEMO_USERS.alice, 330);
    bot.listener.reset();
    const heard = await whenHeard(() => bot!.listener.heard(), DEMO_USERS.alice);
    expect(closeTo(heard.frequencyHz, 330)).toBe(true);
  });

  it("a move by someone else (the control API) takes the bot's and a person's voice sessions to the new channel", async () => {
    const s = await start();
    bot = await botVoice(s, DEMO_CHANNELS.lobby);
    await whenReady(bot.connection);
    await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.lobby);
    await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.bob, DEMO_CHANNELS.table1);
    s.joinVoice(DEMO_GUILD_ID, BOT_USER_ID, DEMO_CHANNELS.table1);
    s.joinVoice(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.table1);
    const inTable1 = () => s.voice!.stats().rooms.find((r) => r.channelId === DEMO_CHANNELS.table1)?.users.length === 3;
    await waitFor(() => inTable1() && s.voice!.stats().rooms.length === 1, 8000, "everyone in Table 1");
    await whenE2ee(s, [bot.connection, s.person(DEMO_USERS.alice).connection, s.person(DEMO_USERS.bob).connection]);
    expect(bot.connection.joinConfig.channelId).toBe(DEMO_CHANNELS.table1);
    s.personSpeak(DEMO_USERS.alice, 494);
    bot.listener.reset();
    expect(closeTo((await whenHeard(() => bot!.listener.heard(), DEMO_USERS.alice)).frequencyHz, 494)).toBe(true);
  });

  it("a channel deleted under the bot disconnects its voice connection (4014, no rejoin)", async () => {
    const s = await start();
    bot = await botVoice(s, DEMO_CHANNELS.table2);
    await whenReady(bot.connection);
    s.deleteChannel(DEMO_CHANNELS.table2);
    await waitFor(() => bot!.connection.state.status === VoiceConnectionStatus.Disconnected, 5000, "Disconnected");
    expect(s.voice!.stats().closeCodes[VoiceCloseCodes.Disconnected]).toBe(1);
  });

  it("sends no audio to a self-deafened listener", async () => {
    const s = await start();
    bot = await botVoice(s, DEMO_CHANNELS.lobby, { selfDeaf: true });
    await whenReady(bot.connection);
    await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.lobby);
    await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.bob, DEMO_CHANNELS.lobby);
    await whenE2ee(s, [bot.connection, s.person(DEMO_USERS.alice).connection, s.person(DEMO_USERS.bob).connection]);
    s.personSpeak(DEMO_USERS.alice, 440);
    await whenHeard(() => s.personStatus(DEMO_USERS.bob).heard, DEMO_USERS.alice);
    expect(bot.listener.heard().speakers[DEMO_USERS.alice]).toBeUndefined();
  });
});

describe("DAVE version 0 test mode (transport encryption only)", () => {
  it("connects without E2EE and carries audio both ways", async () => {
    const s = await start({ daveVersion: 0 });
    bot = await botVoice(s, DEMO_CHANNELS.lobby);
    await whenReady(bot.connection);
    await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.lobby);
    bot.speak(440);
    s.personSpeak(DEMO_USERS.alice, 880);
    expect(closeTo((await whenHeard(() => bot!.listener.heard(), DEMO_USERS.alice)).frequencyHz, 880)).toBe(true);
    expect(closeTo((await whenHeard(() => s.personStatus(DEMO_USERS.alice).heard, BOT_USER_ID)).frequencyHz, 440)).toBe(true);
    expect(bot.connection.voicePrivacyCode).toBeUndefined();
    expect(s.voice!.stats().rooms[0]!.dave).toBeNull();
  });
});
