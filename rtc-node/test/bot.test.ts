/** The table bot through rtc-node's signed control API: called, speaking signals, cues, BOT_BUSY, leaving by itself. */
import { afterEach, describe, expect, it } from "vitest";
import { BOT_USER_ID, DEMO_CHANNELS, DEMO_GUILD_ID, DEMO_USERS } from "@spell-coven/simulator";
import { signHubRequest } from "@spell-coven/common";
import { startRtcNode, type RtcNodeHandle } from "../src/service.ts";
import { botChannel, closeTo, LINK_TOKEN, startRig, testLog, until, type VoiceRig } from "./helpers.ts";
import { SignalsHub } from "./signals-hub.ts";

let rig: VoiceRig | null = null;
let hub: SignalsHub | null = null;
let rtc: RtcNodeHandle | null = null;
afterEach(async () => {
  await rtc?.stop();
  await hub?.close();
  await rig?.close();
  rig = hub = rtc = null;
});

async function start(emptyGraceMs = 400) {
  rig = await startRig();
  hub = await new SignalsHub().start();
  rtc = await startRtcNode(
    {
      gatewayWsUrl: rig.linkUrl,
      linkToken: LINK_TOKEN,
      signalsEndpoint: hub.url,
      hubSecret: hub.secret,
      logLevel: "WARN",
      healthPort: 0,
      healthHost: "127.0.0.1",
      controlPort: 0,
      controlHost: "127.0.0.1",
      emptyGraceMs,
      hubTimeoutMs: 2000,
    },
    { log: testLog("rtc-node") },
  );
  await until(() => rtc!.link.available, 5000, "rtc-node's link");
  return { sim: rig.sim, hub, rtc };
}

async function call(path: string, body: unknown, secret = hub!.secret): Promise<{ status: number; json: any }> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const res = await fetch(`http://127.0.0.1:${rtc!.controlPort}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(await signHubRequest(secret, text)) },
    body: text,
  });
  return { status: res.status, json: await res.json() };
}

describe("table bot", () => {
  it("comes when called, reports who speaks (with a level, a few Hz at most), plays a cue, refuses a second table with BOT_BUSY, and goes when sent away", async () => {
    const { sim, hub, rtc } = await start();
    await sim.personJoin(DEMO_GUILD_ID, DEMO_USERS.alice, DEMO_CHANNELS.table1);
    const joined = await call("/bot/join", { guildId: DEMO_GUILD_ID, channelId: DEMO_CHANNELS.table1, requestedBy: DEMO_USERS.alice });
    expect(joined.status).toBe(200);
    expect(joined.json.bot).toMatchObject({ channelId: DEMO_CHANNELS.table1, status: "ready" });
    expect(botChannel(sim)).toBe(DEMO_CHANNELS.table1);
    await until(() => rtc.pool.list()[0]?.dave.privacyCode, 8000, "DAVE up");

    sim.personSpeak(DEMO_USERS.alice, 440);
    await until(
      () => hub.received.some((s) => s.userId === DEMO_USERS.alice && s.speaking && s.level !== undefined && s.level > 0.1),
      8000,
      "a level for alice",
    );
    await new Promise((r) => setTimeout(r, 1000));
    const levels = hub.received.filter((s) => s.userId === DEMO_USERS.alice && s.level !== undefined);
    const span = (levels.at(-1)!.at - levels[0]!.at) / 1000;
    expect(levels.length / Math.max(span, 0.5)).toBeLessThanOrEqual(6);
    sim.personSilence(DEMO_USERS.alice);
    await until(() => hub.received.some((s) => s.userId === DEMO_USERS.alice && !s.speaking), 8000, "alice stopped");
    expect(hub.received.every((s) => s.channelId === DEMO_CHANNELS.table1)).toBe(true);
    expect(hub.rejected).toBe(0);

    sim.personResetHeard(DEMO_USERS.alice);
    const cue = await call("/bot/cue", { guildId: DEMO_GUILD_ID, channelId: DEMO_CHANNELS.table1, cue: "room_closing" });
    expect(cue).toMatchObject({ status: 200, json: { played: "room_closing" } });
    const heard = sim.personStatus(DEMO_USERS.alice).heard.speakers[BOT_USER_ID];
    expect(heard?.audibleFrames).toBeGreaterThanOrEqual(20);
    expect(closeTo(heard!.frequencyHz, 660)).toBe(true);

    const busy = await call("/bot/join", { guildId: DEMO_GUILD_ID, channelId: DEMO_CHANNELS.table2 });
    expect(busy.status).toBe(409);
    expect(busy.json.error).toMatchObject({ code: "BOT_BUSY", busyChannelIds: [DEMO_CHANNELS.table1] });
    expect(busy.json.error.message).toContain(DEMO_CHANNELS.table1);

    const health = rtc.health();
    expect(health).toMatchObject({ status: "ok", link: { state: "open" }, voice: [{ channelId: DEMO_CHANNELS.table1, status: "ready" }] });
    const metrics = await (await fetch(`http://127.0.0.1:${rtc.healthPort}/metrics`)).text();
    expect(metrics).toMatch(/rtc_link_up 1/);
    expect(metrics).toMatch(/rtc_audio_packets_received_total [1-9]/);

    expect((await call("/bot/leave", { guildId: DEMO_GUILD_ID, channelId: DEMO_CHANNELS.table1 })).status).toBe(200);
    await until(() => botChannel(sim) === null, 5000, "the bot gone");
    expect((await call("/bot/leave", { guildId: DEMO_GUILD_ID, channelId: DEMO_CHANNELS.table1 })).json.error.code).toBe("BOT_NOT_AT_TABLE");
  });

  it("leaves by itself when no one is left in the channel", async () => {
    const { sim, rtc } = await start(300);
    await sim.personJoin(DEMO_GUILD_ID, DEMO_USERS.bob, DEMO_CHANNELS.table2);
    expect((await call("/bot/join", { guildId: DEMO_GUILD_ID, channelId: DEMO_CHANNELS.table2 })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 700));
    expect(botChannel(sim)).toBe(DEMO_CHANNELS.table2); // bob is there: it stays
    sim.personLeave(DEMO_USERS.bob);
    await until(() => botChannel(sim) === null, 5000, "the bot left the empty table");
    expect(rtc.pool.departures.at(-1)).toMatchObject({ reason: "empty", channelId: DEMO_CHANNELS.table2 });
  });

  it("bad signatures, malformed bodies and unknown cues get clear errors", async () => {
    await start();
    const wrong = await call("/bot/join", { guildId: DEMO_GUILD_ID, channelId: DEMO_CHANNELS.table1 }, "another-secret-another-secret-0123456789");
    expect(wrong).toMatchObject({ status: 401, json: { error: { code: "BOT_UNAUTHORIZED", reason: "SIGNATURE_INVALID" } } });
    const unsigned = await fetch(`http://127.0.0.1:${rtc!.controlPort}/bot/join`, { method: "POST", body: "{}" });
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as any).error.reason).toBe("SIGNATURE_MISSING");
    expect((await call("/bot/join", "{nope")).json.error).toMatchObject({ code: "BOT_MALFORMED_REQUEST", message: "the body is not JSON" });
    const bad = await call("/bot/join", { guildId: "x", channelId: DEMO_CHANNELS.table1 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/^guildId/);
    const cue = await call("/bot/cue", { guildId: DEMO_GUILD_ID, channelId: DEMO_CHANNELS.table1, cue: "airhorn" });
    expect(cue.status).toBe(400);
    expect(cue.json.error.message).toMatch(/^cue/);
  });
});
