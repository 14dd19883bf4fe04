/**
 * Mute and deafen reach the hub: self mute / deafen and a moderator's server mute / deafen (the
 * REST Modify Guild Member call) become voice.flags, and a fresh session's snapshot restores them.
 * Driven by the simulator, through a real gateway session.
 */
import { afterEach, describe, expect, it } from "vitest";
import { PermissionFlagsBits } from "discord-api-types/v10";
import { DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { allReady, startHarness, until, type Harness } from "./helpers/harness.ts";

const G = DEMO_GUILD_ID;
const { alice, bob } = DEMO_USERS;
let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

/** Modify Guild Member as the bot (the way a moderator's client or the site would server-mute). */
async function patchMember(harness: Harness, userId: string, body: object): Promise<Response> {
  return fetch(`${harness.sim.apiBase}/guilds/${G}/members/${userId}`, {
    method: "PATCH",
    headers: { Authorization: `Bot ${harness.sim.botToken}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

const flagsEvents = (harness: Harness) => harness.hub.ofType("voice.flags").map((e) => e.payload);

describe("voice flags against the simulator", () => {
  it("self and server mute / deafen become voice.flags; a re-identify's snapshot carries who is still flagged", async () => {
    h = await startHarness({ beforeStart: (sim) => sim.joinVoice(G, bob, DEMO_CHANNELS.table1) });
    await until(() => allReady(h!), 8000, "shard ready");
    await h.hub.waitFor(() => h!.hub.ofType("presence.snapshot").length === 1, 8000, "snapshot");
    expect(h.hub.ofType("presence.snapshot")[0]!.payload.voiceFlags).toEqual([]);

    h.sim.joinVoice(G, alice, DEMO_CHANNELS.table1);
    h.sim.setVoiceFlags(G, alice, { selfMute: true });
    const muted = await patchMember(h, bob, { mute: true, deaf: true });
    expect(muted.status).toBe(200);
    expect(await muted.json()).toMatchObject({ mute: true, deaf: true });
    // Setting what is already set changes nothing, so Discord sends nothing and neither do we.
    expect((await patchMember(h, bob, { mute: true })).status).toBe(200);
    await h.hub.waitFor(() => flagsEvents(h!).length === 2, 5000, "two flags events");
    const none = { guildId: G, channelId: DEMO_CHANNELS.table1, selfMute: false, selfDeaf: false, serverMute: false, serverDeaf: false };
    expect(flagsEvents(h)).toEqual([
      { ...none, userId: alice, selfMute: true },
      { ...none, userId: bob, serverMute: true, serverDeaf: true },
    ]);

    // A new session (op 9, not resumable): the snapshot says who is still muted, from GUILD_CREATE.
    h.sim.sendInvalidSession(false);
    await h.hub.waitFor(() => h!.hub.ofType("presence.snapshot").length === 2, 8000, "second snapshot");
    const flags = h.hub.ofType("presence.snapshot")[1]!.payload.voiceFlags;
    expect([...(flags ?? [])].sort((a, b) => a.userId.localeCompare(b.userId))).toEqual(
      [
        { userId: alice, selfMute: true, selfDeaf: false, serverMute: false, serverDeaf: false },
        { userId: bob, selfMute: false, selfDeaf: false, serverMute: true, serverDeaf: true },
      ].sort((a, b) => a.userId.localeCompare(b.userId)),
    );

    // Unmuted by the moderator: one more flags event, every id unique.
    expect((await patchMember(h, bob, { mute: false, deaf: false })).status).toBe(200);
    await h.hub.waitFor(() => flagsEvents(h!).length === 3, 5000, "unmute");
    expect(flagsEvents(h)[2]).toEqual({ ...none, userId: bob });
    const ids = h.hub.events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("the simulator refuses a server mute for someone not in voice, or without Mute Members, as Discord does", async () => {
    h = await startHarness();
    await until(() => allReady(h!), 8000, "shard ready");
    const away = await patchMember(h, alice, { mute: true });
    expect(away.status).toBe(400);
    expect(await away.json()).toMatchObject({ code: 40032 });
    h.sim.joinVoice(G, alice, DEMO_CHANNELS.lobby);
    h.sim.denyBotPermissions(G, PermissionFlagsBits.MuteMembers);
    expect((await patchMember(h, alice, { mute: true })).status).toBe(403);
    expect((await patchMember(h, alice, { nick: "x" })).status).toBe(400);
    expect(h.sim.voiceStates(G).find((v) => v.user_id === alice)).toMatchObject({ mute: false, deaf: false });
  });
});
