/**
 * Simulated people and voice faults over the HTTP control API (what the control page uses), plus
 * the pieces they are built from: the tone source and analyser, and the transport cipher.
 */
import { createCipheriv } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS, startSimulator, type LocalDiscord } from "../src/index.ts";
import { ToneAnalyzer } from "../src/voice/people/toneAnalyzer.ts";
import { ToneSource } from "../src/voice/people/toneSource.ts";
import { TransportCipher } from "../src/voice/transportCipher.ts";
import { waitFor } from "./helpers.ts";

let sim: LocalDiscord;

beforeEach(async () => {
  sim = await startSimulator();
});

afterEach(async () => {
  await sim.close();
});

async function control(method: "GET" | "POST", name: string, body?: unknown) {
  const res = await fetch(`${sim.url}/control/${name}`, {
    method,
    headers: { "Content-Type": "application/json" },
    ...(method === "POST" && { body: JSON.stringify(body ?? {}) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe("simulated people over the control API", () => {
  it("join, speak a tone and report what each hears (frequency, level, packets)", async () => {
    for (const userId of [DEMO_USERS.alice, DEMO_USERS.bob]) {
      const joined = await control("POST", "personJoin", { guildId: DEMO_GUILD_ID, userId, channelId: DEMO_CHANNELS.table1 });
      expect(joined).toMatchObject({ status: 200, body: { ok: true, result: { userId, status: "ready" } } });
    }
    expect(
      sim
        .voiceStates(DEMO_GUILD_ID)
        .map((v) => v.user_id)
        .sort(),
    ).toEqual([DEMO_USERS.alice, DEMO_USERS.bob].sort());
    await waitFor(() => sim.people().every((p) => p.voicePrivacyCode !== null), 8000, "E2EE");
    expect((await control("POST", "personSpeak", { userId: DEMO_USERS.alice, frequencyHz: 600 })).status).toBe(200);
    type Heard = { audibleFrames: number; frequencyHz: number; levelDbfs: number; packets: number };
    let heard: Heard | undefined;
    for (const deadline = Date.now() + 8000; !heard || heard.audibleFrames < 15; await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > deadline) throw new Error("timed out waiting for bob to hear alice");
      const people = (await control("GET", "people")).body as { userId: string; heard: { speakers: Record<string, Heard> } }[];
      heard = people.find((p) => p.userId === DEMO_USERS.bob)?.heard.speakers[DEMO_USERS.alice];
    }
    expect(Math.abs(heard.frequencyHz - 600)).toBeLessThan(18);
    expect(heard.levelDbfs).toBeGreaterThan(-12);
    expect((await control("GET", "state")).body.voice.people).toHaveLength(2);
    expect((await control("POST", "personLeave", { userId: DEMO_USERS.alice })).status).toBe(200);
    await waitFor(() => sim.voice!.stats().rooms[0]?.users.length === 1, 5000, "alice gone from the voice server");
    expect(sim.voiceStates(DEMO_GUILD_ID).map((v) => v.user_id)).toEqual([DEMO_USERS.bob]);
  });

  it("plays a WAV clip sent as base64 (mono 16 kHz, resampled) and the listener hears its pitch", async () => {
    for (const userId of [DEMO_USERS.alice, DEMO_USERS.bob])
      await control("POST", "personJoin", { guildId: DEMO_GUILD_ID, userId, channelId: DEMO_CHANNELS.lobby });
    await waitFor(() => sim.people().every((p) => p.voicePrivacyCode !== null), 8000, "E2EE");
    sim.personResetHeard(DEMO_USERS.bob);
    const played = await control("POST", "personSpeakWav", { userId: DEMO_USERS.alice, wavBase64: wav(300, 16_000, 1.5).toString("base64") });
    expect(played.status).toBe(200);
    const heard = await waitFor(
      () => {
        const s = sim.personStatus(DEMO_USERS.bob).heard.speakers[DEMO_USERS.alice];
        return s && s.audibleFrames >= 25 ? s : null;
      },
      8000,
      "the clip",
    );
    expect(Math.abs(heard.frequencyHz! - 300)).toBeLessThan(9);
    const bad = await control("POST", "personSpeakWav", { userId: DEMO_USERS.alice, wavBase64: Buffer.from("RIFF....WAVEjunk").toString("base64") });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: "invalid_argument", message: expect.stringContaining("WAV") } } });
  });

  it("rejects bad input with a clear error", async () => {
    expect((await control("POST", "personSpeak", { userId: DEMO_USERS.alice, frequencyHz: 5 })).body.error.code).toBe("invalid_body");
    expect(await control("POST", "personStatus", { userId: DEMO_USERS.alice })).toMatchObject({ status: 404, body: { error: { code: "discord_10065" } } });
    expect(await control("POST", "closeVoiceWith", { code: 1006 })).toMatchObject({ status: 400, body: { error: { code: "invalid_argument" } } });
    expect(await control("POST", "setVoicePacketFaults", { lossRate: 2 })).toMatchObject({ status: 400 });
  });

  it("serves the voice section on the control page", async () => {
    const page = await (await fetch(`${sim.url}/`)).text();
    for (const action of ["personJoin", "personSpeak", "dropVoice", "moveVoiceEndpoint", "corruptDaveWelcomes"]) expect(page).toContain(action);
  });
});

describe("tone source and analyser", () => {
  it.each([220, 440, 1000])("recover %d Hz through Opus", (hz) => {
    const source = new ToneSource({ frequencyHz: hz, durationMs: 400 });
    const analyzer = new ToneAnalyzer();
    for (let packet = source.read() as Buffer | null; packet; packet = source.read() as Buffer | null) analyzer.push(packet);
    const result = analyzer.result();
    expect(result.packets).toBe(20);
    expect(Math.abs(result.frequencyHz! - hz)).toBeLessThan(hz * 0.03);
    source.destroy();
    analyzer.close();
  });
});

describe("transport cipher", () => {
  const key = Buffer.alloc(32, 7);
  const aad = Buffer.from("800078000001000000020000abcd", "hex").subarray(0, 12);

  it("AES-256-GCM uses the 4-byte counter followed by 8 zero bytes as nonce", () => {
    const sealed = new TransportCipher("aead_aes256_gcm_rtpsize", key).seal(Buffer.from("opus"), aad, 5);
    const nonce = Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.alloc(8)]);
    const reference = createCipheriv("aes-256-gcm", key, nonce).setAAD(aad);
    const expected = Buffer.concat([reference.update(Buffer.from("opus")), reference.final(), reference.getAuthTag()]);
    expect(sealed.equals(expected)).toBe(true);
  });

  it.each(["aead_aes256_gcm_rtpsize", "aead_xchacha20_poly1305_rtpsize"] as const)("%s opens what it sealed and rejects tampering", (mode) => {
    const cipher = new TransportCipher(mode, key);
    const sealed = cipher.seal(Buffer.from("opus frame"), aad, 9);
    expect(cipher.open(sealed, aad, 9)?.toString()).toBe("opus frame");
    expect(cipher.open(sealed, aad, 10)).toBeNull();
    const tampered = Buffer.from(sealed);
    tampered[0]! ^= 1;
    expect(cipher.open(tampered, aad, 9)).toBeNull();
  });
});

/** A mono 16-bit PCM WAV of a sine tone. */
function wav(hz: number, rate: number, seconds: number): Buffer {
  const frames = Math.round(rate * seconds);
  const out = Buffer.alloc(44 + frames * 2);
  out.write("RIFF", 0, "ascii");
  out.writeUInt32LE(36 + frames * 2, 4);
  out.write("WAVEfmt ", 8, "ascii");
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(rate, 24);
  out.writeUInt32LE(rate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write("data", 36, "ascii");
  out.writeUInt32LE(frames * 2, 40);
  for (let i = 0; i < frames; i++) out.writeInt16LE(Math.round(Math.sin((2 * Math.PI * hz * i) / rate) * 16_000), 44 + i * 2);
  return out;
}
