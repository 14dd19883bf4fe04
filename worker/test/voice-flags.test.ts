/**
 * Mute and deafen flags through the GuildHub: gateway-node's voice.flags reach every player as a
 * public event (once per change), auth.ok carries who is flagged beside the presence, leaving
 * voice clears them, a resume replays them, an eviction keeps them, and a snapshot repairs them.
 */
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { evictDurableObject } from "cloudflare:test";
import { AuthOk, EventEnvelope, type InternalEvent, type VoiceFlags, type VoiceFlagsEntry } from "@spell-coven/common";
import { GUILD_ID, connect, events, postEvents, uniqueId, voiceJoined, voiceLeft } from "./helpers.ts";

const ch = (n: number) => `42000000000000000${n}`;
const user = (n: number) => `32000000000000${String(n).padStart(4, "0")}`;
const hub = () => env.GUILD_HUB.getByName(GUILD_ID);
const NONE: VoiceFlags = { selfMute: false, selfDeaf: false, serverMute: false, serverDeaf: false };

function voiceFlags(userId: string, channelId: string, flags: Partial<VoiceFlags>): InternalEvent {
  return { id: uniqueId("v"), guildId: GUILD_ID, event: "voice.flags", payload: { guildId: GUILD_ID, channelId, userId, ...NONE, ...flags } };
}

/** The flags auth.ok gives for `userId` (undefined: none set). */
const flagsIn = (ok: AuthOk, userId: string) => ok.voiceFlags?.find((f) => f.userId === userId);

describe("voice flags in the hub", () => {
  it("publishes each change once, lists the flagged in auth.ok, and forgets them when the user leaves", async () => {
    const watcher = await connect({ userId: user(90) });
    await postEvents([voiceJoined(user(1), ch(1)), voiceFlags(user(1), ch(1), { selfMute: true })]);
    await postEvents([voiceFlags(user(1), ch(1), { selfMute: true })]); // a repeat: nothing new
    await postEvents([voiceFlags(user(1), ch(1), { selfMute: true, serverDeaf: true })]);
    const deafened = await watcher.next((m) => m.event === "voice.flags" && m.payload.serverDeaf);
    const mine = events(watcher).filter((m) => m.payload.userId === user(1));
    expect(mine.map((m) => m.event)).toEqual(["voice.joined", "voice.flags", "voice.flags"]);
    expect(mine[1].payload).toEqual({ guildId: GUILD_ID, channelId: ch(1), userId: user(1), ...NONE, selfMute: true });
    expect(EventEnvelope.safeParse(deafened).success).toBe(true);

    const fresh = await connect({ userId: user(91) });
    expect(AuthOk.safeParse(fresh.ok).success).toBe(true);
    expect(fresh.ok.presence[ch(1)]).toContain(user(1)); // presence as it always was
    expect(flagsIn(fresh.ok, user(1))).toEqual({ userId: user(1), ...NONE, selfMute: true, serverDeaf: true });

    await postEvents([voiceLeft(user(1), ch(1))]);
    await watcher.next((m) => m.event === "voice.left" && m.payload.userId === user(1));
    const after = await connect({ userId: user(91) });
    expect(flagsIn(after.ok, user(1))).toBeUndefined();
    // Back in voice: no flags until gateway-node says so.
    await postEvents([voiceJoined(user(1), ch(1))]);
    expect(flagsIn((await connect({ userId: user(91) })).ok, user(1))).toBeUndefined();
    expect(events(watcher).filter((m) => m.event === "voice.flags" && m.payload.userId === user(1))).toHaveLength(2);
  });

  it("flags for someone the hub had elsewhere (a lost event) move them there first", async () => {
    await postEvents([voiceJoined(user(2), ch(2))]);
    const c = await connect();
    await postEvents([voiceFlags(user(2), ch(3), { selfDeaf: true })]);
    await c.next((m) => m.event === "voice.flags" && m.payload.userId === user(2));
    expect(events(c).map((m) => `${m.event}:${m.payload.channelId}`)).toEqual([`voice.left:${ch(2)}`, `voice.joined:${ch(3)}`, `voice.flags:${ch(3)}`]);
  });

  it("a resume replays the flags missed; an evicted hub still has them", async () => {
    await postEvents([voiceJoined(user(3), ch(4))]);
    const first = await connect();
    first.ws.close(1000);
    await first.closed;
    await postEvents([voiceFlags(user(3), ch(4), { serverMute: true })]);
    const again = await connect({ resume: { seq: first.ok.seq, epoch: first.ok.epoch } });
    expect(again.ok.resumed).toBe(true);
    const replayed = await again.next((m) => m.event === "voice.flags");
    expect(replayed).toMatchObject({ seq: first.ok.seq + 1, payload: { userId: user(3), serverMute: true } });

    again.ws.close(1000);
    await evictDurableObject(hub());
    const restarted = await connect();
    expect(flagsIn(restarted.ok, user(3))).toEqual({ userId: user(3), ...NONE, serverMute: true });
  });

  it("a snapshot with flags sets them (publishing only the changes); one without leaves them be", async () => {
    await postEvents([voiceJoined(user(4), ch(5)), voiceFlags(user(4), ch(5), { selfMute: true }), voiceJoined(user(5), ch(5))]);
    const c = await connect();
    const first = c.ok as AuthOk;
    const states = Object.entries(first.presence).flatMap(([channelId, users]) => users.map((userId) => ({ userId, channelId })));
    const others = (first.voiceFlags ?? []).filter((f) => f.userId !== user(4) && f.userId !== user(5));
    const snapshot = (voiceFlags?: VoiceFlagsEntry[]): InternalEvent => ({
      id: uniqueId("snap"),
      guildId: GUILD_ID,
      event: "presence.snapshot",
      payload: { guildId: GUILD_ID, voiceStates: states, ...(voiceFlags ? { voiceFlags } : {}) },
    });
    // Hand-made (no voiceFlags, as post-event sends it): nothing changes.
    await postEvents([snapshot()]);
    expect(flagsIn((await connect()).ok, user(4))).toMatchObject({ selfMute: true });
    // gateway-node's, after a new session: user 4 unmuted meanwhile, user 5 was deafened.
    await postEvents([snapshot([...others, { userId: user(5), ...NONE, selfDeaf: true }])]);
    await c.next((m) => m.event === "voice.flags" && m.payload.userId === user(5));
    expect(
      events(c)
        .filter((m) => m.event === "voice.flags")
        .map((m) => `${m.payload.userId}:${m.payload.selfMute}:${m.payload.selfDeaf}`),
    ).toEqual([`${user(4)}:false:false`, `${user(5)}:false:true`]);
    const ok = (await connect()).ok;
    expect(flagsIn(ok, user(4))).toBeUndefined();
    expect(flagsIn(ok, user(5))).toMatchObject({ selfDeaf: true });
  });

  it("refuses a flags event that does not say every flag, naming the field", async () => {
    const bad = voiceFlags(user(6), ch(6), {}) as { payload: Record<string, unknown> };
    delete bad.payload.serverDeaf;
    const res = await postEvents([bad]);
    expect(res.status).toBe(400);
    const body = await res.json<any>();
    expect(body.error.code).toBe("VALIDATION_FAILED");
    expect(body.error.details.map((d: { path: string }) => d.path)).toContain("events.0.payload.serverDeaf");
  });
});
