import { describe, expect, inject, it } from "vitest";
import { runDurableObjectAlarm } from "cloudflare:test";
import { postEvents, voiceJoined } from "./helpers.ts";
import { ageRoom, api, createRoom, errorOf, hub, newPlayer } from "./rooms-helpers.ts";

/** The bot's user id, read from its token as the Worker does. */
const BOT_USER_ID = atob(inject("botToken").split(".")[0]!);

async function rtcCalls(): Promise<{ path: string; channelId: string; cue?: string }[]> {
  return (await fetch(`${inject("rtcNodeUrl")}/calls`)).json();
}

describe("the table bot route", () => {
  it("a seated player calls the bot, asks for a cue and sends it away; others may not; a second table gets BOT_BUSY naming the first", async () => {
    const owner = await newPlayer();
    const room = await (await createRoom(owner, { name: "Bot Table" })).json<any>();
    const outsider = await newPlayer();
    const refused = await api("POST", `/api/rooms/${room.channelId}/bot`, outsider);
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).code).toBe("NOT_ROOM_MEMBER");

    const called = await api("POST", `/api/rooms/${room.channelId}/bot`, owner);
    expect(called.status).toBe(200);
    expect(await called.json<any>()).toMatchObject({ bot: { channelId: room.channelId } });
    const cue = await api("POST", `/api/rooms/${room.channelId}/bot/cue`, owner, { cue: "chime" });
    expect(await cue.json<any>()).toEqual({ played: "chime" });
    expect((await errorOf(await api("POST", `/api/rooms/${room.channelId}/bot/cue`, owner, { cue: "airhorn" }))).code).toBe("VALIDATION_FAILED");

    const other = await newPlayer();
    const room2 = await (await createRoom(other, { name: "Bot Table 2" })).json<any>();
    const busy = await api("POST", `/api/rooms/${room2.channelId}/bot`, other);
    expect(busy.status).toBe(409);
    const err = await errorOf(busy);
    expect(err.code).toBe("BOT_BUSY");
    expect(err.details).toEqual({ busyChannelIds: [room.channelId] });
    expect(err.message).toContain(room.channelId);

    expect((await api("DELETE", `/api/rooms/${room.channelId}/bot`, owner)).status).toBe(200);
    expect((await errorOf(await api("DELETE", `/api/rooms/${room.channelId}/bot`, owner))).code).toBe("BOT_NOT_AT_TABLE");
    expect((await api("POST", `/api/rooms/${room2.channelId}/bot`, other)).status).toBe(200);
    expect((await api("DELETE", `/api/rooms/${room2.channelId}/bot`, other)).status).toBe(200);
  });

  it("when a room is deleted the hub sends the bot away from that table (signed)", async () => {
    const owner = await newPlayer();
    const room = await (await createRoom(owner, { name: "Ending Table" })).json<any>();
    expect((await api("POST", `/api/rooms/${room.channelId}/bot`, owner)).status).toBe(200);
    expect((await api("DELETE", `/api/end-room/${room.channelId}`, owner)).status).toBe(200);
    const deadline = Date.now() + 5000;
    let calls: { path: string; channelId: string }[] = [];
    while (Date.now() < deadline) {
      calls = await (await fetch(`${inject("rtcNodeUrl")}/calls`)).json();
      if (calls.some((c) => c.path === "/bot/leave" && c.channelId === room.channelId)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(calls).toContainEqual({ path: "/bot/leave", channelId: room.channelId });
  });

  it("when a room's closing warning starts, the hub has the bot play the room-closing cue at that table", async () => {
    const owner = await newPlayer();
    const room = await (await createRoom(owner, { name: "Closing Table" })).json<any>();
    expect((await api("POST", `/api/rooms/${room.channelId}/bot`, owner)).status).toBe(200);
    // rtc-node's bot joins the channel; gateway-node reports it like any voice join.
    expect((await postEvents([voiceJoined(BOT_USER_ID, room.channelId)])).status).toBe(200);
    await ageRoom(room.channelId, { idleFor: 3600 * 1000 + 1000 });
    await runDurableObjectAlarm(hub());
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !(await rtcCalls()).some((c) => c.path === "/bot/cue" && c.channelId === room.channelId))
      await new Promise((r) => setTimeout(r, 50));
    expect(await rtcCalls()).toContainEqual({ path: "/bot/cue", channelId: room.channelId, cue: "room_closing" });
    expect((await api("DELETE", `/api/rooms/${room.channelId}/bot`, owner)).status).toBe(200);
  });
});
