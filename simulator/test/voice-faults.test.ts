/**
 * DAVE recovery paths and the voice fault switches, against the unmodified @discordjs/voice:
 * an invalid Welcome (op 31 then re-add), the lone-member reset, a delayed transition, packet
 * loss, and server close codes that make the client resume (4015) or rejoin (4006).
 */
import { afterEach, describe, expect, it } from "vitest";
import { VoiceCloseCodes } from "discord-api-types/voice/v8";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS, startSimulator, type LocalDiscord } from "../src/index.ts";
import { waitFor } from "./helpers.ts";
import { botVoice, closeTo, whenE2ee, whenHeard, whenReady, type BotVoice } from "./voiceHelpers.ts";

let sim: LocalDiscord | undefined;
let bot: BotVoice | undefined;

afterEach(async () => {
  await bot?.close();
  bot = undefined;
  await sim?.close();
  sim = undefined;
});

async function botAndAlice(): Promise<{ s: LocalDiscord; b: BotVoice }> {
  const s = (sim = await startSimulator({ voice: { heartbeatIntervalMs: 2000 } }));
  const b = (bot = await botVoice(s, DEMO_CHANNELS.lobby));
  await whenReady(b.connection);
  await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.lobby);
  return { s, b };
}

const room = (s: LocalDiscord) => s.voice!.stats().rooms[0]!;

describe("DAVE recovery", () => {
  it("a joiner whose Welcome is invalid reports op 31, is removed and re-added, and then decrypts", async () => {
    const s = (sim = await startSimulator({ voice: { heartbeatIntervalMs: 2000 } }));
    bot = await botVoice(s, DEMO_CHANNELS.lobby);
    await whenReady(bot.connection);
    s.corruptDaveWelcomes(1);
    await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.lobby);
    await waitFor(() => room(s).daveStats!.invalidCommitWelcomes === 1, 5000, "op 31");
    await waitFor(() => room(s).daveStats!.commits >= 2, 5000, "the re-add commit");
    await whenE2ee(s, [bot.connection, s.person(DEMO_USERS.alice).connection]);
    s.personSpeak(DEMO_USERS.alice, 440);
    bot.listener.reset();
    expect(closeTo((await whenHeard(() => bot!.listener.heard(), DEMO_USERS.alice)).frequencyHz, 440)).toBe(true);
    expect(bot.listener.heard().daveDecryptFailures).toBe(0);
  });

  it("the last member of a group is reset when the other leaves, and a new group forms with the next joiner", async () => {
    const { s, b } = await botAndAlice();
    const first = await whenE2ee(s, [b.connection, s.person(DEMO_USERS.alice).connection]);
    s.personLeave(DEMO_USERS.alice);
    await waitFor(() => room(s).daveStats!.resets === 1 && !room(s).dave!.established, 5000, "the lone-member reset");
    await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.bob, DEMO_CHANNELS.lobby);
    const second = await whenE2ee(s, [b.connection, s.person(DEMO_USERS.bob).connection]);
    expect(second).not.toBe(first);
    expect(room(s).dave!.epoch).toBe(1); // a fresh group, not epoch 3 of the old one
    s.personSpeak(DEMO_USERS.bob, 550);
    b.listener.reset();
    expect(closeTo((await whenHeard(() => b.listener.heard(), DEMO_USERS.bob)).frequencyHz, 550)).toBe(true);
  });

  it("a delayed DAVE transition holds op 22 back for the delay", async () => {
    const s = (sim = await startSimulator({ voice: { heartbeatIntervalMs: 2000 } }));
    bot = await botVoice(s, DEMO_CHANNELS.lobby);
    await whenReady(bot.connection);
    s.delayDaveTransitions(800);
    let transitionedAt = 0;
    bot.connection.on("transitioned", () => (transitionedAt ||= Date.now()));
    const joinedAt = Date.now();
    await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.lobby);
    await waitFor(() => transitionedAt > 0, 5000, "the bot's transition");
    expect(transitionedAt - joinedAt).toBeGreaterThanOrEqual(750);
  });
});

describe("unencrypted frames from a member (the @discordjs/voice 0.19 decrypt-failure path)", () => {
  it("with non-zero transition ids the listener gives up after 36 failures, reports op 31, is re-added and decrypts again", async () => {
    const { s, b } = await botAndAlice();
    await whenE2ee(s, [b.connection, s.person(DEMO_USERS.alice).connection]);
    expect(await s.injectUnencryptedFrames(DEMO_USERS.alice, 45)).toBe(45);
    await waitFor(() => room(s).daveStats!.invalidCommitWelcomes >= 1, 5000, "op 31 from the bot");
    await waitFor(() => b.listener.heard().daveDecryptFailures > 36, 5000, "the failures counted");
    await whenE2ee(s, [b.connection, s.person(DEMO_USERS.alice).connection]);
    s.personSpeak(DEMO_USERS.alice, 615);
    b.listener.reset();
    expect(closeTo((await whenHeard(() => b.listener.heard(), DEMO_USERS.alice)).frequencyHz, 615)).toBe(true);
    expect(b.listener.heard().streamErrors).toBe(0);
  });

  it("with transition id 0 (fault) 0.19.2 throws instead of recovering and destroys the receive stream", async () => {
    const s = (sim = await startSimulator({ voice: { heartbeatIntervalMs: 2000 } }));
    s.setDaveZeroTransitionIds(true);
    bot = await botVoice(s, DEMO_CHANNELS.lobby);
    await whenReady(bot.connection);
    await s.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.lobby);
    await whenE2ee(s, [bot.connection, s.person(DEMO_USERS.alice).connection]);
    await s.injectUnencryptedFrames(DEMO_USERS.alice, 45);
    await waitFor(() => bot!.listener.heard().streamErrors >= 1, 5000, "the receive stream destroyed");
    expect(room(s).daveStats!.invalidCommitWelcomes).toBe(0); // no recovery was attempted
  });
});

describe("voice fault switches", () => {
  it("packet loss 1 silences the relay; back to 0, audio flows again", async () => {
    const { s, b } = await botAndAlice();
    await whenE2ee(s, [b.connection, s.person(DEMO_USERS.alice).connection]);
    s.setVoicePacketFaults({ lossRate: 1 });
    s.personSpeak(DEMO_USERS.alice, 440);
    await waitFor(() => s.voice!.stats().relay.dropped >= 20, 5000, "dropped packets");
    expect(b.listener.heard().speakers[DEMO_USERS.alice]).toBeUndefined();
    s.setVoicePacketFaults({ lossRate: 0, jitterMs: 5 });
    expect(closeTo((await whenHeard(() => b.listener.heard(), DEMO_USERS.alice)).frequencyHz, 440)).toBe(true);
  });

  it("close 4015 makes the client resume; close 4006 makes it rejoin with a new identify", async () => {
    const { s, b } = await botAndAlice();
    await whenE2ee(s, [b.connection, s.person(DEMO_USERS.alice).connection]);
    expect(s.closeVoiceWith(VoiceCloseCodes.VoiceServerCrashed, s.botUserId)).toBe(1);
    await waitFor(() => s.voice!.stats().resumes === 1, 5000, "a resume after 4015");
    expect(s.voice!.stats().identifies).toBe(2);
    s.closeVoiceWith(VoiceCloseCodes.SessionNoLongerValid, s.botUserId);
    await waitFor(() => s.voice!.stats().identifies === 3, 5000, "a new identify after 4006");
    await whenE2ee(s, [b.connection, s.person(DEMO_USERS.alice).connection]);
    expect(room(s).dave!.leaves.filter((l) => l !== null)).toHaveLength(2); // the bot's old leaf is gone
    s.personSpeak(DEMO_USERS.alice, 700);
    b.listener.reset();
    expect(closeTo((await whenHeard(() => b.listener.heard(), DEMO_USERS.alice)).frequencyHz, 700)).toBe(true);
  });

  it("refuses close codes a voice server does not send", () => {
    return startSimulator().then(async (s) => {
      sim = s;
      expect(() => s.closeVoiceWith(1006)).toThrow(RangeError);
    });
  });
});
