/** DiscordRtcClient through gateway-node's voice link against the simulator's voice server. */
import { afterEach, describe, expect, it } from "vitest";
import { VoiceConnectionStatus } from "@discordjs/voice";
import { BOT_USER_ID, DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { cuePackets } from "../src/cues.ts";
import { VideoNotSupportedError, type VoiceConnectError } from "../src/errors.ts";
import { pcmLevel } from "../src/opus-codec.ts";
import { botChannel, closeTo, startRig, until, type VoiceRig } from "./helpers.ts";

let rig: VoiceRig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe("DiscordRtcClient over the voice link", () => {
  it("joins, hears a person (speaking events, decoded PCM with a level), plays a cue a listener hears, and leaves", async () => {
    rig = await startRig();
    const { sim } = rig;
    const client = rig.client();
    const speaking: [string, boolean][] = [];
    client.on("speaking", (u, s) => speaking.push([u, s]));
    let levels: number[] = [];
    client.onAudio((p) => p.userId === DEMO_USERS.alice && levels.push(pcmLevel(p.pcm!)), { decode: true });
    await client.connect(DEMO_CHANNELS.table1);
    expect(botChannel(sim)).toBe(DEMO_CHANNELS.table1);
    // The bot's op 4 went through gateway-node's session: no second session was opened.
    expect(sim.voiceStateRequestCount()).toBe(1);

    await sim.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.table1);
    await client.whenE2ee();
    sim.personSpeak(DEMO_USERS.alice, 440);
    await until(() => speaking.some(([u, s]) => u === DEMO_USERS.alice && s), 8000, "alice speaking");
    await until(() => levels.filter((l) => l > 0.1).length >= 10, 8000, "audible decoded frames from alice");
    sim.personSilence(DEMO_USERS.alice);
    await until(() => speaking.some(([u, s]) => u === DEMO_USERS.alice && !s), 8000, "alice stopped");

    // A cue synthesised here, heard by alice at its pitch.
    levels = [];
    await client.sendAudio(cuePackets("room_closing"));
    const heard = await until(
      () => {
        const s = sim.personStatus(DEMO_USERS.alice).heard.speakers[BOT_USER_ID];
        return s && s.audibleFrames >= 20 ? s : null;
      },
      8000,
      "alice hearing the cue",
    );
    expect(closeTo(heard.frequencyHz, 660)).toBe(true);

    const left: string[] = [];
    client.on("left", (r) => left.push(r));
    client.disconnect();
    await until(() => botChannel(sim) === null, 5000, "the bot out of voice");
    expect(left).toEqual(["requested"]);
  });

  it("video is refused with a typed error pointing to the board-video path", async () => {
    rig = await startRig();
    const c = rig.client();
    expect(() => c.sendVideo()).toThrow(VideoNotSupportedError);
    expect(() => c.onVideo()).toThrow(/browser to browser over WebRTC/);
  });

  it("PCM in is encoded with opusscript: a listener hears the tone", async () => {
    rig = await startRig();
    const { sim } = rig;
    const client = rig.client();
    await client.connect(DEMO_CHANNELS.table1);
    await sim.personJoin(DEMO_GUILD_ID, DEMO_USERS.bob, DEMO_CHANNELS.table1);
    await client.whenE2ee();
    // 1 s of 523 Hz in odd-sized chunks.
    const pcm = Buffer.alloc(48_000 * 4);
    for (let i = 0; i < 48_000; i++) {
      const s = Math.round(Math.sin((2 * Math.PI * 523 * i) / 48_000) * 0.4 * 32767);
      pcm.writeInt16LE(s, i * 4);
      pcm.writeInt16LE(s, i * 4 + 2);
    }
    const chunks = [];
    for (let o = 0; o < pcm.length; o += 1000) chunks.push(pcm.subarray(o, o + 1000));
    await client.sendAudio(chunks, { format: "pcm" });
    const heard = await until(() => sim.personStatus(DEMO_USERS.bob).heard.speakers[BOT_USER_ID], 5000, "bob hearing the bot");
    expect(heard.audibleFrames).toBeGreaterThanOrEqual(40);
    expect(closeTo(heard.frequencyHz, 523)).toBe(true);
  });
});

describe("DiscordRtcClient against voice faults", () => {
  it("close 4017 (DAVE required) does not loop: one rejoin is refused and the client leaves with dave_required", async () => {
    rig = await startRig();
    const { sim } = rig;
    const client = rig.client();
    await client.connect(DEMO_CHANNELS.table1);
    const before = sim.voiceStateRequestCount();
    const left = new Promise<[string, VoiceConnectError | undefined]>((r) => client.once("left", (reason, err) => r([reason, err])));
    sim.closeVoiceWith(4017, BOT_USER_ID);
    const [reason, err] = await left;
    expect(reason).toBe("dave_required");
    expect(err?.closeCode).toBe(4017);
    await new Promise((r) => setTimeout(r, 500));
    // Only the leave (op 4 channel null) went out; no rejoin storm.
    expect(sim.voiceStateRequestCount() - before).toBeLessThanOrEqual(1);
    expect(botChannel(sim)).toBeNull();
  });

  it("close 4014 without a move ends the connection once; other codes rejoin at most maxRejoins times", async () => {
    rig = await startRig();
    const { sim } = rig;
    const client = rig.client({ maxRejoins: 2, rejoinWindowMs: 60_000 });
    await client.connect(DEMO_CHANNELS.table1);
    let before = sim.voiceStateRequestCount();
    const left1 = new Promise<string>((r) => client.once("left", (reason) => r(reason)));
    sim.closeVoiceWith(4014, BOT_USER_ID);
    expect(await left1).toBe("removed");
    await new Promise((r) => setTimeout(r, 300));
    expect(sim.voiceStateRequestCount() - before).toBeLessThanOrEqual(1);

    // 4006 again and again: each rejoin succeeds, yet the third within the window is refused.
    await client.connect(DEMO_CHANNELS.table1);
    before = sim.voiceStateRequestCount();
    const left2 = new Promise<string>((r) => client.once("left", (reason) => r(reason)));
    const hammer = setInterval(() => sim.closeVoiceWith(4006, BOT_USER_ID), 20);
    try {
      expect(await left2).toBe("rejoin_limit");
    } finally {
      clearInterval(hammer);
    }
    expect(sim.voiceStateRequestCount() - before).toBeLessThanOrEqual(4);
  });

  it("survives the endpoint moving, a person joining and leaving (DAVE group changes) and still decrypts", async () => {
    rig = await startRig();
    const { sim } = rig;
    const client = rig.client();
    const frames = new Map<string, number>();
    client.onAudio((p) => frames.set(p.userId, (frames.get(p.userId) ?? 0) + 1));
    await client.connect(DEMO_CHANNELS.table1);
    await sim.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.table1);
    await client.whenE2ee();
    sim.personSpeak(DEMO_USERS.alice, 440);
    await until(() => (frames.get(DEMO_USERS.alice) ?? 0) > 20, 8000, "alice's audio");

    await sim.personJoin(DEMO_GUILD_ID, DEMO_USERS.bob, DEMO_CHANNELS.table1);
    await until(() => sim.voice!.stats().rooms.find((r) => r.users.length === 3)?.dave?.pendingTransition === null, 8000, "a 3-member group");
    frames.clear();
    await until(() => (frames.get(DEMO_USERS.alice) ?? 0) > 20, 8000, "alice's audio with bob in the group");
    sim.personLeave(DEMO_USERS.bob);
    await until(() => sim.voice!.stats().rooms.find((r) => r.users.length === 2), 8000, "bob out");
    frames.clear();
    await until(() => (frames.get(DEMO_USERS.alice) ?? 0) > 20, 8000, "alice's audio after bob left");

    const states: string[] = [];
    client.on("state", (s) => states.push(s));
    await sim.moveVoiceEndpoint();
    await until(() => states.includes(VoiceConnectionStatus.Ready), 10_000, "ready on the new endpoint");
    frames.clear();
    await until(() => (frames.get(DEMO_USERS.alice) ?? 0) > 20, 10_000, "alice's audio after the endpoint moved");
    expect(client.currentChannelId).toBe(DEMO_CHANNELS.table1);
  });

  it("a move by someone else is followed; a deleted channel makes the client leave", async () => {
    rig = await startRig();
    const { sim } = rig;
    const client = rig.client({ moveGraceMs: 2000 });
    await client.connect(DEMO_CHANNELS.table1);
    const moved = new Promise<string>((r) => client.once("moved", r));
    sim.joinVoice(DEMO_GUILD_ID, BOT_USER_ID, DEMO_CHANNELS.table2);
    expect(await moved).toBe(DEMO_CHANNELS.table2);
    await until(() => client.status === VoiceConnectionStatus.Ready, 10_000, "ready in table 2");
    const left = new Promise<string>((r) => client.once("left", r));
    sim.deleteChannel(DEMO_CHANNELS.table2);
    expect(["channel_left", "removed"]).toContain(await left);
  });

  it("the transition-id-0 bug: the destroyed receive stream is recovered and audio decrypts again", async () => {
    rig = await startRig({ sim: { voice: { heartbeatIntervalMs: 2000 } } });
    const { sim } = rig;
    sim.setDaveZeroTransitionIds(true);
    const client = rig.client();
    const frames = new Map<string, number>();
    client.onAudio((p) => frames.set(p.userId, (frames.get(p.userId) ?? 0) + 1));
    await client.connect(DEMO_CHANNELS.table1);
    await sim.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.table1);
    await client.whenE2ee();
    sim.personSpeak(DEMO_USERS.alice, 440);
    await until(() => (frames.get(DEMO_USERS.alice) ?? 0) > 10, 8000, "alice's audio");
    // Her real frames would reset the failure count: plain frames alone, as in the bug reports.
    sim.personSilence(DEMO_USERS.alice);
    await new Promise((r) => setTimeout(r, 800));
    await sim.injectUnencryptedFrames(DEMO_USERS.alice, 45);
    await until(() => client.dave().recoveries >= 1, 8000, "the client's recovery");
    await client.whenE2ee();
    frames.clear();
    sim.personSpeak(DEMO_USERS.alice, 440);
    await until(() => (frames.get(DEMO_USERS.alice) ?? 0) > 20, 10_000, "alice's audio after recovery");
  });
});
